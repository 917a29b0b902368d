using System.Reflection;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Every registered CUDA kernel (ours and the convolutions) compiles to PTX for sm_90 / ISA 7.8 and
/// assembles with ptxas; hot kernels marked MustNotSpill must not spill. Prints the resource table.
/// Without ptxas the assembly test is ignored, except on CI (CI=true) where it fails.
/// </summary>
[TestFixture]
public sealed class CudaPtxTests
{
    [Test]
    public void EveryKernelMethodIsRegistered()
    {
        // A kernel that lacks [CudaKernel] would silently escape the PTX check: every public static void
        // method of the kernel classes that takes an ArrayView is a kernel and must carry the attribute.
        var missing = typeof(CudaBackend).Assembly.GetTypes()
            .Where(t => t.Namespace == "ILGpuSat.Kernels.Cuda.Ops")
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void) && m.GetParameters().Any(p => p.ParameterType == typeof(ArrayView<float>)))
            .Where(m => m.GetCustomAttribute<CudaKernelAttribute>() is null)
            .Select(PtxExport.KernelName)
            .ToList();
        Assert.That(missing, Is.Empty, "kernels without [CudaKernel]");
        Assert.That(PtxExport.RegisteredKernels(), Has.Count.GreaterThanOrEqualTo(30));
    }

    [Test]
    public void AllKernelsAssembleForSm90() => AssembleAll();

    [Test]
    public void KernelsThatReduceDataWithMaxLetNaNThrough()
    {
        // PTX max.f32 / max.ftz.f32 return the other operand when one is NaN; these kernels take the
        // maximum of data (not of indices) and must use NaNMath instead, so a NaN reaches the loss.
        string[] dataMax = { "LayoutKernels.MaxPool2x2", "LayoutKernels.MaxPool2x2Backward", "SoftmaxKernels.Softmax",
                             "SoftmaxKernels.SoftmaxBackward", "SoftmaxKernels.CrossEntropyPartials", "SoftmaxKernels.CrossEntropyBackward",
                             "ReductionKernels.BatchNormStatsFinal" };
        var kernels = PtxExport.CompileAll().Where(k => dataMax.Contains(k.Name)).ToList();
        Assert.That(kernels.Select(k => k.Name), Is.EquivalentTo(dataMax));
        var floatMax = new System.Text.RegularExpressions.Regex(@"\b(max|min)(\.ftz)?\.f32\b");
        Assert.That(kernels.Where(k => floatMax.IsMatch(k.Ptx)).Select(k => k.Name), Is.Empty, "float max/min instructions drop NaN");
    }

    [Test]
    public void NoImplicitlyGroupedKernelBranchesUniformlyOnAPredicate()
    {
        // "@%p bra.uni" promises every thread of the warp takes the same way. In an implicitly grouped
        // kernel the predicates come from the thread index (grid-stride exits, bounds, arg-max choices), so
        // such a branch is undefined behaviour on hardware; ILGPU's O2 uniformity analysis emitted 168 of them.
        var uniform = new System.Text.RegularExpressions.Regex(@"@!?%p\d+\s+bra\.uni");
        var offenders = PtxExport.CompileAll()
            .Where(k => k.Grouping == KernelGrouping.Implicit)
            .Select(k => (k.Name, Count: uniform.Matches(k.Ptx).Count))
            .Where(x => x.Count > 0)
            .Select(x => $"{x.Name}: {x.Count}")
            .ToList();
        Assert.That(offenders, Is.Empty, "predicated bra.uni in implicitly grouped kernels");
        Assert.That(PtxExport.RegisteredKernels().Count(m => m.GetCustomAttributes(typeof(CudaKernelAttribute), false)
            .Cast<CudaKernelAttribute>().Single().Grouping == KernelGrouping.Implicit), Is.GreaterThanOrEqualTo(30), "the check sees the implicit kernels");
    }

    private static void AssembleAll([CallerFilePath] string source = "")
    {
        var kernels = PtxExport.CompileAll();
        foreach (var k in kernels)
        {
            // ILGPU 1.5.3 writes ".target sm_80" for every architecture from sm_80 up (it uses no newer
            // instructions); ptxas -arch=sm_90 below is what turns it into Hopper code, as the driver's JIT would.
            Assert.That(k.Ptx, Does.Contain(".version 7.8"), k.Name);
            Assert.That(k.Ptx, Does.Match(@"\.target sm_(8\d|90)\b"), k.Name);
        }

        string? ptxas = Ptxas.Find(Path.GetDirectoryName(source));
        if (ptxas is null)
        {
            const string why = "ptxas not found (set PTXAS, or put it at .tools/ptxas in the repository)";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(why + "; required on CI.");
            Assert.Ignore(why + ".");
        }

        var reports = kernels.Select(k => (Kernel: k, Report: Ptxas.Assemble(ptxas!, k))).ToList();
        TestContext.Out.WriteLine(Ptxas.Table(reports.Select(r => r.Report)));
        Assert.Multiple(() =>
        {
            foreach (var (k, r) in reports)
            {
                Assert.That(r.Assembled, Is.True, $"{k.Name} failed to assemble:\n{r.Log}");
                Assert.That(r.Registers, Is.InRange(1, 255), $"{k.Name} registers");
                Assert.That(r.SharedBytes, Is.LessThanOrEqualTo(48 * 1024), $"{k.Name} static shared memory");
                if (k.MustNotSpill)
                    Assert.That(r.SpillBytes + r.StackFrameBytes, Is.Zero, $"{k.Name} must not spill:\n{r.Log}");
            }
        });
    }

    [Test]
    public void ParsesPtxasReport()
    {
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'Kernel_GlobalPartials' for 'sm_90'
            ptxas info    : Function properties for Kernel_GlobalPartials
                16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 18 registers, 1024 bytes smem, 400 bytes cmem[0]
            """;
        var r = Ptxas.Parse("k", assembled: true, log);
        Assert.That((r.Registers, r.SharedBytes, r.StackFrameBytes, r.SpillStoreBytes, r.SpillLoadBytes), Is.EqualTo((18, 1024, 16, 8, 12)));
        Assert.That(Ptxas.Parse("k", assembled: false, log).Assembled, Is.False);
    }
}
