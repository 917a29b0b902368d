using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Inference.Tests;

/// <summary>Tiled inference gives the untiled result (the context covers the receptive field) and shows no seam.</summary>
[TestFixture]
public sealed class TilingTests
{
    private string _folder = "";
    private string _liu = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-tiling-").FullName;
        _liu = TestModels.Save(_folder, "liu2018", new Liu2018Config(TrunkWidth: 0.0625, SrWidth: 0.125));
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void ContextAndMultipleOfLiu2018()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_liu, cpu);
        int measured = enhancer.ContextFor(EnhanceOptions.Default);
        TestContext.Out.WriteLine($"liu2018: receptive field {enhancer.ReceptiveContext} LR px, measured context {measured}, multiple {enhancer.Multiple}");
        Assert.That(enhancer.Multiple, Is.EqualTo(2));
        Assert.That(enhancer.ReceptiveContext % 2, Is.EqualTo(0));
        Assert.That(measured % 2, Is.EqualTo(0));
        Assert.That(measured, Is.InRange(TileAxis.BorderPadFor(2), enhancer.ReceptiveContext));
        Assert.That(enhancer.ContextFor(new EnhanceOptions { Context = 5 }), Is.EqualTo(6), "a chosen context is rounded up to the multiple");
    }

    /// <summary>Tiled runs with the measured context (the default) and with the full receptive field agree with the untiled run.</summary>
    [TestCase(16, 8, false)]
    [TestCase(24, 4, false)]
    [TestCase(16, 8, true)]
    public void TiledEqualsUntiled(int tile, int overlap, bool fullReceptiveField)
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_liu, cpu);
        var image = TestModels.Grey(38, 30);
        var whole = enhancer.Enhance(image, new EnhanceOptions { TileSize = 4096, GreySr = true });
        var options = new EnhanceOptions { TileSize = tile, Overlap = overlap, GreySr = true, Context = fullReceptiveField ? enhancer.ReceptiveContext : null };
        var (xs, ys) = enhancer.PlanTiles(38, 30, options);
        Assert.That(xs.Count * ys.Count, Is.GreaterThanOrEqualTo(4), "the tiled run must really be tiled");
        var tiled = enhancer.Enhance(image, options);
        double worst = 0;
        for (int b = 0; b < 3; b++)
            worst = Math.Max(worst, MaxDiff(whole.Color.Planes[b], tiled.Color.Planes[b]));
        worst = Math.Max(worst, MaxDiff(whole.GreySr!.Planes[0], tiled.GreySr!.Planes[0]));
        TestContext.Out.WriteLine($"tile {tile}, overlap {overlap}, context {xs.Context}: {xs.Count}x{ys.Count} tiles, max |tiled - untiled| = {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-3));
    }

    /// <summary>
    /// A chosen tile whose window would hold a tensor past the backend's per-tensor limit (CUDA: 2^30 floats) is made
    /// smaller, so no kernel meets its indexing guard: planned here on the CPU, whose limit is a .NET array's, with an
    /// image too large to run but cheap to plan.
    /// </summary>
    [Test]
    public void AChosenTileIsCutToWhatTheBackendCanIndex()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_liu, cpu);
        var options = new EnhanceOptions { TileSize = 100_000, Context = 8 };
        var (xs, _) = enhancer.PlanTiles(100_000, 100_000, options);
        long largest = cpu.LargestBufferFloats; // of the probe, 64 x 64 LR pixels
        double perPixel = largest / (64.0 * 64.0);
        double Floats(int core) => Math.Pow(core + 2 * xs.Context, 2) * perPixel;
        TestContext.Out.WriteLine($"tile 100000 -> {xs.Core} ({xs.Count} per axis), largest tensor {Floats(xs.Core):E2} of {cpu.MaxBufferFloats:E2} floats");
        Assert.That(xs.Count, Is.GreaterThan(1));
        Assert.That(Floats(xs.Core), Is.LessThanOrEqualTo(cpu.MaxBufferFloats));
        Assert.That(Floats(2 * xs.Core + 2 * enhancer.Multiple), Is.GreaterThan(cpu.MaxBufferFloats), "cut no further than needed (halving steps)");
    }

    private static double MaxDiff(float[] a, float[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
