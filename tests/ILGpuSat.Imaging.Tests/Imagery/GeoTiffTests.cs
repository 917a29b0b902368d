using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

[TestFixture]
public class GeoTiffTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-geo-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    // UTM 33N (EPSG:32633), 10 m pixels, PixelIsArea: a typical Sentinel-2 GeoTIFF header.
    static readonly GeoReference Utm = new()
    {
        ModelPixelScale = new[] { 10.0, 10.0, 0.0 },
        ModelTiepoint = new[] { 0.0, 0.0, 0.0, 500000.0, 4649770.0, 0.0 },
        GeoKeyDirectory = new ushort[] { 1, 1, 0, 4, 1024, 0, 1, 1, 1025, 0, 1, 1, 1026, 34737, 22, 0, 3072, 0, 1, 32633 },
        GeoAsciiParams = "WGS 84 / UTM zone 33N|",
        GeoDoubleParams = new[] { 6378137.0, 298.257223563 },
    };

    static RasterImage Sample(int w, int h, int bands)
    {
        var img = RasterImage.Create(w, h, bands);
        for (int b = 0; b < bands; b++) for (int i = 0; i < img.PixelCount; i++) img.Planes[b][i] = ((i * 13 + b * 51) % 256) / 255f;
        return img;
    }

    [Test]
    public void GeoTagsRoundTripVerbatim()
    {
        var img = Sample(20, 12, 3);
        img.Geo = Utm;
        string f = Path.Combine(dir, "geo.tif");
        ImageWriter.Write(f, img);
        var back = ImageReader.Read(f);
        Assert.That(back.Geo, Is.Not.Null);
        Assert.That(back.Geo!.ModelPixelScale, Is.EqualTo(Utm.ModelPixelScale));
        Assert.That(back.Geo.ModelTiepoint, Is.EqualTo(Utm.ModelTiepoint));
        Assert.That(back.Geo.GeoKeyDirectory, Is.EqualTo(Utm.GeoKeyDirectory));
        Assert.That(back.Geo.GeoDoubleParams, Is.EqualTo(Utm.GeoDoubleParams));
        Assert.That(back.Geo.GeoAsciiParams, Is.EqualTo(Utm.GeoAsciiParams));
        for (int b = 0; b < 3; b++) Assert.That(back.Planes[b], Is.EqualTo(img.Planes[b]).Within(1e-7));

        // Independently of LibTiff: the raw IFD holds the tags with the GeoTIFF types and values.
        var raw = File.ReadAllBytes(f);
        Assert.That(TiffFixtures.DoubleTag(raw, 33550), Is.EqualTo(Utm.ModelPixelScale));
        Assert.That(TiffFixtures.DoubleTag(raw, 33922), Is.EqualTo(Utm.ModelTiepoint));
        Assert.That(TiffFixtures.ShortTag(raw, 34735), Is.EqualTo(Utm.GeoKeyDirectory));
    }

    [Test]
    public void FourTimesUpscaledOutputOverlaysTheInput()
    {
        var lr = Sample(25, 18, 1);
        lr.Geo = Utm;
        string lrPath = Path.Combine(dir, "lr.tif"), srPath = Path.Combine(dir, "sr.tif");
        ImageWriter.Write(lrPath, lr);
        var lrBack = ImageReader.Read(lrPath);
        var sr = RasterImage.Create(100, 72, 1);
        sr.Geo = lrBack.Geo!.ScaledBy(4);
        ImageWriter.Write(srPath, sr);
        var srBack = ImageReader.Read(srPath);

        var raw = File.ReadAllBytes(srPath);
        Assert.That(TiffFixtures.DoubleTag(raw, 33550), Is.EqualTo(new[] { 2.5, 2.5, 0.0 }), "pixel size / 4");
        Assert.That(TiffFixtures.DoubleTag(raw, 33922), Is.EqualTo(Utm.ModelTiepoint), "tie point kept");
        Assert.That(TiffFixtures.ShortTag(raw, 34735), Is.EqualTo(Utm.GeoKeyDirectory), "CRS keys copied");
        Assert.That(srBack.Geo!.GeoAsciiParams, Is.EqualTo(Utm.GeoAsciiParams));
        // Same ground footprint: the far corner of the SR raster is the far corner of the LR raster.
        Assert.That(srBack.Geo.RasterToModel(100, 72), Is.EqualTo(lrBack.Geo.RasterToModel(25, 18)));
        Assert.That(srBack.Geo.RasterToModel(0, 0), Is.EqualTo(lrBack.Geo.RasterToModel(0, 0)));
        Assert.That(srBack.Geo.RasterToModel(6, 10), Is.EqualTo((500015.0, 4649745.0)));
    }

    [Test]
    public void PixelIsPointTiePointMovesToTheNewPixelCentre()
    {
        var keys = (ushort[])Utm.GeoKeyDirectory!.Clone();
        keys[11] = GeoReference.RasterPixelIsPoint; // GTRasterTypeGeoKey value
        var g = Utm with { GeoKeyDirectory = keys, ModelTiepoint = new[] { 0.0, 0.0, 0.0, 500005.0, 4649765.0, 0.0 } };
        Assert.That(g.IsPixelIsPoint);
        var s = g.ScaledBy(4);
        // Old pixel centre 0 is new pixel coordinate 1.5 (centres of new pixels 0..3 are 0.125..0.875 old pixels).
        Assert.That(s.ModelTiepoint![0], Is.EqualTo(1.5));
        Assert.That(s.ModelTiepoint[1], Is.EqualTo(1.5));
        Assert.That(s.RasterToModel(-0.5, -0.5), Is.EqualTo(g.RasterToModel(-0.5, -0.5)), "outer corner unchanged");
    }

    [Test]
    public void ModelTransformationLinearPartIsDividedByTheFactor()
    {
        // A rotated raster (no pixel scale / tie point): X = 3c + 1r + 1000, Y = 1c - 3r + 2000.
        var g = new GeoReference
        {
            ModelTransformation = new[] { 3.0, 1, 0, 1000, 1, -3, 0, 2000, 0, 0, 0, 0, 0, 0, 0, 1 },
            GeoKeyDirectory = Utm.GeoKeyDirectory,
        };
        var s = g.ScaledBy(4);
        Assert.That(s.ModelTransformation, Is.EqualTo(new[] { 0.75, 0.25, 0, 1000, 0.25, -0.75, 0, 2000, 0, 0, 0, 0, 0, 0, 0, 1 }));
        Assert.That(s.RasterToModel(40, 28), Is.EqualTo(g.RasterToModel(10, 7)));

        var img = Sample(10, 7, 2);
        img.Geo = s;
        string f = Path.Combine(dir, "mt.tif");
        ImageWriter.Write(f, img, new WriteOptions { Tiled = true, TileSize = 16, BitDepth = 16 });
        var back = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That(back.Geo!.ModelTransformation, Is.EqualTo(s.ModelTransformation));
        for (int b = 0; b < 2; b++) Assert.That(back.Planes[b], Is.EqualTo(img.Planes[b]).Within(1.0 / 65535));
    }

    [TestCase(false, false, 8)]
    [TestCase(true, false, 8)]
    [TestCase(false, true, 16)]
    [TestCase(true, true, 16)]
    public void WriterLayoutsReadBack(bool tiled, bool planar, int bits)
    {
        var img = Sample(37, 21, 5);
        string f = Path.Combine(dir, "w.tif");
        ImageWriter.Write(f, img, new WriteOptions { Tiled = tiled, TileSize = 16, Planar = planar, BitDepth = bits, TiffCompression = TiffCompressionKind.Lzw });
        var back = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((back.Bands, back.SourceBitDepth), Is.EqualTo((5, bits)));
        for (int b = 0; b < 5; b++) Assert.That(back.Planes[b], Is.EqualTo(img.Planes[b]).Within(0.5 / ((1 << bits) - 1) + 1e-7));
    }

    [Test]
    public void MaskSurvivesAWriteAsNoData()
    {
        var img = Sample(8, 8, 1);
        img.Valid = Enumerable.Range(0, 64).Select(i => i % 5 != 0).ToArray();
        for (int i = 0; i < 64; i++) if (img.Planes[0][i] == 0) img.Planes[0][i] = 1 / 255f; // keep 0 for nodata only
        string f = Path.Combine(dir, "m.tif");
        ImageWriter.Write(f, img);
        var back = ImageReader.Read(f);
        Assert.That(back.Geo!.GdalNoData, Is.EqualTo("0"));
        Assert.That(back.Valid, Is.EqualTo(img.Valid));
    }

    [Test]
    public void SixteenBitWriteCanRestoreSourceUnits()
    {
        var s = new TiffFixtures.Spec { Bits = 16, Width = 30, Height = 20 };
        string src = Path.Combine(dir, "src.tif"), dst = Path.Combine(dir, "dst.tif");
        TiffFixtures.Write(src, s, (b, x, y) => 1000 + x * 20 + y * 7);
        var img = ImageReader.Read(src);
        ImageWriter.Write(dst, img, new WriteOptions { BitDepth = 16, RestoreSourceRange = true });
        var raw = ImageReader.Read(dst, new ReadOptions { Stretch = StretchMode.FullRange });
        // Inside the 2..98% window values come back to within the 16-bit rounding of the stretch.
        double lo = img.Stretch![0].Low, hi = img.Stretch[0].High;
        for (int i = 0; i < img.PixelCount; i++)
        {
            double v = 1000 + (i % 30) * 20 + (i / 30) * 7;
            Assert.That(raw.Planes[0][i] * 65535.0, Is.EqualTo(Math.Clamp(v, lo, hi)).Within(0.51));
        }
    }
}
