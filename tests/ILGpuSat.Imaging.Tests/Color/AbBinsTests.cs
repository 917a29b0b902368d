using NUnit.Framework;
using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Imaging.Tests.Color;

public class AbBinsTests
{
    [Test]
    public void GridLookupEqualsBruteForceOnRandomAb()
    {
        var bins = AbBins.Default;
        var rng = new Random(11);
        for (int i = 0; i < 200_000; i++)
        {
            // Mostly the sRGB ab range, some far outside the grid (brute-force fallback).
            float range = i % 10 == 0 ? 400f : 260f;
            float a = (float)(rng.NextDouble() - 0.5) * range, b = (float)(rng.NextDouble() - 0.5) * range;
            int grid = bins.Nearest(a, b), brute = bins.NearestBruteForce(a, b);
            if (grid != brute) Assert.Fail($"ab ({a}, {b}): grid says {grid}, brute force {brute}");
        }
    }

    [Test]
    public void GridLookupEqualsBruteForceOnBinAndCellBoundaries()
    {
        var bins = AbBins.Default;
        int checkedPoints = 0;
        float[] offsets = [0f, 1e-4f, -1e-4f, 0.01f, -0.01f, 2.5f];
        // Multiples of 5 are bin (Voronoi) edges and grid-cell edges; multiples of 10 are centres.
        for (int ia = -130; ia <= 130; ia += 5)
        for (int ib = -130; ib <= 130; ib += 5)
        foreach (float oa in offsets)
        foreach (float ob in offsets)
        {
            float a = ia + oa, b = ib + ob;
            int grid = bins.Nearest(a, b), brute = bins.NearestBruteForce(a, b);
            if (grid != brute) Assert.Fail($"ab ({a}, {b}): grid says {grid}, brute force {brute}");
            checkedPoints++;
        }
        for (int i = 0; i < AbBins.Count; i++)
            Assert.That(bins.Nearest(bins.A[i], bins.B[i]), Is.EqualTo(i), "a bin centre maps to itself");
        Assert.That(checkedPoints, Is.GreaterThan(100_000));
    }

    [Test]
    public void NearestMatchesPythonArgmin()
    {
        using var g = ColorGolden.Open("soft_encoding.json");
        var (a, b) = (g.Column("ab", 0), g.Column("ab", 1));
        var expected = g.Vector("nearest").Select(v => (int)v).ToArray();
        var got = new int[a.Length];
        AbBins.Default.Nearest(a, b, got);
        Assert.That(got, Is.EqualTo(expected));
    }

    [TestCase(5)]
    [TestCase(10)]
    public void SoftEncodingMatchesZhangRecipe(int k)
    {
        using var g = ColorGolden.Open("soft_encoding.json");
        var (a, b) = (g.Column("ab", 0), g.Column("ab", 1));
        var idx = g.Matrix($"k{k}_index");
        var w = g.Matrix($"k{k}_weight");
        int n = a.Length;
        var enc = new SoftEncoder(AbBins.Default, k, 5f);
        var gotIdx = new int[k * n];
        var gotW = new float[k * n];
        enc.EncodeSparse(a, b, gotIdx, gotW);
        for (int p = 0; p < n; p++)
            for (int r = 0; r < k; r++)
            {
                Assert.That(gotIdx[r * n + p], Is.EqualTo((int)idx[p][r]), $"pixel {p} rank {r} bin");
                Assert.That(gotW[r * n + p], Is.EqualTo(w[p][r]).Within(2e-6), $"pixel {p} rank {r} weight");
            }

        // Dense [313, n] form: the same weights in place, zeros elsewhere, each pixel sums to 1.
        var dense = new float[AbBins.Count * n];
        Array.Fill(dense, 7f); // must be fully overwritten
        enc.Encode(a, b, dense);
        for (int p = 0; p < n; p++)
        {
            double sum = 0;
            int nonzero = 0;
            for (int q = 0; q < AbBins.Count; q++) { sum += dense[q * n + p]; if (dense[q * n + p] != 0) nonzero++; }
            Assert.That(sum, Is.EqualTo(1.0).Within(1e-5), $"pixel {p} sum");
            Assert.That(nonzero, Is.EqualTo(k), $"pixel {p} support");
            for (int r = 0; r < k; r++) Assert.That(dense[gotIdx[r * n + p] * n + p], Is.EqualTo(gotW[r * n + p]));
        }
    }

    [Test]
    public void KNearestEqualsFullSortOnRandomAb()
    {
        var bins = AbBins.Default;
        var rng = new Random(17);
        int n = 6_000;
        var a = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 280)).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 280)).ToArray();
        foreach (int k in new[] { 1, 5, 10 })
        {
            var idx = new int[k * n];
            new SoftEncoder(bins, k).EncodeSparse(a, b, idx, new float[k * n]);
            for (int p = 0; p < n; p++)
            {
                var order = Enumerable.Range(0, AbBins.Count)
                    .OrderBy(j => Dist2(bins, j, a[p], b[p])).ThenBy(j => j).Take(k).ToArray();
                for (int r = 0; r < k; r++)
                    if (idx[r * n + p] != order[r])
                        Assert.Fail($"k={k} ab ({a[p]}, {b[p]}) rank {r}: grid {idx[r * n + p]}, sort {order[r]}");
            }
        }
    }

    [Test]
    public void FarOutOfGamutStillEncodesToADistribution()
    {
        var enc = new SoftEncoder(AbBins.Default, 10);
        float[] a = [500f, -1000f], b = [500f, 3f];
        var dense = new float[AbBins.Count * 2];
        enc.Encode(a, b, dense);
        for (int p = 0; p < 2; p++)
            Assert.That(Enumerable.Range(0, AbBins.Count).Sum(q => (double)dense[q * 2 + p]), Is.EqualTo(1.0).Within(1e-5));
        Assert.Throws<ArgumentException>(() => AbBins.Default.Nearest(float.NaN, 0f));
    }

    private static float Dist2(AbBins bins, int j, float a, float b)
    {
        float da = a - bins.A[j], db = b - bins.B[j];
        return da * da + db * db;
    }
}
