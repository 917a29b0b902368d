using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

[TestFixture]
public class PngJpegTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-png-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    [Test]
    public void RealSatelliteJpegsDecodeWithPilSizesAndMeans()
    {
        foreach (var j in ImagingGolden.Refs.GetProperty("jpegs").EnumerateObject())
        {
            string f = RepositoryPaths.RequireSharedData(j.Name);
            var img = ImageReader.Read(f);
            Assert.That((img.Width, img.Height, img.Bands, img.SourceBitDepth),
                Is.EqualTo((j.Value.GetProperty("width").GetInt32(), j.Value.GetProperty("height").GetInt32(), 3, 8)), j.Name);
            Assert.That(img.Valid, Is.Null);
            var means = j.Value.GetProperty("channel_means").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int b = 0; b < 3; b++)
            {
                // stb_image and libjpeg (PIL) differ in IDCT / chroma upsampling rounding: means agree to well under one level.
                Assert.That(img.Planes[b].Average(v => (double)v), Is.EqualTo(means[b]).Within(1.0 / 255), $"{j.Name} band {b}");
            }
        }
    }

    [Test]
    public void DetectsFormatFromContentNotExtension()
    {
        string f = Path.Combine(dir, "actually_a_png.jpg");
        var img = RasterImage.Create(5, 4, 3);
        img[1, 2, 3] = 1f;
        ImageWriter.Write(f, img, new WriteOptions { Format = ImageFileFormat.Png });
        var back = ImageReader.Read(f);
        Assert.That(back[1, 2, 3], Is.EqualTo(1f));
        Assert.That(back[0, 2, 3], Is.EqualTo(0f));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void PngRoundTripIsExactAtEightBits(int bands)
    {
        var img = RasterImage.Create(13, 7, bands);
        for (int b = 0; b < bands; b++)
            for (int i = 0; i < img.PixelCount; i++) img.Planes[b][i] = ((i * 37 + b * 91) % 256) / 255f;
        string f = Path.Combine(dir, $"rt{bands}.png");
        ImageWriter.Write(f, img);
        var back = ImageReader.Read(f);
        Assert.That(back.Bands, Is.EqualTo(bands));
        for (int b = 0; b < bands; b++) Assert.That(back.Planes[b], Is.EqualTo(img.Planes[b]).Within(1e-7));
    }

    [Test]
    public void JpegWriteHonoursQuality()
    {
        var img = RasterImage.Create(64, 64, 3);
        var rnd = new Random(3);
        foreach (var p in img.Planes) for (int i = 0; i < p.Length; i++) p[i] = (float)rnd.NextDouble();
        string lo = Path.Combine(dir, "q10.jpg"), hi = Path.Combine(dir, "q95.jpg");
        ImageWriter.Write(lo, img, new WriteOptions { JpegQuality = 10 });
        ImageWriter.Write(hi, img, new WriteOptions { JpegQuality = 95 });
        Assert.That(new FileInfo(lo).Length, Is.LessThan(new FileInfo(hi).Length / 2));
        var back = ImageReader.Read(hi);
        Assert.That((back.Width, back.Height, back.Bands), Is.EqualTo((64, 64, 3)));
    }

    [Test]
    public void SixteenBitPngsKeepAllBitsAndStretchOnRequest()
    {
        var (g, gShape) = ImagingGolden.Npy("grey16.npy");
        var grey = ImageReader.Read(ImagingGolden.File_("grey16.png"));
        Assert.That((grey.Height, grey.Width, grey.Bands, grey.SourceBitDepth), Is.EqualTo((gShape[0], gShape[1], 1, 16)));
        for (int i = 0; i < g.Length; i++) Assert.That(grey.Planes[0][i], Is.EqualTo(g[i] / 65535.0).Within(1e-7));

        var (c, cShape) = ImagingGolden.Npy("rgb16.npy");
        var rgb = ImageReader.Read(ImagingGolden.File_("rgb16.png"));
        Assert.That((rgb.Height, rgb.Width, rgb.Bands), Is.EqualTo((cShape[0], cShape[1], 3)));
        for (int i = 0; i < rgb.PixelCount; i++)
            for (int b = 0; b < 3; b++) Assert.That(rgb.Planes[b][i], Is.EqualTo(c[i * 3 + b] / 65535.0).Within(1e-7));

        var stretched = ImageReader.Read(ImagingGolden.File_("grey16.png"), new ReadOptions { Stretch = StretchMode.Percentile });
        var pct = ImagingGolden.Refs.GetProperty("grey16_percentiles_2_98").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.That(stretched.Stretch![0].Low, Is.EqualTo(pct[0]).Within(1e-9), "numpy.percentile(2)");
        Assert.That(stretched.Stretch![0].High, Is.EqualTo(pct[1]).Within(1e-9), "numpy.percentile(98)");
    }

    [Test]
    public void WriterLeavesNoTemporaryFilesAndReplacesAtomically()
    {
        string f = Path.Combine(dir, "out.png");
        File.WriteAllText(f, "old");
        ImageWriter.Write(f, RasterImage.Create(3, 3, 1));
        Assert.That(ImageReader.Read(f).Width, Is.EqualTo(3));
        Assert.That(Directory.GetFiles(dir), Is.EquivalentTo(new[] { f }));

        // A failed write (too many bands for PNG) must neither create the target nor leave a temporary file.
        string g = Path.Combine(dir, "bad.png");
        var ex = Assert.Throws<ImageFormatException>(() => ImageWriter.Write(g, RasterImage.Create(3, 3, 5)));
        Assert.That(ex!.Message, Does.Contain("bad.png"));
        Assert.That(Directory.GetFiles(dir), Is.EquivalentTo(new[] { f }));
    }
}
