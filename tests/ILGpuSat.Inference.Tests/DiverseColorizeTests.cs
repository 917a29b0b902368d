using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Colorization;
using ILGpuSat.Inference.Evaluation;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Colorization;
using NUnit.Framework;
using Spectre.Console;

namespace ILGpuSat.Inference.Tests;

/// <summary>
/// <see cref="DivColorModel"/> (hypotheses, contact sheet, `colorize --samples`), <see cref="CatalogColorizer"/> and
/// <see cref="ColourModels"/>' choice by name or file, with small random models.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class DiverseColorizeTests
{
    private static readonly DivColorConfig Small = new() { Size = 16, Widths = [4, 6, 6, 8], Z = 4, Components = 3 };
    private string _folder = "";
    private string _divcolor = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-divcolor-").FullName;
        _divcolor = SaveDivColor(DivColorFile.MdnStage, ColorizerGrey.Band);
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private string SaveDivColor(string stage, string grey)
    {
        using var backend = new CpuBackend();
        using var net = new DivColor(new LayerFactory(backend, 4), Small);
        string path = Path.Combine(_folder, $"divcolor-{stage}.safetensors");
        SafeTensors.Save(path, net.StateDict(), new Dictionary<string, string>
        {
            [ModelFile.ModelKey] = DivColorFile.ModelName, [ModelFile.ConfigKey] = DivColorFile.ConfigJson(Small),
            [DivColorFile.StageKey] = stage, [ColorizerGrey.Key] = grey,
        });
        return path;
    }

    private static float[] Grey(int w, int h) => TestModels.Grey(w, h).Planes[0];

    private static void CaptureConsole(out StringWriter writer)
    {
        writer = new StringWriter();
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
    }

    [Test]
    public void HypothesesComeByWeightDifferInColourOnlyAndKeepTheLightness()
    {
        using var backend = new CpuBackend();
        using var model = DivColorModel.Load(_divcolor, backend);
        Assert.That(model.ReadsBand, Is.True);
        Assert.That(model.MaxHypotheses, Is.EqualTo(3));
        int w = 45, h = 37;
        var grey = Grey(w, h);
        var all = model.Hypotheses(grey, w, h, 3);
        Assert.That(all.Select(x => x.Weight), Is.Ordered.Descending);
        Assert.That(all.Sum(x => x.Weight), Is.EqualTo(1).Within(1e-9), "all K components: the weights are the whole mixture");
        var fields = model.AbFields(grey, w, h, 3);
        Assert.That(fields.Select(f => f.A.Length), Is.All.EqualTo(16 * 16));
        Assert.That(ILGpuSat.Imaging.Metrics.ColorMetrics.MeanPairwiseAbDistance(all.Select(x => { var (_, a, b) = ImageScores.ToLab(x.Rgb); return (a, b); }).ToList()), Is.GreaterThan(0), "the components decode to different colourings");
        foreach (var x in all)
        {
            var (l, _, _) = ImageScores.ToLab(x.Rgb);
            var deviation = l.Select((v, i) => Math.Abs(v - 100 * grey[i])).OrderBy(v => v).ToArray();
            Assert.That(deviation[deviation.Length / 2], Is.LessThan(0.5), "L* = 100 grey wherever the colour is in gamut");
        }
        Assert.That(model.Colorize(grey, w, h)[0], Is.EqualTo(all[0].Rgb[0]), "colorize is the most probable hypothesis");
        Assert.That(() => model.Hypotheses(grey, w, h, 4), Throws.ArgumentException.With.Message.Contains("1 to 3"));
        var small = model.Hypotheses(Grey(9, 7), 9, 7, 1);
        Assert.That(small[0].Rgb[0].Length, Is.EqualTo(63), "an image smaller than the field is enlarged to it and back");
    }

    [Test]
    public void TheColourEvaluationScoresTheTopHypothesisTheirDiversityAndTheBestOfThem()
    {
        var truth = TestModels.Colour(24, 20, 0.7);
        var other = TestModels.Colour(24, 20, 2.5);
        var images = new List<(string, RasterImage)> { ("a.png", truth) };
        var method = new ColourMethod("two", (g, w, h) => throw new InvalidOperationException("the hypotheses serve"),
                                      (g, w, h) => [other.Planes, truth.Planes]);
        var rows = ColourEvaluation.Run(images, [method, new ColourMethod("plain", (g, w, h) => truth.Planes)]);
        var two = rows.Single(r => r.Method == "two");
        var plain = rows.Single(r => r.Method == "plain");
        Assert.That(two.ColourPsnr, Is.LessThan(plain.ColourPsnr), "the main row scores the most probable (first) hypothesis");
        Assert.That(two.BestPsnr, Is.EqualTo(plain.ColourPsnr).Within(1e-9), "the best of them is the truth");
        Assert.That(two.Hypotheses, Is.EqualTo(2));
        var (_, ta, tb) = ImageScores.ToLab(truth.Planes);
        var (_, oa, ob) = ImageScores.ToLab(other.Planes);
        double expected = ta.Select((v, i) => Math.Sqrt((v - oa[i]) * (v - oa[i]) + (tb[i] - ob[i]) * (tb[i] - ob[i]))).Average();
        Assert.That(two.Diversity, Is.EqualTo(expected).Within(1e-6));
        Assert.That(plain.Diversity, Is.Null);
        Assert.That(ColourEvaluation.Markdown(rows), Does.Contain("best-of-K PSNR").And.Contain("(K = 2)"));
        Assert.That(ColourEvaluation.Csv(rows).Split('\n')[0], Does.EndWith("diversity_ab,best_of_k_psnr_db,k"));
    }

    [Test]
    public void TheBundledDivColorModelsLoadReadTheirGreyAndRankEightHypotheses()
    {
        using var backend = new CpuBackend();
        foreach (var name in DivColorModel.BundledNames)
        {
            using var bundled = (DivColorModel)ColourModels.Open(name, backend);
            Assert.That(bundled.ReadsBand, Is.EqualTo(name.EndsWith("-sar", StringComparison.Ordinal)), $"{name}: SAR reads band 1, optical its lightness");
            Assert.That(bundled.MaxHypotheses, Is.EqualTo(8));
            var hypotheses = bundled.Hypotheses(Grey(96, 80), 96, 80, 8);
            Assert.That(hypotheses.Select(h => h.Weight), Is.Ordered.Descending);
            var (_, a, b) = ImageScores.ToLab(hypotheses[0].Rgb);
            Assert.That(a.Concat(b).Average(Math.Abs), Is.GreaterThan(0.5), $"{name}: the top hypothesis has colour");
        }
        Assert.That(() => DivColorModel.LoadBundled("nope", backend), Throws.ArgumentException.With.Message.Contains("divcolor-sar"));
    }

    [Test]
    public void AVaeStageCheckpointAndOtherModelsAreRefusedByName()
    {
        using var backend = new CpuBackend();
        string early = SaveDivColor(DivColorFile.VaeStage, ColorizerGrey.Lightness);
        Assert.That(() => DivColorModel.Load(early, backend), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("before its MDN"));
        string other = Path.Combine(_folder, "deepsum.safetensors");
        SafeTensors.Save(other, new Dictionary<string, Engine.Tensor>(), new Dictionary<string, string> { [ModelFile.ModelKey] = "deepsum" });
        Assert.That(() => DivColorModel.Load(other, backend), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a divcolor"));
        Assert.That(() => ColourModels.Open(other, backend), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a colour model"));
        Assert.That(() => ColourModels.Open(Path.Combine(_folder, "missing.safetensors"), backend), Throws.InstanceOf<FileNotFoundException>());
        Assert.That(SafeTensors.ReadMetadata(_divcolor), Is.EqualTo(SafeTensors.Read(_divcolor).Metadata), "the header alone gives the metadata");
    }

    [Test]
    public void ColourModelsChoosesTheClassFromTheFileAndTheCatalogColorizerKeepsTheLightness()
    {
        using var backend = new CpuBackend();
        using (var d = ColourModels.Open(_divcolor, backend)) Assert.That(d, Is.InstanceOf<DivColorModel>());
        string liu = TestModels.Save(_folder, "liu2018-color", new Liu2018ColorConfig(Width: 0.0625));
        string srcnn = TestModels.Save(_folder, "srcnn", new SrcnnConfig(Width: 0.125));
        Assert.That(() => ColourModels.Open(srcnn, backend), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("no colour head"));
        using var catalog = ColourModels.Open(liu, backend);
        Assert.That(catalog, Is.InstanceOf<CatalogColorizer>());
        Assert.That(catalog.Name, Does.StartWith("liu2018-color ("));
        int w = 50, h = 38;
        var grey = Grey(w, h);
        var rgb = catalog.Colorize(grey, w, h);
        Assert.That(rgb.Select(p => p.Length), Is.All.EqualTo(w * h), "same size, also when a side is no multiple of 4");
        var (l, a, b) = ImageScores.ToLab(rgb);
        var deviation = l.Select((v, i) => Math.Abs(v - 100 * grey[i])).OrderBy(v => v).ToArray();
        Assert.That(deviation[deviation.Length / 2], Is.LessThan(0.5), "the input's own lightness, the model's colour");
        Assert.That(a.Concat(b).Max(Math.Abs), Is.GreaterThan(0.5), "some colour");
        Assert.That(ColourModels.BundledNames, Is.SupersetOf(new[] { "gan-colorizer", "gan-colorizer-sar", "divcolor", "divcolor-sar", "liu2018-color" }));
    }

    [Test]
    public void ExportDropsTheEncoderAndTheExportedFileColoursAsTheCheckpoint()
    {
        string exported = Path.Combine(_folder, "divcolor-exported.safetensors");
        var previous = AnsiConsole.Console;
        StringWriter text;
        int code;
        try
        {
            CaptureConsole(out text);
            code = Tools.Program.Main(["export", _divcolor, "-o", exported, "--dtype", "f32"]);
        }
        finally { AnsiConsole.Console = previous; }
        Assert.That(code, Is.EqualTo(0), text.ToString());
        var (tensors, metadata) = SafeTensors.Read(exported);
        Assert.That(tensors.Select(t => t.Name), Has.None.StartsWith("enc_").And.Some.StartsWith("grey_").And.Some.StartsWith("mdn").And.Some.StartsWith("dec_"));
        Assert.That(metadata[DivColorFile.StageKey], Is.EqualTo(DivColorFile.MdnStage));
        using var backend = new CpuBackend();
        using var original = DivColorModel.Load(_divcolor, backend);
        using var reloaded = DivColorModel.Load(exported, backend);
        var grey = Grey(20, 20);
        Assert.That(reloaded.Hypotheses(grey, 20, 20, 2)[1].Rgb[2], Is.EqualTo(original.Hypotheses(grey, 20, 20, 2)[1].Rgb[2]));
        string broken = Path.Combine(_folder, "divcolor-broken.safetensors");
        SafeTensors.Save(broken, tensors.Where(t => !t.Name.StartsWith("mdn", StringComparison.Ordinal)).Select(t => (t.Name, t.Value.Data, t.Value.Shape)), metadata);
        Assert.That(() => DivColorModel.Load(broken, backend), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("mdn.weight"));
    }

    [Test]
    public void ColorizeWritesTheSamplesAndAContactSheetAndRefusesSamplesOfAOneColouringModel()
    {
        string input = Path.Combine(_folder, "sar"), targets = Path.Combine(_folder, "fused"), output = Path.Combine(_folder, "samples");
        Directory.CreateDirectory(input);
        Directory.CreateDirectory(targets);
        ImageWriter.Write(Path.Combine(input, "048.png"), new RasterImage(40, 30, [Grey(40, 30)]));
        ImageWriter.Write(Path.Combine(targets, "048.png"), TestModels.Colour(40, 30, 1.0));
        var previous = AnsiConsole.Console;
        int code, refused;
        StringWriter text;
        try
        {
            CaptureConsole(out text);
            code = Tools.Program.Main(["colorize", input, "-o", output, "--model", _divcolor, "--samples", "3", "--target", targets, "--device", "cpu"]);
            refused = Tools.Program.Main(["colorize", input, "-o", output + "-gan", "--model", "gan-colorizer", "--samples", "3", "--device", "cpu"]);
        }
        finally { AnsiConsole.Console = previous; }
        Assert.That(code, Is.EqualTo(0), text.ToString());
        for (int k = 1; k <= 3; k++)
        {
            var sample = ImageReader.Read(Path.Combine(output, $"048_{k}.png"));
            Assert.That((sample.Width, sample.Height, sample.Bands), Is.EqualTo((40, 30, 3)));
        }
        var sheet = ImageReader.Read(Path.Combine(output, "048_sheet.png"));
        Assert.That(sheet.Width, Is.GreaterThanOrEqualTo(3 * 40), "input, target and samples side by side");
        Assert.That(sheet.Height, Is.GreaterThan(2 * 30), "references above, samples below");
        Assert.That(refused, Is.Not.EqualTo(0), text.ToString());
        Assert.That(text.ToString(), Does.Contain("draws one colouring"));
        Assert.That(Directory.Exists(output + "-gan") && Directory.EnumerateFiles(output + "-gan").Any(), Is.False, "nothing written");
    }
}
