using System.Runtime.Intrinsics;
using ILGpuSat.Kernels.Cpu.Gemm;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>SGEMM against a double-precision triple loop, with sizes that are not multiples of any tile.</summary>
public class SgemmTests
{
    private static readonly int[] Sizes = { 1, 7, 33, 257 };

    private static IEnumerable<SgemmKernel> Kernels()
    {
        yield return SgemmKernel.Portable;
        if (Vector512.IsHardwareAccelerated) yield return SgemmKernel.Avx512;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported) yield return SgemmKernel.Avx2;
    }

    [Test]
    public void OddSizesMatchNaive([ValueSource(nameof(Kernels))] SgemmKernel kernel)
    {
        var rng = new Random(2024);
        foreach (int m in Sizes)
        foreach (int n in Sizes)
        foreach (int k in Sizes)
        {
            // Cycle through the transpose/accumulate/thread variants instead of the full product to stay fast.
            int variant = (m * 31 + n * 7 + k) % 8;
            bool ta = (variant & 1) != 0, tb = (variant & 2) != 0, acc = (variant & 4) != 0;
            Check(rng, m, n, k, ta, tb, acc, threads: 1 + variant % 2, kernel, pad: variant % 3);
        }
    }

    [Test]
    public void EveryTransposeCombinationWithPaddedStrides([Values] bool ta, [Values] bool tb, [Values] bool acc)
    {
        var rng = new Random(11);
        Check(rng, 70, 101, 300, ta, tb, acc, threads: 2, SgemmKernel.Auto, pad: 5);
    }

    [Test]
    public void LargeSquareUsesEveryBlockingLevel()
    {
        // Past the task rows (2*MC = 384), NC (384) and KC (384): edge blocks at every level, several threads.
        Check(new Random(3), 400, 500, 400, false, false, false, threads: 3, SgemmKernel.Auto, pad: 0);
    }

    [Test]
    public void ZeroDepthClearsOrKeepsC()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Sgemm.Multiply(2, 2, 0, ReadOnlySpan<float>.Empty, 1, false, ReadOnlySpan<float>.Empty, 2, false, c, 2, accumulate: true);
        Assert.That(c, Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        Sgemm.Multiply(2, 2, 0, ReadOnlySpan<float>.Empty, 1, false, ReadOnlySpan<float>.Empty, 2, false, c, 2);
        Assert.That(c, Is.EqualTo(new float[4]));
    }

    [Test]
    public void BadLengthsAndStridesThrowWithTheSizes()
    {
        var a = new float[6 * 5];
        var b = new float[5 * 4];
        var c = new float[6 * 4];
        var ex = Assert.Throws<ArgumentException>(() => Sgemm.Multiply(6, 4, 5, a.AsSpan(1), 5, false, b, 4, false, c, 4));
        Assert.That(ex!.Message, Does.Contain("sgemm").And.Contain("m=6").And.Contain("A").And.Contain("30").And.Contain("29"));
        ex = Assert.Throws<ArgumentException>(() => Sgemm.Multiply(6, 4, 5, a, 5, false, b, 4, true, c, 4));
        Assert.That(ex!.Message, Does.Contain("B (transposed) is 4x5").And.Contain("row stride must be at least 5"));
        ex = Assert.Throws<ArgumentException>(() => Sgemm.Multiply(6, 4, 5, a, 5, false, b, 4, false, c.AsSpan(0, 20), 4));
        Assert.That(ex!.Message, Does.Contain("C is 6x4").And.Contain("24").And.Contain("20"));
        ex = Assert.Throws<ArgumentException>(() => Sgemm.Multiply(-1, 4, 5, a, 5, false, b, 4, false, c, 4));
        Assert.That(ex!.Message, Does.Contain("m=-1"));
    }

    private static void Check(Random rng, int m, int n, int k, bool ta, bool tb, bool acc, int threads, SgemmKernel kernel, int pad)
    {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        var a = Random(rng, (ta ? k : m) * lda);
        var b = Random(rng, (tb ? n : k) * ldb);
        var c = Random(rng, m * ldc);
        var expected = new double[m * ldc];
        for (int i = 0; i < m * ldc; i++) expected[i] = c[i];
        double scale = 1e-30;
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double s = acc ? c[i * ldc + j] : 0;
            for (int p = 0; p < k; p++)
                s += (double)a[ta ? p * lda + i : i * lda + p] * b[tb ? j * ldb + p : p * ldb + j];
            expected[i * ldc + j] = s;
            scale = Math.Max(scale, Math.Abs(s));
        }
        Sgemm.Multiply(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, acc, threads, kernel);
        double err = 0;
        for (int i = 0; i < m * ldc; i++)
        {
            bool inside = i % ldc < n;
            // Padding columns of C must be left exactly as they were.
            if (!inside) Assert.That(c[i], Is.EqualTo((float)expected[i]), $"sgemm wrote outside C at {i}");
            else err = Math.Max(err, Math.Abs(c[i] - expected[i]));
        }
        Assert.That(err / scale, Is.LessThanOrEqualTo(1e-5),
            $"sgemm m={m} n={n} k={k} ta={ta} tb={tb} acc={acc} threads={threads} kernel={kernel}");
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
