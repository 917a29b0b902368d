using System.Globalization;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Inference.Evaluation;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Inference.Tests.Evaluation;

/// <summary>The evaluation on tiny images with tiny untrained models: table shapes, the bicubic row against a direct
/// computation, per-class grouping, parseable CSV, the figures, and bad input failing before any output.</summary>
[TestFixture]
public sealed class EvaluatorTests
{
    const int Side = 32;
    string _folder = null!;
    string _data = null!;
    string _liu = null!, _liuSr = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-eval-").FullName;
        _data = Path.Combine(_folder, "data");
        // Two classes of two images, one image at the top (its own class), one of odd size (cropped to 36x32).
        WriteColour(Path.Combine(_data, "Field", "a.png"), Side, Side, 0.3);
        WriteColour(Path.Combine(_data, "Field", "b.png"), Side, Side, 1.1);
        WriteColour(Path.Combine(_data, "Forest", "c.png"), 38, 33, 2.0);
        WriteColour(Path.Combine(_data, "Forest", "d.png"), Side, Side, 2.9);
        WriteColour(Path.Combine(_data, "top.png"), Side, Side, 4.0);
        _liu = TestModels.Save(_folder, "liu2018", new Liu2018Config(TrunkWidth: 0.0625, SrWidth: 0.125));
        _liuSr = TestModels.Save(_folder, "liu2018-sr", new Liu2018SrConfig(0.125));
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    static void WriteColour(string path, int w, int h, double hue)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ImageWriter.Write(path, TestModels.Colour(w, h, hue));
    }

    [Test]
    public void ListsClassesFromSubfoldersAndTheTopFolder()
    {
        var list = EvaluationSet.List(_data);
        Assert.That(list.Select(f => (Path.GetFileName(f.File), f.Class)), Is.EqualTo(new[]
        {
            ("top.png", EvaluationSet.RootClass), ("a.png", "Field"), ("b.png", "Field"), ("c.png", "Forest"), ("d.png", "Forest"),
        }));
        Assert.That(EvaluationSet.List(_data, perClass: 1).Select(f => Path.GetFileName(f.File)), Is.EqualTo(new[] { "top.png", "a.png", "c.png" }));
        var c = EvaluationSet.Load(_data).Single(x => x.Name == "c");
        Assert.That((c.Width, c.Height, c.LowResolution.Width, c.LowResolution.Height), Is.EqualTo((36, 32, 9, 8)), "cropped to multiples of 4");
    }

    [Test]
    public void TablesHaveOneRowPerClassAndMethodAndTheBicubicRowIsTheDirectComputation()
    {
        var cases = EvaluationSet.Load(_data);
        string output = Path.Combine(_folder, "out-" + Guid.NewGuid().ToString("N"));
        using var cpu = Backends.Create("cpu");
        var methods = new List<IEvaluatedMethod>
        {
            new BicubicMethod(), new EnhancerMethod(Enhancer.Load(_liuSr, cpu)), new EnhancerMethod(Enhancer.Load(_liu, cpu)),
        };
        EvaluationReport report;
        try { report = Evaluator.Run(cases, methods, output, new EvaluationOptions { GridImages = 2, MapImage = "b.png", MapTileSize = 8 }); }
        finally { foreach (var m in methods) m.Dispose(); }

        // Rows: 3 classes + all, 3 methods each, in the given order; image counts per class.
        string[] classes = [EvaluationSet.RootClass, "Field", "Forest", MethodSummary.AllClasses];
        Assert.That(report.Summaries.Select(s => (s.Class, s.Method)),
            Is.EqualTo(classes.SelectMany(c => new[] { (c, "bicubic"), (c, "liu2018-sr"), (c, "liu2018") })));
        Assert.That(report.Summaries.Where(s => s.Method == "bicubic").Select(s => s.Images), Is.EqualTo(new[] { 1, 2, 2, 5 }));

        // Colour columns only for the model with a colour head; parameters as fp32 MB.
        var all = report.Summaries.Where(s => s.Class == MethodSummary.AllClasses).ToDictionary(s => s.Method);
        Assert.That(all["bicubic"].ColourPsnr, Is.Null);
        Assert.That(all["liu2018-sr"].AbAuc, Is.Null);
        Assert.That(all["liu2018"].ColourPsnr, Is.Not.Null.And.GreaterThan(0));
        Assert.That(all["liu2018"].AbAuc, Is.InRange(0.0, 1.0));
        Assert.That(all["liu2018"].ColourfulnessRatio, Is.EqualTo(all["liu2018"].Colourfulness!.Value / all["liu2018"].TruthColourfulness).Within(1e-12));
        Assert.That(all["bicubic"].ParameterMegabytes, Is.EqualTo(0));
        using (var probe = Enhancer.Load(_liu, cpu))
            Assert.That(all["liu2018"].ParameterMegabytes, Is.EqualTo(probe.Model.Network.Parameters().Sum(p => (long)p.Length) * 4 / 1e6).Within(1e-12));

        // The bicubic row, image by image, computed here from the file with the library's primitives.
        foreach (var c in cases)
        {
            var (psnr, ssim) = DirectBicubic(ImageReader.Read(c.File));
            var got = report.Scores.Single(s => s.Method == "bicubic" && s.File == c.File);
            Assert.That(got.YPsnr, Is.EqualTo(psnr).Within(1e-5), c.Name + " (float rounding of Y)");
            Assert.That(got.Ssim, Is.EqualTo(ssim).Within(1e-7), c.Name);
        }
        var field = report.Summaries.Single(s => s.Class == "Field" && s.Method == "bicubic");
        Assert.That(field.YPsnr, Is.EqualTo(report.Scores.Where(s => s.Class == "Field" && s.Method == "bicubic").Average(s => s.YPsnr)).Within(1e-12));

        // CSV: the header, one parseable row per summary, numbers in invariant culture, empty colour cells.
        var lines = File.ReadAllLines(Path.Combine(output, Evaluator.SummaryCsv));
        Assert.That(lines[0].Split(','), Is.EqualTo(TableWriter.CsvColumns));
        Assert.That(lines.Length - 1, Is.EqualTo(report.Summaries.Count));
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            Assert.That(cells, Has.Length.EqualTo(TableWriter.CsvColumns.Length), line);
            foreach (var cell in cells.Skip(2).Where(x => x.Length > 0))
                Assert.That(double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _), cell);
        }
        var csvAll = lines.Single(l => l.StartsWith(MethodSummary.AllClasses + ",liu2018,", StringComparison.Ordinal)).Split(',');
        Assert.That(double.Parse(csvAll[3], CultureInfo.InvariantCulture), Is.EqualTo(all["liu2018"].YPsnr));
        Assert.That(lines.Single(l => l.StartsWith(MethodSummary.AllClasses + ",bicubic,", StringComparison.Ordinal)).Split(',')[5], Is.Empty);
        Assert.That(File.ReadAllLines(Path.Combine(output, Evaluator.PerImageCsv)), Has.Length.EqualTo(1 + 3 * cases.Count));

        // Markdown: the overall table and a per-class table naming every class and method.
        var md = File.ReadAllText(Path.Combine(output, Evaluator.SummaryMarkdown));
        Assert.That(md, Does.Contain("## All images (5)"));
        Assert.That(md, Does.Contain("| class | bicubic | liu2018-sr | liu2018 |"));
        Assert.That(md, Does.Contain("| Forest |"));
        Assert.That(md, Does.Contain("## ab-error AuC per class"));

        // Figures: grid of 2 rows x (LR, 3 grey results, 1 colour, truth); map of truth + 3 maps + legend.
        var (gw, gh) = ImageReader.ReadSize(Path.Combine(output, Evaluator.GridPng));
        Assert.That((gw, gh), Is.EqualTo((6 * Side + 5 * PictureGrid.Gap, 2 * Side + PictureGrid.Gap)));
        var (mw, mh) = ImageReader.ReadSize(Path.Combine(output, Evaluator.MapPng));
        Assert.That((mw, mh), Is.EqualTo((4 * Side + 3 * PictureGrid.Gap + 2 + 16, Side)));
        Assert.That(Directory.GetFiles(output).Select(Path.GetFileName), Is.EquivalentTo(new[]
            { Evaluator.SummaryMarkdown, Evaluator.SummaryCsv, Evaluator.PerImageCsv, Evaluator.GridPng, Evaluator.MapPng }));
    }

    /// <summary>Grey = sRGB grey of L*; LR = antialiased MATLAB bicubic /4; bicubic x4; BT.601 Y; border 4.</summary>
    static (double Psnr, double Ssim) DirectBicubic(RasterImage image)
    {
        int w = image.Width / 4 * 4, h = image.Height / 4 * 4, n = w * h;
        var rgb = Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, n).Select(i => image.Planes[c][i / w * image.Width + i % w]).ToArray()).ToArray();
        var l = new float[n];
        Lab.RgbToL(rgb[0], rgb[1], rgb[2], l);
        var grey = new float[n];
        Lab.LabToRgb(l, new float[n], new float[n], grey, new float[n], new float[n]);
        var low = Resampler.Resize(grey, w, h, w / 4, h / 4, ResampleKernel.Bicubic, antialias: true).Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
        var up = Resampler.Resize(low, w / 4, h / 4, w, h, ResampleKernel.Bicubic, antialias: true).Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
        var ty = grey.Select(v => 16f + 219f * v).ToArray();
        var uy = up.Select(v => 16f + 219f * v).ToArray();
        return (ImageMetrics.Psnr(ty, uy, w, h, 255, 4), ImageMetrics.Ssim(ty, uy, w, h, 255, 4));
    }

    [Test]
    public void AGreyImageInTheFolderFailsNamingItAndWritesNothing()
    {
        string data = Path.Combine(_folder, "bad-" + Guid.NewGuid().ToString("N"));
        WriteColour(Path.Combine(data, "A", "ok.png"), Side, Side, 1);
        string grey = Path.Combine(data, "A", "zgrey.png");
        ImageWriter.Write(grey, TestModels.Grey(Side, Side));
        var e = Assert.Throws<InvalidDataException>(() => EvaluationSet.Load(data))!;
        Assert.That(e.Message, Does.StartWith(grey).And.Contain("RGB"));
        string tiny = Path.Combine(data, "B", "tiny.png");
        WriteColour(tiny, 6, 6, 1);
        Assert.That(Assert.Throws<InvalidDataException>(() => EvaluationSet.Prepare(tiny, "B", ImageReader.Read(tiny)))!.Message, Does.StartWith(tiny).And.Contain("too small"));
string empty = Path.Combine(data, "empty");
        Directory.CreateDirectory(empty);
        Assert.That(Assert.Throws<InvalidDataException>(() => EvaluationSet.List(empty))!.Message, Does.StartWith(empty).And.Contain("holds no image"));
    }

    [Test]
    public void AnUnknownMapImageIsAnErrorBeforeAnyOutput()
    {
        var cases = EvaluationSet.Load(_data, perClass: 1);
        string output = Path.Combine(_folder, "none-" + Guid.NewGuid().ToString("N"));
        using var bicubic = new BicubicMethod();
        Assert.That(Assert.Throws<ArgumentException>(() => Evaluator.Run(cases, [bicubic], output, new EvaluationOptions { MapImage = "nope.png" }))!.Message,
            Does.Contain("nope.png"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void BicubicOnTwoRsscn7ImagesPerClass()
    {
        string data = RepositoryPaths.RequireSharedData("satellite-test/RSSCN7");
        var cases = EvaluationSet.Load(data, perClass: 2);
        string output = Path.Combine(_folder, "rsscn7-" + Guid.NewGuid().ToString("N"));
        using var bicubic = new BicubicMethod();
        var report = Evaluator.Run(cases, [bicubic], output, new EvaluationOptions { GridImages = 1 });
        var classes = report.Summaries.Where(s => s.Class != MethodSummary.AllClasses).ToList();
        Assert.That(classes, Has.Count.EqualTo(7));
        Assert.That(classes.Select(s => s.Images), Is.All.EqualTo(2));
        // Bicubic 4x on 400x400 satellite scenes: the paper's Table 2 has 27.85 dB over RSSCN7.
        Assert.That(report.Summaries.Single(s => s.Class == MethodSummary.AllClasses).YPsnr, Is.InRange(22.0, 36.0));
        TestContext.Out.WriteLine(File.ReadAllText(Path.Combine(output, Evaluator.SummaryMarkdown)));
    }
}
