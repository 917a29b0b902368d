using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Colorization;
using ILGpuSat.Inference.Evaluation;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Colorization;
using NUnit.Framework;
using Spectre.Console;

namespace ILGpuSat.Inference.Tests;

/// <summary><see cref="GanColorizerModel"/> and `ilgpusat colorize` with a small random GAN generator.</summary>
[TestFixture, NonParallelizable]
public sealed class ColorizeTests
{
    private static readonly GanColorizerConfig Small = new() { Filters = 6, DiscriminatorWidth = 0.0625, Window = 32 };
    private string _folder = "";
    private string _model = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-colorize-").FullName;
        using var backend = new CpuBackend();
        var nn = new LayerFactory(backend, 9);
        using var g = new GanGenerator(nn, Small);
        using var d = new GanDiscriminator(nn, Small);
        var state = g.StateDict().ToDictionary(kv => "generator." + kv.Key, kv => kv.Value);
        foreach (var (k, v) in d.StateDict()) state["discriminator." + k] = v;
        _model = Path.Combine(_folder, "gan.safetensors");
        SafeTensors.Save(_model, state, new Dictionary<string, string>
        {
            ["ilgpusat.model"] = "gan-colorizer",
            ["ilgpusat.config"] = JsonSerializer.Serialize(Small, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }),
        });
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private static float[] Grey(int w, int h) => Enumerable.Range(0, w * h).Select(i => (float)(0.5 + 0.4 * Math.Sin(i % w * 0.21) * Math.Cos(i / w * 0.17))).ToArray();

    [Test]
    public void TilesAgreeWithTheWholeImageAndOddSizesRun()
    {
        using var backend = new CpuBackend();
        using var model = GanColorizerModel.Load(_model, backend);
        int w = 75, h = 53;
        var grey = Grey(w, h);
        var whole = model.Colorize(grey, w, h, tile: 512);
        var reports = new List<(int, int)>();
        var tiled = model.Colorize(grey, w, h, tile: 24, overlap: 8, progress: new Sync(reports));
        Assert.That(reports[^1].Item2, Is.GreaterThan(4), "several tiles");
        double worst = 0;
        for (int c = 0; c < 3; c++) worst = Math.Max(worst, whole[c].Zip(tiled[c], (a, b) => Math.Abs(a - b)).Max());
        Assert.That(worst, Is.LessThan(1e-3), "tiles with 32 pixels of context blend to the whole-image result");
        Assert.That(whole.SelectMany(p => p).All(v => v is > 0f and < 1f), Is.True);
    }

    [Test]
    public void TheCommandColorizesFilesKeepsGeoTiffAndNamesABadFile()
    {
        string input = Path.Combine(_folder, "in"), output = Path.Combine(_folder, "out");
        Directory.CreateDirectory(input);
        ImageWriter.Write(Path.Combine(input, "grey.png"), new RasterImage(40, 30, [Grey(40, 30)]));
        var geo = new GeoReference { ModelPixelScale = [0.5, 0.5, 0], ModelTiepoint = [0, 0, 0, 1000, 2000, 0], GeoKeyDirectory = [1, 1, 0, 1, 1024, 0, 1, 1] };
        ImageWriter.Write(Path.Combine(input, "geo.tif"), new RasterImage(33, 21, [Grey(33, 21)]), new WriteOptions { Geo = geo });
        File.WriteAllText(Path.Combine(input, "broken.png"), "not a png");
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        int code;
        try { code = Tools.Program.Main(["colorize", input, "-o", output, "--model", _model, "--device", "cpu"]); }
        finally { AnsiConsole.Console = previous; }
        string text = writer.ToString();
        Assert.That(code, Is.EqualTo(1), text);
        Assert.That(text, Does.Contain("broken.png").And.Contain("colorized 2 image(s)"));
        var colour = ImageReader.Read(Path.Combine(output, "grey.png"));
        Assert.That((colour.Width, colour.Height, colour.Bands), Is.EqualTo((40, 30, 3)));
        var tif = ImageReader.Read(Path.Combine(output, "geo.tif"));
        Assert.That(tif.Geo!.ModelTiepoint, Is.EqualTo(geo.ModelTiepoint));
        Assert.That((tif.Width, tif.Height), Is.EqualTo((33, 21)));

        using var backend = new CpuBackend();
        var notGan = Path.Combine(_folder, "other.safetensors");
        SafeTensors.Save(notGan, new Dictionary<string, ILGpuSat.Engine.Tensor>(), new Dictionary<string, string> { ["ilgpusat.model"] = "deepsum" });
        Assert.That(() => GanColorizerModel.Load(notGan, backend), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a GAN colorizer"));
    }

    [Test]
    public void TheBundledColorizersLoadAndColourAndExportKeepsTheGeneratorAlone()
    {
        using var backend = new CpuBackend();
        foreach (var name in GanColorizerModel.BundledNames)
        {
            using var bundled = GanColorizerModel.LoadBundled(name, backend);
            Assert.That(bundled.ReadsBand, Is.EqualTo(name.EndsWith("-sar", StringComparison.Ordinal)), $"{name}: SAR reads band 1, optical its lightness");
            var rgb = bundled.Colorize(Grey(30, 20), 30, 20);
            Assert.That(rgb.SelectMany(p => p).All(v => v is >= 0f and <= 1f), Is.True);
            double spread = Enumerable.Range(0, 600).Average(i => Math.Abs(rgb[0][i] - rgb[2][i]));
            Assert.That(spread, Is.GreaterThan(1e-3), $"{name}: red and blue differ somewhere: the output is not grey");
        }
        Assert.That(() => GanColorizerModel.LoadBundled("nope", backend), Throws.ArgumentException.With.Message.Contains("gan-colorizer-sar"));

        string exported = Path.Combine(_folder, "exported.safetensors");
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        try { Assert.That(Tools.Program.Main(["export", _model, "-o", exported, "--dtype", "f32"]), Is.EqualTo(0), writer.ToString()); }
        finally { AnsiConsole.Console = previous; }
        var (tensors, metadata) = SafeTensors.Read(exported);
        Assert.That(tensors.Select(t => t.Name), Is.All.StartsWith("generator."));
        Assert.That(metadata["ilgpusat.model"], Is.EqualTo("gan-colorizer"));
        using var reloaded = GanColorizerModel.Load(exported, backend);
        using var original = GanColorizerModel.Load(_model, backend);
        Assert.That(reloaded.Colorize(Grey(16, 12), 16, 12)[1], Is.EqualTo(original.Colorize(Grey(16, 12), 16, 12)[1]));
    }

    [Test]
    public void ColourEvaluationScoresTheGreyFloorAMethodAndThePerfectColourer()
    {
        var rng = new Random(5);
        var images = Enumerable.Range(0, 2).Select(k =>
        {
            var planes = Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, 24 * 20).Select(i => (float)(0.2 + 0.6 * rng.NextDouble())).ToArray()).ToArray();
            return ($"img{k}.png", new RasterImage(24, 20, planes));
        }).ToList();
        var rows = ColourEvaluation.Run(images, [new ColourMethod("perfect", (g, w, h) => images.Single(i => Matches(i.Item2, g)).Item2.Planes)]);
        Assert.That(rows.Select(r => r.Method), Is.EqualTo(new[] { ColourEvaluation.GreyRow, "perfect" }));
        Assert.That(rows[0].Colourfulness, Is.EqualTo(0).Within(0.01), "grey (L* kept, a* = b* = 0) has no colour, to the rounding of Lab -> sRGB");
        Assert.That(rows[1].AbAuc, Is.EqualTo(1).Within(1e-9));
        Assert.That(rows[1].ColourfulnessRatio, Is.EqualTo(1).Within(1e-9));
        Assert.That(rows[1].ColourPsnr, Is.GreaterThan(rows[0].ColourPsnr + 20));
        Assert.That(ColourEvaluation.Markdown(rows), Does.Contain("| perfect |"));
    }

    // The image whose L* / 100 is this grey.
    private static bool Matches(RasterImage image, float[] grey)
    {
        var l = new float[grey.Length];
        ILGpuSat.Imaging.Color.Lab.RgbToL(image.Planes[0], image.Planes[1], image.Planes[2], l);
        return Math.Abs(l[0] / 100f - grey[0]) < 1e-6 && Math.Abs(l[^1] / 100f - grey[^1]) < 1e-6;
    }

    private sealed class Sync(List<(int, int)> reports) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => reports.Add(value);
    }
}
