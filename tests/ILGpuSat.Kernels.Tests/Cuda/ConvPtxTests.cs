using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Compiles the convolution kernels for sm_90 (PTX ISA 7.8, as a CUDA 11.8+ driver JITs them) and assembles
/// them with ptxas: they must assemble, stay within 48 KB of static shared memory, and the hot GEMM must not
/// spill or use a stack frame. Without ptxas the test is ignored, except on CI (CI=true) where it fails.
/// </summary>
[TestFixture]
public class ConvPtxTests
{
    public static IEnumerable<TestCaseData> Kernels() =>
        typeof(CudaBackend).Assembly.GetTypes()
            .Where(t => t.Namespace == "ILGpuSat.Kernels.Cuda.Conv")
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(m => m.GetCustomAttribute<CudaKernelAttribute>() is not null)
            .Select(m => new TestCaseData(m).SetArgDisplayNames($"{m.DeclaringType!.Name}.{m.Name}"));

    [Test]
    public void EveryConvKernelIsCovered() => Assert.That(Kernels().Count(), Is.GreaterThanOrEqualTo(3));

    [TestCaseSource(nameof(Kernels))]
    public void AssemblesForSm90WithoutSpills(MethodInfo kernel)
    {
        string ptxas = FindPtxas() ?? (Environment.GetEnvironmentVariable("CI") == "true"
            ? throw new AssertionException("ptxas not found (set PTXAS or put it at .tools/ptxas); required on CI.")
            : IgnoreMissing());
        var attr = kernel.GetCustomAttribute<CudaKernelAttribute>()!;

        using var context = Context.Create(b => b.Math(MathMode.Fast32BitOnly).Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, null);
        var entry = attr.Grouping == KernelGrouping.Explicit
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, default);

        string dir = Directory.CreateTempSubdirectory("ilgpusat-convptx-").FullName;
        string report;
        int exitCode;
        try
        {
            string ptx = Path.Combine(dir, $"{kernel.DeclaringType!.Name}.{kernel.Name}.ptx");
            File.WriteAllText(ptx, compiled.PTXAssembly);
            var psi = new ProcessStartInfo(ptxas, ["-arch=sm_90", "-v", ptx, "-o", ptx + ".cubin"])
            {
                RedirectStandardError = true, RedirectStandardOutput = true,
            };
            using var proc = Process.Start(psi)!;
            report = proc.StandardError.ReadToEnd() + proc.StandardOutput.ReadToEnd();
            proc.WaitForExit();
            exitCode = proc.ExitCode;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        TestContext.Out.WriteLine(report);
        Assert.That(exitCode, Is.Zero, $"ptxas failed:\n{report}");

        int Field(string pattern) => Regex.Match(report, pattern) is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
        int registers = Field(@"Used (\d+) registers");
        int smem = Field(@"(\d+) bytes smem");
        int spillStores = Field(@"(\d+) bytes spill stores");
        int spillLoads = Field(@"(\d+) bytes spill loads");
        int stack = Field(@"(\d+) bytes stack frame");
        Assert.That(registers, Is.InRange(1, 255), "registers");
        Assert.That(smem, Is.LessThanOrEqualTo(48 * 1024), "static shared memory");
        if (kernel.DeclaringType!.Name == "ConvGemmKernel")
            // 128 threads x <=128 registers keeps four blocks (16 warps) per SM; more halves the latency hiding.
            Assert.That(registers, Is.LessThanOrEqualTo(128), "registers of the conv GEMM");
        if (attr.MustNotSpill)
        {
            Assert.That(spillStores + spillLoads, Is.Zero, "spills");
            Assert.That(stack, Is.Zero, "stack frame (local memory)");
        }
    }

    private static string IgnoreMissing()
    {
        Assert.Ignore("ptxas not found (set PTXAS or put it at .tools/ptxas in the repository).");
        return "";
    }

    private static string? FindPtxas([CallerFilePath] string source = "")
    {
        var env = Environment.GetEnvironmentVariable("PTXAS");
        if (!string.IsNullOrEmpty(env) && File.Exists(env)) return env;
        for (var dir = Path.GetDirectoryName(source); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, ".tools", "ptxas");
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, "ptxas");
            if (dir.Length > 0 && File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
