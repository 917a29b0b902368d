using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>
/// Shared plumbing for the CPU op tests: seeded random data, buffers, and a tolerance check
/// against double-precision references written in the tests. The backend runs with 4 threads so
/// that large cases go through the chunked parallel paths even on a 2-core machine.
/// </summary>
public abstract class CpuOpsTestBase
{
    protected CpuBackend B = null!;
    private readonly List<DeviceBuffer> _buffers = new();

    [SetUp]
    public void CreateBackend() => B = new CpuBackend { Threads = 4 };

    [TearDown]
    public void DisposeBackend()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
        B.Dispose();
    }

    /// <summary>Uniform values in [lo, hi) from a fixed seed.</summary>
    protected static float[] Rand(int n, int seed, float lo = -1f, float hi = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)r.NextDouble();
        return a;
    }

    protected DeviceBuffer Buf(float[] data)
    {
        var b = B.Allocate(data.Length);
        B.Upload(data, b);
        _buffers.Add(b);
        return b;
    }

    /// <summary>A buffer filled with NaN, so that an op that forgets to write an element fails.</summary>
    protected DeviceBuffer Empty(long n)
    {
        var b = B.Allocate(n);
        B.Upload(Enumerable.Repeat(float.NaN, (int)n).ToArray(), b);
        _buffers.Add(b);
        return b;
    }

    protected float[] Get(DeviceBuffer b)
    {
        var a = new float[b.Length];
        B.Download(b, a);
        return a;
    }

    /// <summary>
    /// |actual - expected| &lt;= rtol * (|expected| + max|expected|): relative per element, with the
    /// tensor's scale as the floor for values near zero.
    /// </summary>
    protected static void AssertClose(float[] actual, double[] expected, string what, double rtol = 1e-4)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        double scale = 0;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (!(err <= rtol * (Math.Abs(expected[i]) + scale)))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (|err| {err:G3}, scale {scale:G3}).");
        }
    }

    protected static void AssertClose(float actual, double expected, string what, double rtol = 1e-4)
        => AssertClose(new[] { actual }, new[] { expected }, what, rtol);

    /// <summary>The geometries every per-channel op is checked on: tiny, odd, many channels, and threaded with remainders.</summary>
    public static IEnumerable<ChannelGeometry> Geometries()
    {
        yield return new ChannelGeometry(1, 1, 7 * 9);
        yield return new ChannelGeometry(3, 3, 7 * 9);
        yield return new ChannelGeometry(1, 313, 7 * 9);
        yield return new ChannelGeometry(3, 1, 5);
        yield return new ChannelGeometry(3, 5, 97 * 89);
    }
}
