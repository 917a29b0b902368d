using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>The CUDA backend's memory, validation and profiling behaviour (on the simulator).</summary>
[TestFixture]
[NonParallelizable]
public sealed class CudaBackendTests
{
    private CudaBackend _sim = null!;

    [OneTimeSetUp]
    public void SetUp() => _sim = Backends.CreateCudaSimulator();

    [OneTimeTearDown]
    public void TearDown() => _sim.Dispose();

    [Test]
    public void UploadDownloadRoundTripsAndChecksLengths()
    {
        float[] data = [1, -2, 3.5f, float.MaxValue, 0];
        using var b = _sim.Allocate(data.Length);
        _sim.Upload(data, b);
        var back = new float[data.Length];
        _sim.Download(b, back);
        Assert.That(back, Is.EqualTo(data));
        var e = Assert.Throws<ArgumentException>(() => _sim.Download(b, new float[4]))!;
        Assert.That(e.Message, Does.Contain("5").And.Contain("4"));
    }

    [Test]
    public void DisposedBuffersReturnToThePool()
    {
        _sim.TrimPool();
        var first = _sim.Allocate(1000);
        long held = _sim.PooledBytes;
        first.Dispose();
        using var second = _sim.Allocate(990); // same size class
        Assert.That(_sim.PooledBytes, Is.EqualTo(held), "reused, not allocated again");
        using var third = _sim.Allocate(1000);
        Assert.That(_sim.PooledBytes, Is.GreaterThan(held), "the pooled block is in use, so a new one is made");
    }

    [Test]
    public void ZeroLengthBuffersWork()
    {
        using var empty = _sim.Allocate(0);
        _sim.Upload(ReadOnlySpan<float>.Empty, empty);
        _sim.Fill(empty, 1f);
        using var sum = _sim.Allocate(1);
        _sim.Sum(empty, sum);
        var r = new float[1];
        _sim.Download(sum, r);
        Assert.That(r[0], Is.Zero);
    }

