using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

[TestFixture]
public class TiffReadTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-tiff-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    static IEnumerable<TestCaseData> Layouts()
    {
        foreach (int bands in new[] { 1, 3, 4, 6 })
        foreach (bool planar in new[] { false, true })
        foreach (bool tiled in new[] { false, true })
        {
            if (bands == 1 && planar) continue;
            var c = bands == 4 ? Compression.LZW : bands == 6 ? Compression.ADOBE_DEFLATE : Compression.NONE;
            yield return new TestCaseData(new TiffFixtures.Spec { Bands = bands, Bits = 16, Planar = planar, Tiled = tiled, Compression = c })
                .SetName($"Read16Bit_{bands}bands_{(planar ? "planar" : "chunky")}_{(tiled ? "tiled" : "stripped")}_{c}");
        }
        yield return new TestCaseData(new TiffFixtures.Spec { Bands = 3, Bits = 8 }).SetName("Read8Bit_RGB_stripped");
        yield return new TestCaseData(new TiffFixtures.Spec { Bands = 2, Bits = 8, Tiled = true, Planar = true }).SetName("Read8Bit_2bands_planar_tiled");
        yield return new TestCaseData(new TiffFixtures.Spec { Bands = 1, Bits = 16, Format = SampleFormat.INT }).SetName("ReadInt16");
        yield return new TestCaseData(new TiffFixtures.Spec { Bands = 2, Bits = 32, Format = SampleFormat.IEEEFP, Tiled = true }).SetName("ReadFloat32_tiled");
        yield return new TestCaseData(new TiffFixtures.Spec { Bands = 3, Bits = 16, BigEndian = true }).SetName("Read16Bit_BigEndian");
    }

    [TestCaseSource(nameof(Layouts))]
    public void ReadsEverySampleOfEveryLayout(TiffFixtures.Spec s)
    {
        string f = Path.Combine(dir, "t.tif");
        TiffFixtures.Write(f, s);
        // Full range keeps the arithmetic exact: value / type max (floats are taken as 0..1 and clamped).
        var img = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((img.Width, img.Height, img.Bands, img.SourceBitDepth), Is.EqualTo((s.Width, s.Height, s.Bands, s.Bits)));
        double max = s.Bits == 8 ? 255 : s.Format == SampleFormat.INT ? 32767 : s.Format == SampleFormat.IEEEFP ? 1 : 65535;
        for (int b = 0; b < s.Bands; b++)
        for (int y = 0; y < s.Height; y++)
        for (int x = 0; x < s.Width; x++)
        {
            double expect = Math.Clamp(TiffFixtures.Value(s, b, x, y) / max, 0, 1);
            Assert.That(img[b, y, x], Is.EqualTo(expect).Within(1e-6), $"band {b} at ({x},{y})");
        }
    }

    [Test]
    public void PercentileStretchMatchesNumpyLinearPercentilesPerBand()
    {
        var s = new TiffFixtures.Spec { Bands = 3, Bits = 16, Width = 41, Height = 23 };
        string f = Path.Combine(dir, "p.tif");
        TiffFixtures.Write(f, s);
        var img = ImageReader.Read(f); // Auto: percentile 2..98 for 16-bit
        Assert.That(img.Stretch, Is.Not.Null);
        for (int b = 0; b < 3; b++)
        {
            var vals = Enumerable.Range(0, s.Width * s.Height).Select(i => TiffFixtures.Value(s, b, i % s.Width, i / s.Width)).ToArray();
            double lo = TiffFixtures.Percentile(vals, 2), hi = TiffFixtures.Percentile(vals, 98);
            Assert.That(img.Stretch![b].Low, Is.EqualTo(lo).Within(1e-9));
            Assert.That(img.Stretch![b].High, Is.EqualTo(hi).Within(1e-9));
            for (int i = 0; i < vals.Length; i += 17)
                Assert.That(img.Planes[b][i], Is.EqualTo(Math.Clamp((vals[i] - lo) / (hi - lo), 0, 1)).Within(1e-6));
        }
    }

    [Test]
    public void PercentileOfARampIsHandComputable()
    {
        // Values 0..99: numpy's 2nd percentile is at position 0.02*99 = 1.98, the 98th at 97.02.
        var s = new TiffFixtures.Spec { Width = 10, Height = 10, Bits = 16 };
        string f = Path.Combine(dir, "r.tif");
        TiffFixtures.Write(f, s, (b, x, y) => y * 10 + x);
        var img = ImageReader.Read(f);
        Assert.That(img.Stretch![0].Low, Is.EqualTo(1.98).Within(1e-12));
        Assert.That(img.Stretch![0].High, Is.EqualTo(97.02).Within(1e-12));
        Assert.That(img[0, 5, 0], Is.EqualTo((50 - 1.98) / (97.02 - 1.98)).Within(1e-6));
        Assert.That(img[0, 0, 0], Is.EqualTo(0f));
        Assert.That(img[0, 9, 9], Is.EqualTo(1f));

        var custom = ImageReader.Read(f, new ReadOptions { LowPercentile = 10, HighPercentile = 90 });
        Assert.That(custom.Stretch![0].Low, Is.EqualTo(9.9).Within(1e-12));
        Assert.That(custom.Stretch![0].High, Is.EqualTo(89.1).Within(1e-12));
    }

    [Test]
    public void GdalNoDataTagBecomesTheMaskAndIsExcludedFromPercentiles()
    {
        // Left half nodata (0), right half a ramp 1000..: the stretch must see only the ramp.
        var s = new TiffFixtures.Spec { Width = 20, Height = 10, Bands = 2, NoData = "0" };
        string f = Path.Combine(dir, "nd.tif");
        TiffFixtures.Write(f, s, (b, x, y) => x < 10 ? 0 : 1000 + b * 50 + (x - 10) * 10 + y * 100);
        var img = ImageReader.Read(f);
        Assert.That(img.Valid, Is.Not.Null);
        Assert.That(img.Valid!.Count(v => !v), Is.EqualTo(100));
        Assert.That(img.IsValid(5), Is.False);
        Assert.That(img.IsValid(15), Is.True);
        Assert.That(img.Geo?.GdalNoData, Is.EqualTo("0"));
        var valid = Enumerable.Range(0, 100).Select(i => 1000.0 + (i % 10) * 10 + (i / 10) * 100).ToArray();
        Assert.That(img.Stretch![0].Low, Is.EqualTo(TiffFixtures.Percentile(valid, 2)).Within(1e-9));
        Assert.That(img.Stretch![0].High, Is.EqualTo(TiffFixtures.Percentile(valid, 98)).Within(1e-9));
        Assert.That(img.Planes[0][0], Is.EqualTo(0f));

        var ignored = ImageReader.Read(f, new ReadOptions { IgnoreFileNoData = true });
        Assert.That(ignored.Valid, Is.Null);
        var overridden = ImageReader.Read(f, new ReadOptions { NoData = 1050 });
        Assert.That(overridden.Valid!.Count(v => !v), Is.EqualTo(2), "1050 occurs at (15,0) in band 0 and (10,0) in band 1");
        Assert.That(overridden.IsValid(15) || overridden.IsValid(10), Is.False);
    }

    [Test]
    public void BandSelectionPicksOneBasedBandsInTheGivenOrder()
    {
        var s = new TiffFixtures.Spec { Bands = 4, Bits = 16, Planar = true };
        string f = Path.Combine(dir, "ms.tif");
        TiffFixtures.Write(f, s);
        var all = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.FullRange });
        var sel = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.FullRange, Bands = new[] { 3, 2, 1 } });
        Assert.That(sel.Bands, Is.EqualTo(3));
        Assert.That(sel.Planes[0], Is.EqualTo(all.Planes[2]));
        Assert.That(sel.Planes[1], Is.EqualTo(all.Planes[1]));
        Assert.That(sel.Planes[2], Is.EqualTo(all.Planes[0]));
        var ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(f, new ReadOptions { Bands = new[] { 5 } }));
        Assert.That(ex!.Message, Does.Contain("ms.tif").And.Contain("band 5"));
    }

    [Test]
    public void FloatNaNIsNoData()
    {
        var s = new TiffFixtures.Spec { Bits = 32, Format = SampleFormat.IEEEFP, Width = 8, Height = 8 };
        string f = Path.Combine(dir, "nan.tif");
        TiffFixtures.Write(f, s, (b, x, y) => x == 3 && y == 4 ? double.NaN : x + y);
        var img = ImageReader.Read(f);
        Assert.That(img.Valid![4 * 8 + 3], Is.False);
        Assert.That(img.Valid.Count(v => !v), Is.EqualTo(1));
        Assert.That(img.Planes[0].All(float.IsFinite));
    }
}
