using System.Diagnostics;
using System.Text.Json;

namespace ILGpuSat.Tools.Bench;

/// <summary>
/// Runs Tools/Bench/pytorch_ops.py (shipped beside the program) with a Python that has torch, so
/// each benchmark row can be compared with PyTorch timed on the same machine in the same run.
/// </summary>
public static class PyTorchReference
{
    public sealed record Result(string TorchVersion, IReadOnlyDictionary<string, (double Ms, string? Form)> Rows);

    /// <summary>The interpreter to use: $ILGPUSAT_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH.</summary>
    public static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("ILGPUSAT_PYTHON");
        if (!string.IsNullOrEmpty(env)) yield return env;
        yield return "/usr/bin/python3";
        yield return "python3";
    }

    /// <summary>Returns null (with the reason) when no Python with torch is available.</summary>
    public static Result? TryRun(string device, int threads, int batch, int size, bool tf32, out string? whyNot)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Bench", "pytorch_ops.py");
        if (!File.Exists(script)) { whyNot = $"script not found: {script}"; return null; }
        whyNot = "no Python with torch found (set ILGPUSAT_PYTHON, or apt-get install python3-torch)";
        foreach (var python in Candidates())
        {
            var psi = new ProcessStartInfo(python)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { script, "--device", device, "--batch", batch.ToString(), "--size", size.ToString() })
                psi.ArgumentList.Add(a);
            if (threads > 0) { psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add(threads.ToString()); }
            if (tf32) psi.ArgumentList.Add("--tf32");
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
                whyNot = $"{python} {Path.GetFileName(script)} failed: {LastLine(stderr)}";
                if (stderr.Contains("No module named 'torch'")) continue;
                return null;
            }
            using var doc = JsonDocument.Parse(stdout);
            var rows = new Dictionary<string, (double, string?)>();
            foreach (var r in doc.RootElement.GetProperty("rows").EnumerateArray())
            {
                string? form = r.TryGetProperty("form", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                rows[r.GetProperty("name").GetString()!] = (r.GetProperty("median_ms").GetDouble(), form);
            }
            whyNot = null;
            return new Result(doc.RootElement.GetProperty("torch").GetString() ?? "?", rows);
        }
        return null;
    }

    private static string LastLine(string s)
    {
        var lines = s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : lines[^1];
    }
}
