using System.Diagnostics;
using System.Text.Json;

namespace ILGpuSat.Tools.Bench;

/// <summary>
/// Runs one of the PyTorch reference scripts shipped beside the program (Tools/Bench/*.py) with the first
/// Python that has torch (<see cref="PyTorchReference.Candidates"/>), on the CPU path that matches .NET's
/// (<see cref="PyTorchReference.MatchingTorchIsa"/>), and parses the one JSON object it prints.
/// </summary>
public static class PyTorchScript
{
    /// <summary>The script's JSON, or null with the reason (no Python with torch, the script failed).</summary>
    public static JsonDocument? TryRun(string scriptName, IEnumerable<string> arguments, string device, out string? whyNot)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Bench", scriptName);
        if (!File.Exists(script)) { whyNot = $"script not found: {script}"; return null; }
        var args = arguments.ToList();
        whyNot = "no Python with torch found (set ILGPUSAT_PYTHON, or apt-get install python3-torch)";
        foreach (var python in PyTorchReference.Candidates())
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(script);
            foreach (var a in args) psi.ArgumentList.Add(a);
            if (device == "cpu")
                foreach (var (name, value) in PyTorchReference.MatchingTorchIsa())
                    if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) psi.Environment[name] = value;
            Process? p;
            try { p = Process.Start(psi); }
            catch (System.ComponentModel.Win32Exception) { continue; }
            if (p is null) continue;
            var stderrTask = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string stderr = stderrTask.Result;
            if (p.ExitCode != 0)
            {
                var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                whyNot = $"{python} {scriptName} failed: {(lines.Length == 0 ? "(no output)" : lines[^1])}";
                if (stderr.Contains("No module named 'torch'")) continue;
                return null;
            }
            try
            {
                whyNot = null;
                return JsonDocument.Parse(stdout);
            }
            catch (JsonException e)
            {
                whyNot = $"{python} {scriptName} printed no JSON: {e.Message}";
                return null;
            }
        }
        return null;
    }
}
