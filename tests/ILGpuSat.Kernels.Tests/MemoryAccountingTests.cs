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

    /// <summary>
    /// The CPU pool hands an idle array to a request up to 2x shorter (the buffer's Length is the request; kernels
    /// read Length, never the array's), and never to a longer one or a much shorter one.
    /// </summary>
    [Test]
    public void CpuPoolReusesTheShortestIdleArrayThatIsAtMostTwiceTheRequest()
    {
        using var cpu = new CpuBackend();
        var big = (CpuBuffer)cpu.Allocate(1000);
        var mid = (CpuBuffer)cpu.Allocate(700);
        float[] bigArray = big.Array, midArray = mid.Array;
        big.Dispose();
        mid.Dispose();
        var a = (CpuBuffer)cpu.Allocate(600);
        Assert.That(a.Array, Is.SameAs(midArray), "the shortest idle array that holds 600");
        Assert.That(a.Length, Is.EqualTo(600));
        Assert.That(a.Span.Length, Is.EqualTo(600));
        Assert.That(cpu.BytesInUse, Is.EqualTo(4 * 600), "the request is counted, not the array");
        var b = (CpuBuffer)cpu.Allocate(400);
        Assert.That(b.Array, Is.Not.SameAs(bigArray), "1000 is more than twice 400");
        var c = (CpuBuffer)cpu.Allocate(1001);
        Assert.That(c.Array, Is.Not.SameAs(bigArray), "too short");
        var d = (CpuBuffer)cpu.Allocate(500);
        Assert.That(d.Array, Is.SameAs(bigArray), "1000 holds 500 and is at most twice it");

        // An op on a buffer whose array is longer touches only its Length.
        cpu.Fill(d, 3f);
        Assert.That(bigArray.Take(500), Is.All.EqualTo(3f));
        foreach (var x in new[] { a, b, c, d }) x.Dispose();
    }
}
