using System.Diagnostics;
using System.Globalization;
using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Defect 4 of the imaging issue: masked pixels leave as a nodata value that no valid pixel takes, the
/// GDAL_NODATA tag says that value, the mask survives resampling, and (where GDAL is installed) gdalinfo agrees.
/// </summary>
[TestFixture]
public class NoDataWriteTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-nodata-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    /// <summary>A source TIFF where every 7th pixel holds the nodata value and the rest spread over the type.</summary>
    string Source(SampleFormat format, string noData, double noDataValue)
    {
        var spec = new TiffFixtures.Spec { Width = 40, Height = 30, Bits = 16, Format = format, NoData = noData };
        string f = Path.Combine(dir, $"src_{format}.tif");
        TiffFixtures.Write(f, spec, (b, x, y) => (y * 40 + x) % 7 == 3 ? noDataValue : TiffFixtures.Value(spec, b, x, y));
        return f;
    }

    /// <summary>Reads the written file as plain numbers (no mask, no stretch) and checks the rule on them.</summary>
    static void AssertRule(string written, bool[] expectedValid, int bits)
    {
        var plain = ImageReader.Read(written, new ReadOptions { Stretch = StretchMode.Raw, IgnoreFileNoData = true });
        var tagged = ImageReader.Read(written);
        Assert.That(tagged.Geo?.GdalNoData, Is.Not.Null, "a masked image writes a GDAL_NODATA tag");
        double nd = double.Parse(tagged.Geo!.GdalNoData!, CultureInfo.InvariantCulture);
        Assert.That(nd, Is.InRange(0, (1 << bits) - 1), "the tag holds a value of the output type");
        for (int i = 0; i < expectedValid.Length; i++)
        {
            float v = plain.Planes[0][i];
            if (expectedValid[i]) Assert.That(v, Is.Not.EqualTo((float)nd), $"valid pixel {i} must not take the nodata value {nd}");
            else Assert.That(v, Is.EqualTo((float)nd), $"masked pixel {i} is written as the tag's value");
        }
        Assert.That(tagged.Valid, Is.EqualTo(expectedValid), "the mask reads back exactly");
    }

    [TestCase(8)]
    [TestCase(16)]
    public void Int16WithNoDataMinus9999KeepsItsMaskAtEightAndSixteenBits(int bits)
    {
        var img = ImageReader.Read(Source(SampleFormat.INT, "-9999", -9999));
        Assert.That(img.Valid!.Count(v => !v), Is.EqualTo(Enumerable.Range(0, 1200).Count(i => i % 7 == 3)));
        string f = Path.Combine(dir, $"out{bits}.tif");
        ImageWriter.Write(f, img, new WriteOptions { BitDepth = bits });
        AssertRule(f, img.Valid!, bits);
    }

    [Test]
    public void UInt16WithNoDataZeroWrittenAsEightBitsLosesNoValidPixel()
    {
        // The 2-98% stretch puts ~2% of valid pixels at 0 and ~2% at 255: both ends are taken.
        var img = ImageReader.Read(Source(SampleFormat.UINT, "0", 0));
        Assert.That(img.Planes[0].Where((v, i) => img.Valid![i] && v == 0f).Count(), Is.GreaterThan(0), "the darkest valid pixels stretch to 0");
        string f = Path.Combine(dir, "out8.tif");
        ImageWriter.Write(f, img, new WriteOptions { BitDepth = 8 });
        AssertRule(f, img.Valid!, 8);
    }

    [Test]
    public void SourceNoDataIsKeptWhenNoValidPixelTakesIt()
    {
        var img = ImageReader.Read(Source(SampleFormat.UINT, "0", 0));
        string f = Path.Combine(dir, "restored.tif");
        ImageWriter.Write(f, img, new WriteOptions { BitDepth = 16, RestoreSourceRange = true });
        Assert.That(ImageReader.Read(f).Geo!.GdalNoData, Is.EqualTo("0"), "UInt16 nodata 0 stays 0 in source units");
        AssertRule(f, img.Valid!, 16);
    }

    [Test]
    public void TagWithoutMaskedPixelsNeverMasksValidOnes()
    {
        // A nodata tag but no pixel holding it: valid zeros must not turn into nodata on the way out.
        var img = RasterImage.Create(16, 16, 1);
        for (int i = 0; i < 256; i++) img.Planes[0][i] = i / 255f;
        img.Geo = new GeoReference { GdalNoData = "0" };
        string f = Path.Combine(dir, "all_valid.tif");
        ImageWriter.Write(f, img);
        Assert.That(ImageReader.Read(f).Valid, Is.Null, "every pixel is still valid");
    }

    [Test]
    public void ResamplingCarriesTheMaskAndMaskedValuesDoNotBleed()
    {
        var img = RasterImage.Create(48, 40, 1);
        Array.Fill(img.Planes[0], 0.6f);
        var valid = new bool[img.PixelCount];
        for (int y = 0; y < 40; y++) for (int x = 0; x < 48; x++) valid[y * 48 + x] = !(x >= 20 && x < 32 && y >= 8 && y < 24);
        for (int i = 0; i < valid.Length; i++) if (!valid[i]) img.Planes[0][i] = 0f; // the reader's placeholder
        img.Valid = valid;
        img.Geo = new GeoReference { GdalNoData = "0" };
        foreach (double scale in new[] { 0.25, 0.5, 4.0 })
        {
            var r = Resampler.Scale(img, scale);
            Assert.That(r.Valid, Is.Not.Null, $"scale {scale}: mask kept");
            int masked = r.Valid!.Count(v => !v);
            Assert.That(masked, Is.EqualTo(12 * 16 * scale * scale).Within(12 * 16 * scale * scale * 0.35 + 2), $"scale {scale}: the hole scales with the image");
            for (int i = 0; i < r.PixelCount; i++)
                if (r.Valid![i]) Assert.That(r.Planes[0][i], Is.EqualTo(0.6f).Within(1e-5), $"scale {scale} pixel {i}: no bleeding from masked pixels");
            string f = Path.Combine(dir, $"scaled{scale}.tif");
            ImageWriter.Write(f, r);
            Assert.That(ImageReader.Read(f).Valid, Is.EqualTo(r.Valid), $"scale {scale}: the resampled mask is written");
        }
    }

    [Test]
    public void GdalinfoAgreesWithTheTagAndTheMask()
    {
        string? gdalinfo = FindOnPath("gdalinfo");
        if (gdalinfo is null) Assert.Ignore("skipped: gdalinfo (Debian gdal-bin) is not installed");
        var img = ImageReader.Read(Source(SampleFormat.INT, "-9999", -9999));
        string f = Path.Combine(dir, "for_gdal.tif");
        ImageWriter.Write(f, img, new WriteOptions { BitDepth = 8 });
        var psi = new ProcessStartInfo(gdalinfo!, ["-stats", "-json", f]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, p.StandardError.ReadToEnd());
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var band = doc.RootElement.GetProperty("bands")[0];
        string tag = ImageReader.Read(f).Geo!.GdalNoData!;
        Assert.That(band.GetProperty("noDataValue").GetDouble(), Is.EqualTo(double.Parse(tag, CultureInfo.InvariantCulture)));
        double validPercent = double.Parse(band.GetProperty("metadata").GetProperty("").GetProperty("STATISTICS_VALID_PERCENT").GetString()!, CultureInfo.InvariantCulture);
        Assert.That(validPercent, Is.EqualTo(100.0 * img.Valid!.Count(v => v) / img.PixelCount).Within(0.01), "GDAL counts the same valid pixels");
        foreach (var aux in Directory.GetFiles(dir, "*.aux.xml")) File.Delete(aux);
    }

    static string? FindOnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, exe)).FirstOrDefault(File.Exists);
}
