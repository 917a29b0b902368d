using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests;

/// <summary>Backend.BytesInUse / PeakBytesInUse count live buffers on every backend, pooled or not.</summary>
public sealed class MemoryAccountingTests
{
    private static IEnumerable<TestCaseData> Backends_()
    {
        yield return new TestCaseData((Func<Backend>)(() => new CpuBackend())).SetName("cpu");
        yield return new TestCaseData((Func<Backend>)(() => Backends.CreateCudaSimulator())).SetName("cuda-sim");
    }

    [TestCaseSource(nameof(Backends_))]
    public void LiveBytesAndPeakFollowAllocationsAndDisposals(Func<Backend> make)
    {
        using var backend = make();
        Assert.That(backend.BytesInUse, Is.Zero);
        var a = backend.Allocate(1000);
        var b = backend.Allocate(24);
        Assert.That(backend.BytesInUse, Is.EqualTo(4 * 1024));
        a.Dispose();
        a.Dispose(); // a second dispose must not count twice
        Assert.That(backend.BytesInUse, Is.EqualTo(4 * 24));
        Assert.That(backend.PeakBytesInUse, Is.EqualTo(4 * 1024));

        // A pooled buffer handed out again counts again; the peak holds until reset.
        var c = backend.Allocate(1000);
        Assert.That(backend.BytesInUse, Is.EqualTo(4 * 1024));
        c.Dispose();
        backend.ResetPeakBytesInUse();
        Assert.That(backend.PeakBytesInUse, Is.EqualTo(4 * 24));
        var d = backend.Allocate(10);
        Assert.That(backend.PeakBytesInUse, Is.EqualTo(4 * 34));
        d.Dispose();
        b.Dispose();
        Assert.That(backend.BytesInUse, Is.Zero);
    }

    [Test]
    public void ConcurrentAllocationsKeepAnExactCount()
    {
        using var backend = new CpuBackend();
        Parallel.For(0, 64, i =>
        {
            for (int k = 0; k < 50; k++) backend.Allocate(1 + (i + k) % 7).Dispose();
        });
        Assert.That(backend.BytesInUse, Is.Zero);
        Assert.That(backend.PeakBytesInUse, Is.InRange(4, 64 * 7 * 4));
    }
}
