using System.Globalization;
using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Misr;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Misr;
using NUnit.Framework;
using Spectre.Console;

namespace ILGpuSat.Inference.Tests;

/// <summary>`ilgpusat misr` and <see cref="MisrEnhancer"/> end to end on tiny scenes in the PROBA-V layout with a tiny DeepSUM.</summary>
[TestFixture, NonParallelizable]
public sealed class MisrCommandTests
{
    private static readonly DeepSumConfig Tiny = new() { Frames = 3, Filters = 4, SisrLayers = 2, FilterSize = 3, FusionLayers = 1 };
    private string _folder = "";
    private string _model = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-misr-cli-").FullName;
        using var backend = new CpuBackend();
        using var net = new DeepSum(backend, 5, Tiny);
        _model = Path.Combine(_folder, "deepsum.safetensors");
        SafeTensors.Save(_model, net.StateDict(), new Dictionary<string, string>
        {
            ["ilgpusat.model"] = "deepsum", ["ilgpusat.scale"] = "3",
            ["ilgpusat.config"] = JsonSerializer.Serialize(Tiny, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }),
        });
        WriteScene("imgset0001", looks: 4);
        WriteScene("imgset0002", looks: 2, hr: false); // too few looks for 3 frames, and a test scene (no HR)
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private void WriteScene(string name, int looks, bool hr = true)
    {
        string dir = Path.Combine(_folder, "scenes", name);
        Directory.CreateDirectory(dir);
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) & 0xffff);
        for (int k = 0; k < looks; k++)
        {
            var look = Enumerable.Range(0, 64).Select(i => (float)((3000 + 4000 * Math.Sin(i * 0.3 + k) + 200 * rng.NextDouble()) / 65535)).ToArray();
            ImageWriter.Write(Path.Combine(dir, $"LR{k:D3}.png"), new RasterImage(8, 8, [look]), new WriteOptions { BitDepth = 16 });
            ImageWriter.Write(Path.Combine(dir, $"QM{k:D3}.png"), new RasterImage(8, 8, [Enumerable.Range(0, 64).Select(i => i % (k + 3) == 0 ? 0f : 1f).ToArray()]));
        }
        if (!hr) return;
        var truth = Enumerable.Range(0, 24 * 24).Select(i => (float)((3000 + 4000 * Math.Sin(i % 24 * 0.1)) / 65535)).ToArray();
        ImageWriter.Write(Path.Combine(dir, "HR.png"), new RasterImage(24, 24, [truth]), new WriteOptions { BitDepth = 16 });
        ImageWriter.Write(Path.Combine(dir, "SM.png"), new RasterImage(24, 24, [Enumerable.Repeat(1f, 24 * 24).ToArray()]));
    }

    private (int Code, string Output) Cli(params string[] args) => Raw([.. args, "--model", _model]);

    private static (int Code, string Output) Raw(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        try { return (Tools.Program.Main([.. args, "--device", "cpu"]), writer.ToString()); }
        finally { AnsiConsole.Console = previous; }
    }

    [Test]
    public void AFolderOfScenesGivesOne16BitSrPerSceneAndNamesTheSceneThatFailed()
    {
        string output = Path.Combine(_folder, "out");
        var (code, text) = Cli("misr", Path.Combine(_folder, "scenes"), "-o", output);
        Assert.That(code, Is.EqualTo(1), text);
        Assert.That(text, Does.Contain("imgset0002").And.Contain("2 LR look(s)").And.Contain("super-resolved 1 scene(s)"));
        var sr = ImageReader.Read(Path.Combine(output, "imgset0001.png"), new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((sr.Width, sr.Height, sr.SourceBitDepth), Is.EqualTo((24, 24, 16)));
        Assert.That(sr.Planes[0].All(float.IsFinite), Is.True);
        Assert.That(File.Exists(Path.Combine(output, "imgset0002.png")), Is.False, "nothing is written for a failed scene");
        (code, text) = Cli("misr", Path.Combine(_folder, "scenes", "imgset0001"), "-o", output);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(text, Does.Contain("kept"));
    }

    [Test]
    public void TheEnhancerFusesTheClearestLooksAndRefusesOtherModels()
    {
        using var backend = new CpuBackend();
        using var enhancer = MisrEnhancer.Load(_model, backend);
        Assert.That((enhancer.Scale, enhancer.Config.Frames), Is.EqualTo((3, 3)));
        var scene = ProbaVScene.Load(Path.Combine(_folder, "scenes", "imgset0001"));
        var sr = enhancer.SuperResolve(scene);
        Assert.That(sr, Has.Length.EqualTo(24 * 24));
        Assert.That(sr.All(v => v is >= 0f and <= 1f), Is.True);
        var few = ProbaVScene.Load(Path.Combine(_folder, "scenes", "imgset0002"));
        var e = Assert.Throws<ArgumentException>(() => enhancer.SuperResolve(few));
        Assert.That(e!.Message, Does.Contain("2 looks").And.Contain("3"));

        var saved = TestModels.Save(_folder, "srcnn", new ILGpuSat.Networks.SrcnnConfig(Width: 0.125));
        var bad = Assert.Throws<InvalidDataException>(() => MisrEnhancer.Load(saved, backend));
        Assert.That(bad!.Message, Does.Contain("not a DeepSUM weights file"));
    }

    [Test]
    public void EvalMisrTabulatesTheBaselinesAndTheModelPerScene()
    {
        string output = Path.Combine(_folder, "eval");
        File.WriteAllLines(Path.Combine(_folder, "scenes", "norm.csv"), ["imgset0001 30.5", "imgset0002 31.0"]);
        var (code, text) = Raw("eval", "--misr", Path.Combine(_folder, "scenes"), "--models", _model, "--out", output);
        Assert.That(code, Is.EqualTo(0), text);
        var summary = File.ReadAllLines(Path.Combine(output, "misr_summary.md"));
        Assert.That(summary[0], Does.Contain("(1 scene)"), "only imgset0001 has an HR");
        Assert.That(summary.Skip(2).Select(l => l.Split('|')[1].Trim()), Is.EqualTo(new[] { "bicubic (clearest look)", "challenge baseline", "DeepSUM" }));
        var rows = File.ReadAllLines(Path.Combine(output, "misr_per_scene.csv"));
        Assert.That(rows, Has.Length.EqualTo(1 + 3));
        // Scores use norm.csv's N: the baseline's score is N / its own cPSNR, not 1.
        var baseline = rows.Single(r => r.StartsWith("imgset0001,\"challenge", StringComparison.Ordinal)).Split(',');
        double cpsnr = double.Parse(baseline[2], System.Globalization.CultureInfo.InvariantCulture), score = double.Parse(baseline[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(score, Is.EqualTo(30.5 / cpsnr).Within(1e-9));
    }

    [Test]
    public void TheBundledDeepSumLoadsAndFusesNineLooks()
    {
        using var backend = new CpuBackend();
        using var enhancer = MisrEnhancer.LoadDefault(backend);
        Assert.That((enhancer.Scale, enhancer.Config.Frames, enhancer.Config.UseRegNet, enhancer.IsSingleImage), Is.EqualTo((3, 9, true, false)));
        Assert.That(enhancer.Metadata["ilgpusat.stage"], Is.EqualTo("Joint"));
        var rng = new Random(3);
        var frames = Enumerable.Range(0, 9).Select(k => new ProbaVFrame($"LR{k:D3}",
            Enumerable.Range(0, 100).Select(i => (float)(0.4 + 0.2 * Math.Sin(i * 0.7 + k * 0.1) + 0.01 * rng.NextDouble())).ToArray(),
            Enumerable.Repeat(true, 100).ToArray())).ToList();
        var sr = enhancer.SuperResolve(ProbaVScene.Create("tiny", 10, 10, frames));
        Assert.That(sr, Has.Length.EqualTo(30 * 30));
        Assert.That(sr.All(v => v is > 0f and < 1f), Is.True);
    }
    private static List<ProbaVFrame> RandomLooks(int count, int w, int h, int seed)
    {
        var rng = new Random(seed);
        var phase = Enumerable.Range(0, count).Select(_ => rng.NextDouble() * 3).ToArray();
        // Clear pixels fall with the look's index (look k has k cloudy pixels), so the clearest-first order is the file order.
        return Enumerable.Range(0, count).Select(k => new ProbaVFrame($"LR{k:D3}",
            Enumerable.Range(0, w * h).Select(i => (float)(0.45 + 0.2 * Math.Sin(i % w * 0.9 + phase[k]) * Math.Cos(i / w * 0.6) + 0.03 * rng.NextDouble())).ToArray(),
            Enumerable.Range(0, w * h).Select(i => i % 37 >= k).ToArray())).ToList();
    }

    [Test]
    public void TilesWithTheScenesStatisticsAgreeWithTheUntiledRun([Values(false, true)] bool bundled)
    {
        using var backend = new CpuBackend();
        using var enhancer = bundled ? MisrEnhancer.LoadDefault(backend) : MisrEnhancer.Load(_model, backend);
        var scene = ProbaVScene.Create("tiles", 22, 19, RandomLooks(enhancer.Config.Frames, 22, 19, 11));
        var whole = enhancer.SuperResolve(scene, new MisrOptions { TileSize = 64 });
        var reports = new List<MisrProgress>();
        var tiled = enhancer.SuperResolve(scene, new MisrOptions { TileSize = 8, Overlap = 2, StatisticsWindow = 64 }, new SyncProgress(reports));
        Assert.That(reports[^1], Is.EqualTo(new MisrProgress(1 + 4 * 3, 1 + 4 * 3)), "one measuring pass, then 4 x 3 tiles of 8 LR pixels with 2 shared");
        double worst = whole.Zip(tiled, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(worst, Is.LessThan(1e-3), "tiles normalised and registered with the scene's statistics and filters match the untiled run");
        Assert.That(whole.Max() - whole.Min(), Is.GreaterThan(0.05), "the comparison is between non-trivial images");
    }

    [Test]
    public void MoreLooksThanFramesAreFusedInWindowsThatShareTheClearestLookAndAveraged()
    {
        using var backend = new CpuBackend();
        using var enhancer = MisrEnhancer.LoadDefault(backend); // its outputs stay inside (0, 1), so no clamping
        var looks = RandomLooks(11, 10, 9, 4);
        var scene = ProbaVScene.Create("eleven", 10, 9, looks);
        var fused = enhancer.SuperResolve(scene);
        var windows = Enumerable.Range(0, 3)
            .Select(k => enhancer.SuperResolve(ProbaVScene.Create("window", 10, 9, [looks[0], .. looks.Skip(1 + k).Take(8)]))).ToList();
        var mean = Enumerable.Range(0, fused.Length).Select(i => windows.Average(wnd => wnd[i])).ToArray();
        Assert.That(windows.SelectMany(wnd => wnd).All(v => v is > 0f and < 1f), Is.True, "no clamping, so the mean of the windows is exact");
        Assert.That(fused, Is.EqualTo(mean).Within(1e-6));
        Assert.That(enhancer.SuperResolve(scene, new MisrOptions { MaxWindows = 1 }), Is.EqualTo(windows[0]).Within(1e-7), "one window: the clearest looks only");
        Assert.That(windows[0].Zip(windows[2], (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-4), "the windows differ, so the average is not a single window");
    }

    [Test]
    public void ANormalisedSceneGivesTheSameSrInAnyUnits()
    {
        using var backend = new CpuBackend();
        using var enhancer = MisrEnhancer.LoadDefault(backend);
        var looks = RandomLooks(9, 12, 10, 6);
        // The same scene as dim 16-bit digital numbers would read: a quarter of the contrast, offset.
        var dim = looks.Select(f => f with { Pixels = f.Pixels.Select(v => 0.25f * v + 0.02f).ToArray() }).ToList();
        var normalised = MisrOptions.Default;
        var bright = enhancer.SuperResolve(ProbaVScene.Create("bright", 12, 10, looks), normalised);
        var scaled = enhancer.SuperResolve(ProbaVScene.Create("dim", 12, 10, dim), normalised);
        Assert.That(scaled, Is.EqualTo(bright.Select(v => 0.25f * v + 0.02f).ToArray()).Within(2e-5), "SR(a x + b) = a SR(x) + b");
        var raw = enhancer.SuperResolve(ProbaVScene.Create("dim", 12, 10, dim), new MisrOptions { NormaliseScene = false });
        Assert.That(raw.Zip(scaled, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-3), "with the model's constants the units matter");
    }

    [Test]
    public void AFolderOfGeoTiffLooksGivesAGeoreferencedSrAtTheirDepthWithNodataKept()
    {
        string looks = Path.Combine(_folder, "geo", "area");
        Directory.CreateDirectory(looks);
        var geo = new GeoReference
        {
            ModelPixelScale = [30, 30, 0], ModelTiepoint = [0, 0, 0, 500000, 4200000, 0],
            GeoKeyDirectory = [1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32633],
        };
        var frames = RandomLooks(4, 12, 10, 8);
        for (int k = 0; k < frames.Count; k++)
        {
            var valid = Enumerable.Range(0, 120).Select(i => i != 0).ToArray(); // pixel (0, 0) is nodata in every look
            ImageWriter.Write(Path.Combine(looks, $"look{k}.tif"), new RasterImage(12, 10, [frames[k].Pixels], valid), new WriteOptions { BitDepth = 16, Geo = geo });
        }
        ImageWriter.Write(Path.Combine(looks, "look1_mask.png"), new RasterImage(12, 10, [Enumerable.Range(0, 120).Select(i => i < 60 ? 0f : 1f).ToArray()]));
        string output = Path.Combine(_folder, "geo-out");
        var (code, text) = Cli("misr", Path.Combine(_folder, "geo"), "-o", output);
        Assert.That(code, Is.EqualTo(0), text);
        var sr = ImageReader.Read(Path.Combine(output, "area.tif"), new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((sr.Width, sr.Height, sr.SourceBitDepth), Is.EqualTo((36, 30, 16)));
        Assert.That(sr.Geo!.ModelPixelScale![..2], Is.EqualTo(new[] { 10.0, 10.0 }), "pixel size / 3");
        Assert.That(sr.Geo.RasterToModel(0, 0), Is.EqualTo((500000.0, 4200000.0)), "the same ground footprint");
        Assert.That(sr.Geo.GeoKeyDirectory, Is.EqualTo(geo.GeoKeyDirectory));
        Assert.That(sr.Valid, Is.Not.Null);
        Assert.That(Enumerable.Range(0, 9).All(i => !sr.Valid![i / 3 * 36 + i % 3]), Is.True, "the nodata LR pixel stays nodata (3 x 3 HR pixels)");
        Assert.That(sr.Valid!.Count(v => !v), Is.EqualTo(9));

        // A look on another grid is named, and nothing is written.
        ImageWriter.Write(Path.Combine(looks, "look9.tif"), new RasterImage(12, 10, [frames[0].Pixels]), new WriteOptions { BitDepth = 16, Geo = geo with { ModelTiepoint = [0, 0, 0, 500030, 4200000, 0] } });
        (code, text) = Cli("misr", looks, "-o", Path.Combine(_folder, "geo-out2"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(text, Does.Contain("look9.tif").And.Contain("not on the grid"));
        Assert.That(File.Exists(Path.Combine(_folder, "geo-out2", "area.tif")), Is.False);
    }

    // Progress<T> posts to the thread pool; the test needs the reports in order, at once.
    private sealed class SyncProgress(List<MisrProgress> reports) : IProgress<MisrProgress>
    {
        public void Report(MisrProgress value) => reports.Add(value);
    }
}
