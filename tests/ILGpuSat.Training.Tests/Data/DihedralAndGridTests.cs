using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

public class DihedralAndGridTests
{
    private const int N = 5;

    [Test]
    public void MapsAreRotationsOfTheMirroredOrOriginalPatch()
    {
        var x = Random(N, 1);
        for (int map = 0; map < Dihedral.Count; map++)
        {
            // Independent definition: mirror (np.fliplr) then map % 4 numpy rot90 steps.
            var expected = map >= 4 ? FlipLr(x) : x;
            for (int k = 0; k < map % 4; k++) expected = Rot90(expected);
            Assert.That(Apply(x, map), Is.EqualTo(expected), $"map {map}");
        }
    }

    [Test]
    public void TheEightMapsAreDistinctAndFormAGroup()
    {
        var x = Random(N, 2);
        var images = Enumerable.Range(0, Dihedral.Count).Select(m => Apply(x, m)).ToArray();
        for (int i = 0; i < 8; i++)
            for (int j = i + 1; j < 8; j++)
                Assert.That(images[i], Is.Not.EqualTo(images[j]), $"maps {i} and {j}");
        Assert.That(images[0], Is.EqualTo(x), "map 0 is the identity");
        // Closure: applying any map after any other gives one of the eight.
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                var composed = Apply(images[i], j);
                Assert.That(images.Any(im => im.SequenceEqual(composed)), Is.True, $"map {j} after map {i}");
            }
        // Pixels are permuted, never changed.
        foreach (var im in images)
            Assert.That(im.OrderBy(v => v).ToArray(), Is.EqualTo(x.OrderBy(v => v).ToArray()));
    }

    [TestCase(150, 150, 3, 3)]
    [TestCase(96, 96, 1, 1)]
    [TestCase(95, 400, 0, 12)]
    [TestCase(500, 375, 15, 11)]
    [TestCase(400, 400, 12, 12)]
    public void PatchCountFollowsTheStrideFormula(int w, int h, int nx, int ny)
    {
        Assert.That(PatchGrid.CountAlong(w, 96, 27), Is.EqualTo(nx));
        Assert.That(PatchGrid.CountAlong(h, 96, 27), Is.EqualTo(ny));
        int count = PatchGrid.Count(w, h, 96, 27);
        Assert.That(count, Is.EqualTo(nx * ny));
        Assert.That(count, Is.EqualTo(w < 96 || h < 96 ? 0 : ((w - 96) / 27 + 1) * ((h - 96) / 27 + 1)));
        for (int i = 0; i < count; i++)
        {
            var (x, y) = PatchGrid.Origin(w, i, 96, 27);
            Assert.That(x % 27 == 0 && y % 27 == 0 && x + 96 <= w && y + 96 <= h, Is.True, $"origin {i} = ({x}, {y})");
        }
    }

    private static float[] Apply(float[] x, int map)
    {
        var y = new float[x.Length];
        Dihedral.Apply(x, y, N, map);
        return y;
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * n).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    private static float[] FlipLr(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) y[i * N + j] = x[i * N + (N - 1 - j)];
        return y;
    }

    // numpy rot90 (counter-clockwise): r[i, j] = x[j, n-1-i].
    private static float[] Rot90(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) y[i * N + j] = x[j * N + (N - 1 - i)];
        return y;
    }
}
