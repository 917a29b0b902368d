using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;

namespace ILGpuSat.Tools.Bench;

/// <summary>
/// Runs Tools/Bench/pytorch_ops.py (shipped beside the program) with a Python that has torch, so
/// each benchmark row can be compared with PyTorch timed on the same machine in the same run.
/// On the CPU PyTorch is held to the instruction set .NET runs (AVX-512, or AVX2 when
/// DOTNET_EnableAVX512=0 or the CPU lacks it) through its own switches, unless they are already set.
/// </summary>
public static class PyTorchReference
{
    /// <param name="AtenIsa">ATen's CPU dispatch level as PyTorch reports it (null on CUDA).</param>
    /// <param name="OneDnnIsa">oneDNN's instruction set, which runs PyTorch's CPU convolutions (null on CUDA).</param>
    public sealed record Result(string TorchVersion, IReadOnlyDictionary<string, (double Ms, string? Form)> Rows,
        string? AtenIsa, string? OneDnnIsa);

    /// <summary>The widest x86 vector path .NET's CPU kernels take in this process.</summary>
    public static string DotNetIsa =>
        Vector512.IsHardwareAccelerated ? "AVX-512"
        : Avx2.IsSupported && Fma.IsSupported ? "AVX2+FMA"
        : Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";

    /// <summary>
    /// PyTorch's switches for the same path: ATen's dispatch (its default on this Debian build is
    /// AVX2 even where AVX-512 exists) and oneDNN's cap (its default is the widest).
    /// </summary>
    internal static IEnumerable<(string Name, string Value)> MatchingTorchIsa()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            yield return ("ATEN_CPU_CAPABILITY", "avx512");
        }
        else if (Avx2.IsSupported)
        {
            yield return ("ATEN_CPU_CAPABILITY", "avx2");
            yield return ("ONEDNN_MAX_CPU_ISA", "AVX2");
        }
        else
        {
            yield return ("ATEN_CPU_CAPABILITY", "default");
            yield return ("ONEDNN_MAX_CPU_ISA", "SSE41");
        }
    }

    /// <summary>The interpreter to use: $ILGPUSAT_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH.</summary>
    public static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("ILGPUSAT_PYTHON");
        if (!string.IsNullOrEmpty(env)) yield return env;
        yield return "/usr/bin/python3";
        yield return "python3";
    }

    /// <summary>Returns null (with the reason) when no Python with torch is available.</summary>
    public static Result? TryRun(string device, int threads, int batch, int size, bool tf32, out string? whyNot, string? only = null)
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
            if (only is not null) { psi.ArgumentList.Add("--only"); psi.ArgumentList.Add(only); }
            if (device == "cpu")
                foreach (var (name, value) in MatchingTorchIsa())
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
            string? Isa(string key) => doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return new Result(doc.RootElement.GetProperty("torch").GetString() ?? "?", rows, Isa("aten_isa"), Isa("onednn_isa"));
        }
        return null;
    }

    private static string LastLine(string s)
    {
        var lines = s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : lines[^1];
    }
}
