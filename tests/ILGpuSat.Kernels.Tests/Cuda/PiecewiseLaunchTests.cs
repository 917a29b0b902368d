using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Tensors past 32-bit indexing go in pieces (CudaBackend.Pieces.cs). The real limit is 2^30 floats; here the
/// simulator's per-launch limit is lowered so every op of the self-test runs cut into pieces on tiny shapes:
/// for each op the limit starts just above one channel plane and doubles while the op refuses it (one image of
/// a convolution or a channel copy, one plane of a resize), so each op runs at the smallest limit it accepts.
/// Every result must match the CPU backend, and every op that can be cut must have been cut.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class PiecewiseLaunchTests
{
    // Never cut: batch norm's training passes and eval backward (per-channel sums over the batch) and copy (one DMA).
    private static readonly HashSet<string> Uncut =
        ["copy", "batch_norm_train", "batch_norm_train_no_running", "batch_norm_train_backward", "batch_norm_eval_backward"];

    private CudaBackend _sim = null!;
    private CpuBackend _cpu = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _sim = Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4); // 128 threads per group, as the convolutions need
        _cpu = new CpuBackend { Threads = 1 };
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _sim.LaunchFloats = CudaBackend.MaxElements;
        _sim.Dispose();
        _cpu.Dispose();
    }

    [TestCase(3, 3, 7, 9)]
    [TestCase(2, 5, 1, 3)] // one image (15 floats) past the limit: softmax alone per image, channel ranges elsewhere
    [TestCase(3, 2, 2, 2)]
    public void EveryOpCutIntoPiecesMatchesTheCpuBackend(int n, int c, int h, int w)
    {
        var shape = new SelfTestShape(n, c, h, w);
        var notCut = new List<string>();
        var failures = new List<string>();
        try
        {
            foreach (var op in KernelSelfTest.OpNames.Where(op => KernelSelfTest.Applies(op, shape)))
            {
                long limit = h * w + 1;
                while (true)
                {
                    _sim.LaunchFloats = limit;
                    long cutBefore = _sim.PiecewiseOps;
                    var row = KernelSelfTest.RunOp(op, _sim, _cpu, shape)!;
                    if (row.Error is { } error && error.Contains("32-bit indexing limit", StringComparison.Ordinal) && limit < (long)n * c * h * w * 64)
                    {
                        limit *= 2; // refused at this limit (one item too large): the next limit may take it
                        continue;
                    }
                    if (row.Error is not null || !(row.MaxRelError <= KernelSelfTest.Tolerance))
                        failures.Add($"{op} at limit {limit}: {row.Error ?? row.MaxRelError.ToString("E2")}");
                    if (_sim.PiecewiseOps == cutBefore) notCut.Add(op);
                    break;
                }
            }
        }
        finally { _sim.LaunchFloats = CudaBackend.MaxElements; }
        Assert.That(failures, Is.Empty);
        Assert.That(notCut.Except(Uncut), Is.Empty, "ops that ran in one launch although the limit was below their tensor");
    }

    [Test]
    public void OneImageOfAConvolutionPastTheLimitIsRefusedNamingIt()
    {
        var shape = new SelfTestShape(2, 3, 7, 9);
        try
        {
            _sim.LaunchFloats = 64; // below one image (3 x 63 floats)
            var row = KernelSelfTest.RunOp("conv2d", _sim, _cpu, shape)!;
            Assert.That(row.Error, Does.Contain("conv2d").And.Contain("one image").And.Contain("32-bit indexing limit of 64"));
            Assert.That(_sim.Fault, Is.Null, "a refused op leaves the device usable");
        }
        finally { _sim.LaunchFloats = CudaBackend.MaxElements; }
    }

    [Test]
    public void TheLaunchLimitStaysWithinThirtyTwoBitIndexing()
    {
        Assert.That(_sim.LaunchFloats, Is.EqualTo(1L << 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => _sim.LaunchFloats = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => _sim.LaunchFloats = (1L << 30) + 1);
    }
}
