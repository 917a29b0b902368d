using ILGpuSat.Tests.Common;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Inference.Tests;

/// <summary>What Enhance returns: recolouring, the no-colour models, grey SR, seams, cancellation, the default model.</summary>
[TestFixture]
public sealed class EnhancerTests
{
    private string _folder = "";
    private string _liu = "";
    private string _srcnn = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-enhancer-").FullName;
        _liu = TestModels.Save(_folder, "liu2018", new Liu2018Config(TrunkWidth: 0.0625, SrWidth: 0.125));
        _srcnn = TestModels.Save(_folder, "srcnn", new SrcnnConfig(Width: 0.125));
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void ColourInputIsRecolouredIndependentlyOfItsAb()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_liu, cpu);
        var warm = enhancer.Enhance(TestModels.Colour(12, 10, hue: 0.3));
        var cold = enhancer.Enhance(TestModels.Colour(12, 10, hue: 2.5));
        Assert.That(warm.Color.Width, Is.EqualTo(48));
        Assert.That(warm.Color.Height, Is.EqualTo(40));
        for (int b = 0; b < 3; b++)
            Assert.That(MaxDiff(warm.Color.Planes[b], cold.Color.Planes[b]), Is.LessThan(2e-3), $"band {b} depends on the input's a*b*");
        Assert.That(MaxDiff(warm.Color.Planes[0], warm.Color.Planes[2]), Is.GreaterThan(1e-3), "the colour head gave no colour at all");
    }

    [Test]
    public void ModelWithoutColourKeepsTheInputsColourAndGreyStaysGrey()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_srcnn, cpu);
        var warm = enhancer.Enhance(TestModels.Colour(12, 10, hue: 0.3), new EnhanceOptions { GreySr = true });
        var cold = enhancer.Enhance(TestModels.Colour(12, 10, hue: 2.5), new EnhanceOptions { GreySr = true });
        Assert.That(MaxDiff(warm.Color.Planes[0], cold.Color.Planes[0]), Is.GreaterThan(0.05), "the input's a*b* should colour the output");
        Assert.That(MaxDiff(warm.GreySr!.Planes[0], cold.GreySr!.Planes[0]), Is.LessThan(2e-3), "the SR L* depends only on the input's L*");
        var grey = enhancer.Enhance(TestModels.Grey(12, 10));
        Assert.That(MaxDiff(grey.Color.Planes[0], grey.Color.Planes[1]), Is.LessThan(1e-4));
        Assert.That(MaxDiff(grey.Color.Planes[0], grey.Color.Planes[2]), Is.LessThan(1e-4));
    }

    [Test]
    public void NoStepAcrossTileBoundariesExceedsTheInteriors()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_liu, cpu);
        // Too little context on purpose: neighbouring tiles now disagree, and only the blend can hide it.
        var image = TestModels.Grey(64, 16, noise: 0);
        var options = new EnhanceOptions { TileSize = 16, Overlap = 8, GreySr = true, Context = 0 };
        var whole = enhancer.Enhance(image, options with { TileSize = 4096 }).Color;
        var blended = enhancer.Enhance(image, options).Color;
        var cut = enhancer.Enhance(image, options with { Overlap = 0 }).Color;
        var joinsBlended = Joins(enhancer.PlanTiles(64, 16, options).X, 4);
        var joinsCut = Joins(enhancer.PlanTiles(64, 16, options with { Overlap = 0 }).X, 4);
        double seam = Step(blended, joinsBlended, inside: true), interior = Step(whole, joinsBlended, inside: false);
        double extraBlended = ExtraStep(blended, whole, joinsBlended), extraCut = ExtraStep(cut, whole, joinsCut);
        TestContext.Out.WriteLine($"largest step at tile joins {seam:F4}, inside the untiled image {interior:F4}; "
            + $"step added by tiling: blended {extraBlended:F4}, hard cut {extraCut:F4}");
        Assert.That(extraCut, Is.GreaterThan(1e-3), "the tiles must disagree for this test to mean anything");
        Assert.That(seam, Is.LessThanOrEqualTo(interior));
        Assert.That(extraBlended, Is.LessThan(0.25 * extraCut));
    }

    /// <summary>Output columns x whose step to x + 1 lies in an overlap zone (or at a cut, for overlap 0).</summary>
    private static HashSet<int> Joins(TileAxis xs, int scale)
    {
        var joins = new HashSet<int>();
        for (int k = 1; k < xs.Count; k++)
            for (int x = xs.Start(k) * scale - 1; x < (xs.Start(k) + xs.Overlap) * scale; x++) joins.Add(x);
        return joins;
    }

    private static double Step(RasterImage img, HashSet<int> joins, bool inside)
    {
        double m = 0;
        var p = img.Planes[1];
        for (int y = 0; y < img.Height; y++)
        for (int x = 0; x + 1 < img.Width; x++)
            if (joins.Contains(x) == inside) m = Math.Max(m, Math.Abs(p[y * img.Width + x + 1] - p[y * img.Width + x]));
        return m;
    }

    /// <summary>Largest change of a horizontal step at the joins against the untiled image's step there.</summary>
    private static double ExtraStep(RasterImage tiled, RasterImage whole, HashSet<int> joins)
    {
        double m = 0;
        var t = tiled.Planes[1];
        var u = whole.Planes[1];
        int w = tiled.Width;
        for (int y = 0; y < tiled.Height; y++)
            foreach (int x in joins)
                m = Math.Max(m, Math.Abs((t[y * w + x + 1] - t[y * w + x]) - (u[y * w + x + 1] - u[y * w + x])));
        return m;
    }

    [Test]
    public void CancellationStopsBetweenTiles()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_srcnn, cpu);
        using var cts = new CancellationTokenSource();
        long seen = 0;
        var progress = new Inline(p => { seen = p.TilesDone; if (p.TilesDone == 2) cts.Cancel(); });
        Assert.Throws<OperationCanceledException>(() =>
            enhancer.Enhance(TestModels.Grey(40, 40), new EnhanceOptions { TileSize = 8, Overlap = 2 }, progress, cts.Token));
        Assert.That(seen, Is.EqualTo(2));
    }

    [Test]
    public void GeoreferenceIsScaledAndNodataKeptByNearest()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_srcnn, cpu);
        var image = TestModels.Grey(10, 8);
        image.Valid = Enumerable.Range(0, 80).Select(i => i % 7 != 3).ToArray();
        image.Geo = new GeoReference { ModelPixelScale = [8, 8, 0], ModelTiepoint = [0, 0, 0, 1000, 2000, 0] };
        var result = enhancer.Enhance(image);
        Assert.That(result.Color.Geo!.ModelPixelScale, Is.EqualTo(new double[] { 2, 2, 0 }));
        for (int y = 0; y < 32; y++)
        for (int x = 0; x < 40; x++)
            Assert.That(result.Color.Valid![y * 40 + x], Is.EqualTo(image.Valid[y / 4 * 10 + x / 4]));
    }

    [Test]
    public void TheDefaultModelIsBundledAndEnhancesTheReadmeSample()
    {
        Assert.That(typeof(Enhancer).Assembly.GetManifestResourceNames(), Does.Contain(Enhancer.DefaultModelResource),
            "Inference/DefaultModel/default.safetensors must be embedded");
        using var cpu = TestModels.Cpu();
        using var e = Enhancer.LoadDefault(cpu);
        Assert.That(e.Model.ModelName, Is.EqualTo("liu2018"));
        Assert.That(ModelCatalog.ConfigJson(e.Model.Config), Is.EqualTo("""{"trunkWidth":0.25,"srWidth":0.25}"""));
        Assert.That(e.Model.Metadata["step"], Is.EqualTo("8000"), "the shipped model is the 8,000-step run of README");

        var sample = Path.Combine(RepositoryPaths.Root, "docs", "samples", "resident-lr-grey.png");
        var image = ImageReader.Read(sample);
        var result = e.Enhance(image);
        Assert.That((result.Color.Width, result.Color.Height, result.Color.Bands), Is.EqualTo((400, 400, 3)));
        // Coloured: the channels differ (a grey image has R = G = B everywhere).
        double spread = 0;
        for (int i = 0; i < 400 * 400; i++)
            spread += Math.Abs(result.Color.Planes[0][i] - result.Color.Planes[2][i]);
        Assert.That(spread / (400 * 400), Is.GreaterThan(0.01), "the default model's output is coloured");
    }

    [Test]
    public void AutomaticTileSizeRespectsTheMultipleAndTheBudget()
    {
        using var cpu = TestModels.Cpu();
        using var enhancer = Enhancer.Load(_liu, cpu);
        int tile = enhancer.AutomaticTileSize(16, enhancer.ContextFor(EnhanceOptions.Default), 400, 400);
        TestContext.Out.WriteLine($"automatic tile for tiny liu2018 on the CPU: {tile} LR px");
        Assert.That(tile % enhancer.Multiple, Is.EqualTo(0));
        Assert.That(tile, Is.InRange(34, Enhancer.MaxAutoTile));
    }

    private static double MaxDiff(float[] a, float[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    private sealed class Inline(Action<EnhanceProgress> report) : IProgress<EnhanceProgress>
    {
        public void Report(EnhanceProgress value) => report(value);
    }
}
