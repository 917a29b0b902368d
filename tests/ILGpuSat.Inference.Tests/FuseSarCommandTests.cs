using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;
using Spectre.Console;

namespace ILGpuSat.Inference.Tests;

/// <summary>`ilgpusat fuse-sar` on pairs written here: folders paired by name, GeoTIFF kept, bad pairs named.</summary>
[TestFixture, NonParallelizable]
public sealed class FuseSarCommandTests
{
    private string _folder = "";

    [SetUp]
    public void Setup() => _folder = Directory.CreateTempSubdirectory("ilgpusat-fuse-sar-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private static (int Code, string Output) Cli(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        try { return (Tools.Program.Main(args), writer.ToString()); }
        finally { AnsiConsole.Console = previous; }
    }

    private static float[] Ramp(int n, float scale) => Enumerable.Range(0, n).Select(i => scale * (i % 17) / 17f + 0.05f).ToArray();

    [Test]
    public void FoldersPairByNameGeoTiffKeepsItsGeoreferenceAndABadPairIsNamed()
    {
        string sar = Path.Combine(_folder, "sar"), optical = Path.Combine(_folder, "optical"), output = Path.Combine(_folder, "out");
        Directory.CreateDirectory(sar);
        Directory.CreateDirectory(optical);
        var geo = new GeoReference { ModelPixelScale = [10, 10, 0], ModelTiepoint = [0, 0, 0, 300000, 3700000, 0], GeoKeyDirectory = [1, 1, 0, 1, 1024, 0, 1, 1] };
        ImageWriter.Write(Path.Combine(sar, "a.tif"), new RasterImage(8, 6, [Ramp(48, 0.8f)]), new WriteOptions { Geo = geo });
        ImageWriter.Write(Path.Combine(optical, "a.tif"), new RasterImage(8, 6, [Ramp(48, 0.5f), Ramp(48, 0.7f), Ramp(48, 0.2f)]));
        ImageWriter.Write(Path.Combine(sar, "b.png"), new RasterImage(8, 6, [Ramp(48, 0.9f)]));
        ImageWriter.Write(Path.Combine(optical, "b.png"), new RasterImage(5, 6, [Ramp(30, 0.5f), Ramp(30, 0.5f), Ramp(30, 0.5f)]));
        ImageWriter.Write(Path.Combine(sar, "c.png"), new RasterImage(8, 6, [Ramp(48, 0.9f)]));

        var (code, text) = Cli("fuse-sar", sar, optical, "-o", output);
        Assert.That(code, Is.EqualTo(1), text);
        Assert.That(text, Does.Contain("b.png").And.Contain("co-registered").And.Contain("c.png").And.Contain("fused 1 pair(s)"));
        var fused = ImageReader.Read(Path.Combine(output, "a.tif"), new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((fused.Width, fused.Height, fused.Bands), Is.EqualTo((8, 6, 3)));
        Assert.That(fused.Geo!.ModelTiepoint, Is.EqualTo(geo.ModelTiepoint), "the SAR's georeference");
        Assert.That(fused.Geo.ModelPixelScale, Is.EqualTo(geo.ModelPixelScale));
        Assert.That(File.Exists(Path.Combine(output, "b.png")) || File.Exists(Path.Combine(output, "c.png")), Is.False, "nothing for a bad pair");

        // The fused lightness is the SAR's: brighter SAR, brighter output, whatever the optical brightness.
        var l = new float[48];
        ILGpuSat.Imaging.Color.Lab.RgbToL(fused.Planes[0], fused.Planes[1], fused.Planes[2], l);
        var sarValues = ImageReader.Read(Path.Combine(sar, "a.tif"), new ReadOptions { Stretch = StretchMode.FullRange }).Planes[0];
        for (int i = 0; i < 48; i++) Assert.That(l[i], Is.EqualTo(100 * sarValues[i]).Within(1.5), $"pixel {i}");

        (code, text) = Cli("fuse-sar", sar, optical, "-o", output);
        Assert.That(text, Does.Contain("kept"));
        (code, text) = Cli("fuse-sar", Path.Combine(sar, "a.tif"), optical, "-o", output);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(text, Does.Contain("two image files or two folders"));
    }
}
