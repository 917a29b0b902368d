using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tests.Common;
using NUnit.Framework;
using SixLabors.ImageSharp.PixelFormats;
using Png = SixLabors.ImageSharp.Formats.Png;

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
                // ImageSharp and libjpeg (PIL) differ in IDCT / chroma upsampling rounding: means agree to well under
                // one level (measured 0.011 levels at most; stb_image, before, 0.093).
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

    // PNG colour types: 0 grey, 4 grey+alpha, 2 RGB, 6 RGBA (IHDR byte 25; bit depth is byte 24).
    [TestCase(1, 8, 0)]
    [TestCase(2, 8, 4)]
    [TestCase(3, 8, 2)]
    [TestCase(4, 8, 6)]
    [TestCase(1, 16, 0)]
    [TestCase(2, 16, 4)]
    [TestCase(3, 16, 2)]
    [TestCase(4, 16, 6)]
    public void PngIsWrittenAsTheMatchingColourTypeAndDepth(int bands, int depth, int colourType)
    {
        string f = Path.Combine(dir, $"ct{bands}_{depth}.png");
        ImageWriter.Write(f, RasterImage.Create(5, 3, bands), new WriteOptions { BitDepth = depth });
        var b = File.ReadAllBytes(f);
        Assert.That((b[24], b[25]), Is.EqualTo(((byte)depth, (byte)colourType)));
        var back = ImageReader.Read(f);
        Assert.That((back.Bands, back.SourceBitDepth), Is.EqualTo((bands, depth)));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void SixteenBitPngRoundTripIsExact(int bands)
    {
        var img = RasterImage.Create(17, 9, bands);
        var rnd = new Random(bands);
        foreach (var p in img.Planes) for (int i = 0; i < p.Length; i++) p[i] = (float)rnd.NextDouble();
        // Out of range, NaN, the ends, one level, and a value exactly halfway between two levels (rounds up).
        float[] edges = [-0.5f, 1.5f, float.NaN, 0f, 1f, 1 / 65535f, 0.5f];
        for (int b = 0; b < bands; b++) edges.CopyTo(img.Planes[b], b);
        string f = Path.Combine(dir, $"rt16_{bands}.png");
        ImageWriter.Write(f, img, new WriteOptions { BitDepth = 16 });
        var back = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((back.Bands, back.SourceBitDepth), Is.EqualTo((bands, 16)));
        for (int b = 0; b < bands; b++)
            for (int i = 0; i < img.PixelCount; i++)
            {
                float v = img.Planes[b][i];
                double level = float.IsNaN(v) ? 0 : Math.Clamp(Math.Round(v * 65535.0, MidpointRounding.AwayFromZero), 0, 65535);
                Assert.That(back.Planes[b][i], Is.EqualTo(level / 65535).Within(1e-7), $"band {b} pixel {i} (written {v})");
            }
    }

    [TestCase(1, 1)]
    [TestCase(2, 1)]
    [TestCase(3, 3)]
    [TestCase(4, 3)]
    public void JpegKeepsGreyAsOneBandAndDropsAlpha(int bands, int expected)
    {
        var img = RasterImage.Create(48, 40, bands);
        for (int b = 0; b < bands; b++)
            for (int y = 0; y < img.Height; y++)
                for (int x = 0; x < img.Width; x++)
                    img[b, y, x] = b == 1 && bands == 2 ? 0f : 0.2f + 0.6f * (b % 2 == 0 ? x / 47f : y / 39f); // alpha 0 must not leak into grey
        string f = Path.Combine(dir, $"j{bands}.jpg");
        ImageWriter.Write(f, img, new WriteOptions { JpegQuality = 95 });
        var back = ImageReader.Read(f);
        Assert.That((back.Width, back.Height, back.Bands), Is.EqualTo((48, 40, expected)));
        for (int b = 0; b < expected; b++)
        {
            double worst = 0;
            for (int i = 0; i < img.PixelCount; i++) worst = Math.Max(worst, Math.Abs(back.Planes[b][i] - img.Planes[b][i]));
            Assert.That(worst, Is.LessThan(4 / 255.0), $"band {b}: a smooth ramp at quality 95 stays within a few levels");
        }
    }

    [Test]
    public void PalettePngBecomesRgbOrRgbaWhenItHasTransparency()
    {
        Rgba32[] colours = [new(10, 200, 30, 255), new(250, 0, 120, 0), new(0, 0, 0, 128), new(77, 88, 99, 255)];
        var encoder = new Png.PngEncoder { ColorType = Png.PngColorType.Palette, BitDepth = Png.PngBitDepth.Bit8 };
        foreach (bool alpha in new[] { true, false })
        {
            using var src = new SixLabors.ImageSharp.Image<Rgba32>(7, 5);
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 7; x++)
                {
                    var c = colours[(x + 2 * y) % 4];
                    src[x, y] = alpha ? c : new Rgba32(c.R, c.G, c.B, 255);
                }
            string f = Path.Combine(dir, $"palette{alpha}.png");
            using (var fs = File.Create(f)) src.Save(fs, encoder);
            Assert.That(File.ReadAllBytes(f)[25], Is.EqualTo(3), "the fixture is a palette PNG");

            var back = ImageReader.Read(f);
            Assert.That(back.Bands, Is.EqualTo(alpha ? 4 : 3));
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 7; x++)
                {
                    var c = src[x, y];
                    var want = new[] { c.R, c.G, c.B, c.A }[..back.Bands].Select(v => v / 255f);
                    Assert.That(Enumerable.Range(0, back.Bands).Select(b => back[b, y, x]), Is.EqualTo(want), $"pixel ({x}, {y})");
                }
        }
    }

    [Test]
    public void BandSelectionWorksForPngAndJpeg()
    {
        var img = RasterImage.Create(9, 6, 4);
        for (int b = 0; b < 4; b++) for (int i = 0; i < img.PixelCount; i++) img.Planes[b][i] = ((i * 13 + b * 50) % 256) / 255f;
        string png = Path.Combine(dir, "sel.png");
        ImageWriter.Write(png, img);
        var sel = ImageReader.Read(png, new ReadOptions { Bands = [4, 1] });
        Assert.That(sel.Bands, Is.EqualTo(2));
        Assert.That(sel.Planes[0], Is.EqualTo(img.Planes[3]).Within(1e-7));
        Assert.That(sel.Planes[1], Is.EqualTo(img.Planes[0]).Within(1e-7));
        var ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(png, new ReadOptions { Bands = [5] }));
        Assert.That(ex!.Message, Does.Contain("sel.png").And.Contain("band 5"));

        string jpg = Path.Combine(dir, "sel.jpg");
        ImageWriter.Write(jpg, img);
        var all = ImageReader.Read(jpg);
        var green = ImageReader.Read(jpg, new ReadOptions { Bands = [2] });
        Assert.That(green.Bands, Is.EqualTo(1));
        Assert.That(green.Planes[0], Is.EqualTo(all.Planes[1]));
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
