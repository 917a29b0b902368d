using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>
/// The CPU kernels choose their vector path when the JIT compiles them (Vector512 hardware or not),
/// so one process can only test one path. On an AVX-512 machine this runs every CPU test a second
/// time in a child process with DOTNET_EnableAVX512=0, where the kernels take their AVX2 paths;
/// on an AVX2-only machine the normal run already is that run. (~10 s: the CPU tests use tiny shapes.)
/// </summary>
public class Avx2PathTests
{
    private const string ChildMarker = "ILGPUSAT_AVX2_CHILD";

    private static bool IsChild => Environment.GetEnvironmentVariable(ChildMarker) == "1";

    [Test]
    public void CpuTestsPassOnTheAvx2Path()
    {
        if (IsChild) Assert.Ignore("this is the AVX2 child run");
        if (!Vector512.IsHardwareAccelerated) Assert.Ignore("AVX-512 is off here: this whole run is on the AVX2 path");
        if (!Avx2.IsSupported || !Fma.IsSupported) Assert.Ignore("the CPU has no AVX2 + FMA");

        string assembly = typeof(Avx2PathTests).Assembly.Location;
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "test", assembly, "--filter", "FullyQualifiedName~ILGpuSat.Kernels.Tests.Cpu." })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_EnableAVX512"] = "0";
        psi.Environment[ChildMarker] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.That(p.WaitForExit(TimeSpan.FromMinutes(5)), "the AVX2 child run did not finish in 5 minutes");
        string output = stdout + stderr.Result;
        Assert.That(p.ExitCode, Is.EqualTo(0), "CPU tests on the AVX2 path (DOTNET_EnableAVX512=0):\n" + Tail(output));
        Assert.That(output, Does.Match(@"Passed:\s+[1-9]"), "the child ran no test:\n" + Tail(output));
    }

    /// <summary>Fails the child run if DOTNET_EnableAVX512=0 did not take effect, so the run above tests what it says.</summary>
    [Test]
    public void ChildRunsWithoutAvx512()
    {
        if (!IsChild) Assert.Ignore("only meaningful in the AVX2 child run");
        Assert.That(Vector512.IsHardwareAccelerated, Is.False);
        Assert.That(Avx2.IsSupported && Fma.IsSupported, Is.True);
    }

    private static string Tail(string s) => s.Length <= 6000 ? s : s[^6000..];
}