    [Test]
    public void ForeignOrDisposedBuffersAreRejectedByName()
    {
        using var cpu = new CpuBackend();
        using var foreign = cpu.Allocate(4);
        using var y = _sim.Allocate(4);
        var e = Assert.Throws<ArgumentException>(() => _sim.Relu(foreign, y))!;
        Assert.That(e.Message, Does.Contain("relu").And.Contain("'x'").And.Contain("cpu"));
        var dead = _sim.Allocate(4);
        dead.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _sim.Relu(dead, y));
        using var small = _sim.Allocate(3);
        var e2 = Assert.Throws<ArgumentException>(() => _sim.Add(small, y, y))!;
        Assert.That(e2.Message, Does.Contain("add").And.Contain("'a'"));
    }

    [Test]
    public void BadGeometryIsRejected()
    {
        using var x = _sim.Allocate(6);
        using var w = _sim.Allocate(2);
        var e = Assert.Throws<ArgumentException>(() => _sim.PRelu(x, w, new ChannelGeometry(1, 3, 2), x))!;
        Assert.That(e.Message, Does.Contain("prelu").And.Contain("1 (shared) or one per channel (3)"));
        using var stats = _sim.Allocate(3);
        var e2 = Assert.Throws<ArgumentException>(() =>
            _sim.BatchNormTrain(x, stats, stats, new ChannelGeometry(1, 3, 1), 1e-5f, x, stats, stats, null, null, 0.1f))!;
        Assert.That(e2.Message, Does.Contain("more than 1 value per channel"));
    }

    [Test]
    public void ProfilerRecordsEachOp()
    {
        using var x = _sim.Allocate(64);
        using var s = _sim.Allocate(1);
        _sim.Profiler = new KernelProfiler();
        try
        {
            _sim.Fill(x, 2f);
            _sim.SumOfSquares(x, s);
            Assert.That(_sim.Profiler.Launches.Select(l => l.Kernel), Is.EqualTo(new[] { "fill", "sum_of_squares" }));
        }
        finally
        {
            _sim.Profiler = null;
        }
        var r = new float[1];
        _sim.Download(s, r);
        Assert.That(r[0], Is.EqualTo(256f));
    }

    [Test]
    public void ReductionsAreDeterministicAcrossSplits()
    {
        // Many blocks and channel slices: the partial sums are combined in a fixed order, so repeated runs agree bit for bit.
        var rng = new Random(7);
        var data = Enumerable.Range(0, 3 * 5 * 97).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var x = _sim.Allocate(data.Length);
        _sim.Upload(data, x);
        using var sums = _sim.Allocate(5);
        var g = new ChannelGeometry(3, 5, 97);
        var a = new float[5];
        var b = new float[5];
        _sim.ChannelSum(x, g, sums);
        _sim.Download(sums, a);
        _sim.ChannelSum(x, g, sums);
        _sim.Download(sums, b);
        Assert.That(b, Is.EqualTo(a));
        for (int c = 0; c < 5; c++)
        {
            double expect = 0;
            for (int n = 0; n < 3; n++)
                for (int p = 0; p < 97; p++) expect += data[(n * 5 + c) * 97 + p];
            Assert.That(a[c], Is.EqualTo(expect).Within(1e-4));
        }
    }

    [Test]
    public void ReductionsMatchWithWarpSizedGroups()
    {
        // The op tests use 16-thread groups; here 128-thread groups (32-wide warps) with several blocks and
        // channel slices exercise deeper shared-memory trees, as on a GPU.
        using var wide = Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4);
        using var cpu = new CpuBackend { Threads = 1 };
        string[] ops =
        [
            "sum", "sum_of_squares", "channel_sum", "prelu_backward", "prelu_backward_shared", "batch_norm_train",
            "batch_norm_train_backward", "batch_norm_eval_backward", "mse_loss", "softmax_cross_entropy_weighted",
        ];
        var rows = KernelSelfTest.Run(wide, cpu, [new SelfTestShape(3, 5, 9, 23)], include: ops.Contains);
        TestContext.Out.WriteLine(KernelSelfTest.Table(rows));
        Assert.That(rows, Has.Count.EqualTo(ops.Length));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Op}: {r.MaxRelError} {r.Error}"), Is.Empty);
    }

    [Test]
    public void AfterADeviceFaultEveryOpNamesTheFaultingOpAndTheSelfTestStops()
    {
        // A real illegal-address fault needs a GPU; the simulator is put in the state one leaves behind.
        var sim = Backends.CreateCudaSimulator();
        using var buffer = sim.Allocate(16);
        sim.SimulateFault("upsample_bilinear_backward", "an illegal memory access was encountered");
        var e = Assert.Throws<DeviceFaultException>(() => sim.Fill(buffer, 1f))!;
        Assert.That(e.Message, Does.Contain("fill").And.Contain("upsample_bilinear_backward").And.Contain("illegal memory access"));
        Assert.Throws<DeviceFaultException>(() => sim.Synchronize());

        var rows = KernelSelfTest.RunAgainstCpu(sim, [new SelfTestShape(1, 2, 3, 4)], include: op => op is "fill" or "copy" or "add");
        Assert.That(rows.Select(r => r.Op), Is.EqualTo(new[] { "fill", "(stopped)" }), "no rows after the fault, under other names");
        Assert.That(rows.All(r => !r.Pass && r.Error!.Contains("upsample_bilinear_backward")), Is.True);

        buffer.Dispose();
        Assert.DoesNotThrow(sim.Dispose, "disposing a faulted backend frees what it can and never throws");
    }

    [Test]
    public void SynchronizeEachLaunchIsOffUnlessAsked()
    {
        using var sim = Backends.CreateCudaSimulator();
        Assert.That(sim.SynchronizeEachLaunch, Is.EqualTo(Environment.GetEnvironmentVariable("ILGPUSAT_CUDA_SYNC") == "1"));
        sim.SynchronizeEachLaunch = true;
        using var y = sim.Allocate(1000);
        sim.Fill(y, 2.5f); // a launch that waits for itself
        var host = new float[1000];
        sim.Download(y, host);
        Assert.That(host, Is.All.EqualTo(2.5f));
    }
}
