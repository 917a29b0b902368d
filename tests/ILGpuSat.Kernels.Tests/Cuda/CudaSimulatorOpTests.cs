using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Every non-convolution op of the CUDA backend, run on ILGPU's CPU accelerator (the same kernels that
/// are compiled to PTX), against the CPU backend at the self-test's tolerance. Convolutions have their own
/// tests (Conv*).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CudaSimulatorOpTests
{
    private CudaBackend _sim = null!;
    private CpuBackend _cpu = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _sim = Backends.CreateCudaSimulator();
        _cpu = new CpuBackend { Threads = 1 };
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _sim.Dispose();
        _cpu.Dispose();
    }

    private static IEnumerable<TestCaseData> OpCases() =>
        from shape in KernelSelfTest.SmallShapes
        from op in KernelSelfTest.OpNames
        where !op.StartsWith("conv", StringComparison.Ordinal) && KernelSelfTest.Applies(op, shape)
        select new TestCaseData(op, shape.N, shape.C, shape.H, shape.W).SetName($"{op} {shape}");

    [TestCaseSource(nameof(OpCases))]
    public void MatchesCpuBackend(string op, int n, int c, int h, int w)
    {
        var row = KernelSelfTest.RunOp(op, _sim, _cpu, new SelfTestShape(n, c, h, w));
        Assert.That(row, Is.Not.Null);
        Assert.That(row!.Error, Is.Null, row.Error);
        Assert.That(row.MaxRelError, Is.LessThanOrEqualTo(KernelSelfTest.Tolerance), $"{op} [{n},{c},{h},{w}]");
    }
}
