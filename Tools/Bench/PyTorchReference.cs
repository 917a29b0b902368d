using System.Globalization;
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

    /// <summary>Runs pytorch_ops.py (<see cref="PyTorchScript"/>); returns null (with the reason) when no Python with torch is available.</summary>
    public static Result? TryRun(string device, int threads, int batch, int size, bool tf32, out string? whyNot, string? only = null)
    {
        var args = new List<string> { "--device", device, "--batch", batch.ToString(CultureInfo.InvariantCulture), "--size", size.ToString(CultureInfo.InvariantCulture) };
        if (threads > 0) args.AddRange(["--threads", threads.ToString(CultureInfo.InvariantCulture)]);
        if (tf32) args.Add("--tf32");
        if (only is not null) args.AddRange(["--only", only]);
        using var doc = PyTorchScript.TryRun("pytorch_ops.py", args, device, out whyNot);
        if (doc is null) return null;
        var rows = new Dictionary<string, (double, string?)>();
        foreach (var r in doc.RootElement.GetProperty("rows").EnumerateArray())
        {
            string? form = r.TryGetProperty("form", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            rows[r.GetProperty("name").GetString()!] = (r.GetProperty("median_ms").GetDouble(), form);
        }
        string? Isa(string key) => doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new Result(doc.RootElement.GetProperty("torch").GetString() ?? "?", rows, Isa("aten_isa"), Isa("onednn_isa"));
    }
}
