using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Networks;
using NUnit.Framework;
using Spectre.Console;

namespace ILGpuSat.Inference.Tests;

/// <summary>`ilgpusat enhance` end to end on tiny files: folders, a bad file, --overwrite, GeoTIFF and 16-bit.</summary>
[TestFixture, NonParallelizable]
public sealed class EnhanceCommandTests
{
    private string _folder = "";
    private string _model = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-enhance-cli-").FullName;
        _model = TestModels.Save(_folder, "srcnn", new SrcnnConfig(Width: 0.125));
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    /// <summary>Runs the CLI and returns its exit code and what it printed.</summary>
    private (int Code, string Output) Cli(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        try
        {
            int code = Tools.Program.Main([.. args, "--model", _model, "--device", "cpu"]);
            return (code, writer.ToString());
        }
        finally
        {
            AnsiConsole.Console = previous;
        }
    }

    [Test]
    public void FolderWithABadFileIsProcessedTheBadOneNamedAndTheExitCodeSaysSo()
    {
        string input = Path.Combine(_folder, "in-folder"), output = Path.Combine(_folder, "out-folder");
        Directory.CreateDirectory(Path.Combine(input, "sub"));
        ImageWriter.Write(Path.Combine(input, "a.png"), TestModels.Grey(12, 10));
        ImageWriter.Write(Path.Combine(input, "sub", "b.tif"), TestModels.Colour(9, 7, hue: 1));
        File.WriteAllBytes(Path.Combine(input, "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllText(Path.Combine(input, "notes.txt"), "not an image");

        var (code, text) = Cli("enhance", input, "-o", output);
        TestContext.Out.WriteLine(text);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(text, Does.Contain("broken.png"));
        Assert.That(File.Exists(Path.Combine(output, "a_x4.png")));
        Assert.That(File.Exists(Path.Combine(output, "sub", "b_x4.tif")));
        Assert.That(File.Exists(Path.Combine(output, "broken_x4.png")), Is.False);
        Assert.That(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories), Is.Empty, "no temporaries left");
        var b = ImageReader.Read(Path.Combine(output, "sub", "b_x4.tif"));
        Assert.That((b.Width, b.Height, b.Bands), Is.EqualTo((36, 28, 3)));

        // Existing outputs are kept...
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(output, "a_x4.png"), stamp);
        (code, text) = Cli("enhance", Path.Combine(input, "a.png"), "-o", output);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(text, Does.Contain("skipped"));
        Assert.That(File.GetLastWriteTimeUtc(Path.Combine(output, "a_x4.png")), Is.EqualTo(stamp));
        // ...unless --overwrite.
        (code, _) = Cli("enhance", Path.Combine(input, "a.png"), "-o", output, "--overwrite");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(File.GetLastWriteTimeUtc(Path.Combine(output, "a_x4.png")), Is.Not.EqualTo(stamp));
    }

    [Test]
    public void GeoTiffKeepsItsGeoreferenceScaledAndItsNodataThroughTheStreamedWriter()
    {
        string src = Path.Combine(_folder, "geo.tif"), dst = Path.Combine(_folder, "geo_out.tif");
        var image = TestModels.Grey(10, 8);
        image.Valid = Enumerable.Range(0, 80).Select(i => i % 9 != 4).ToArray();
        image.Geo = new GeoReference
        {
            ModelPixelScale = [30, 30, 0],
            ModelTiepoint = [0, 0, 0, 500000, 4100000, 0],
            GeoKeyDirectory = [1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32633],
        };
        ImageWriter.Write(src, image, new WriteOptions { BitDepth = 16 });

        var (code, text) = Cli("enhance", src, "-o", dst, "--grey-sr", "--tile", "6", "--overlap", "2");
        Assert.That(code, Is.EqualTo(0), text);
        foreach (var path in new[] { dst, Path.Combine(_folder, "geo_out_grey.tif") })
        {
            var result = ImageReader.Read(path);
            Assert.That((result.Width, result.Height), Is.EqualTo((40, 32)));
            Assert.That(result.SourceBitDepth, Is.EqualTo(16), "16-bit in gives 16-bit out");
            Assert.That(result.Geo!.ModelPixelScale![0], Is.EqualTo(7.5));
            Assert.That(result.Geo.ModelPixelScale[1], Is.EqualTo(7.5));
            Assert.That(result.Geo.RasterToModel(0, 0), Is.EqualTo((500000.0, 4100000.0)));
            Assert.That(result.Geo.GeoKeyDirectory, Is.EqualTo(image.Geo.GeoKeyDirectory));
            Assert.That(result.Valid, Is.Not.Null);
            for (int y = 0; y < 32; y++)
            for (int x = 0; x < 40; x++)
                Assert.That(result.Valid![y * 40 + x], Is.EqualTo(image.Valid[y / 4 * 10 + x / 4]), $"{path} ({x}, {y})");
        }
    }

    [Test]
    public void SixteenBitPngGivesSixteenBitPngAndASideBySideWithBicubic()
    {
        string src = Path.Combine(_folder, "deep.png"), dst = Path.Combine(_folder, "deep_out.png");
        ImageWriter.Write(src, TestModels.Grey(8, 8), new WriteOptions { BitDepth = 16 });
        var (code, text) = Cli("enhance", src, "-o", dst, "--side-by-side");
        Assert.That(code, Is.EqualTo(0), text);
        Assert.That(ImageReader.Read(dst).SourceBitDepth, Is.EqualTo(16));
        var compare = ImageReader.Read(Path.Combine(_folder, "deep_out_compare.png"));
        Assert.That((compare.Width, compare.Height), Is.EqualTo((64, 32)));
    }
}
