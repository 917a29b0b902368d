using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>GeoTIFFs written by GDAL 3.6 (make_imaging_refs.py): pixel values, nodata, percentiles and the
/// GDAL geotransform must come out of our reader as GDAL put them in.</summary>
[TestFixture]
public class GdalInteropTests
{
    static IEnumerable<string> Files() => new[] { "gdal_u16_tiled_planar.tif", "gdal_i16_strips_point.tif", "gdal_f32_rotated.tif" };

    [TestCaseSource(nameof(Files))]
    public void ValuesMaskAndStretchMatchGdal(string name)
    {
        var info = ImagingGolden.Refs.GetProperty("gdal").GetProperty(name);
        var (data, shape) = ImagingGolden.Npy(name.Replace(".tif", ".npy"));
        var raw = ImageReader.Read(ImagingGolden.File_(name), new ReadOptions { Stretch = StretchMode.Raw });
        Assert.That((raw.Bands, raw.Height, raw.Width), Is.EqualTo((shape[0], shape[1], shape[2])));
        int n = raw.PixelCount;
        Assert.That(raw.Valid?.Count(v => !v) ?? 0, Is.EqualTo(info.GetProperty("invalid_pixels").GetInt32()));
        for (int b = 0; b < raw.Bands; b++)
            for (int i = 0; i < n; i++)
                if (raw.IsValid(i)) Assert.That(raw.Planes[b][i], Is.EqualTo(data[b * n + i]), $"band {b} pixel {i}");
                else Assert.That(raw.Planes[b][i], Is.EqualTo(0f));

        var stretched = ImageReader.Read(ImagingGolden.File_(name));
        var pct = info.GetProperty("percentiles_2_98").EnumerateArray().Select(p => p.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        for (int b = 0; b < stretched.Bands; b++)
        {
            Assert.That(stretched.Stretch![b].Low, Is.EqualTo(pct[b][0]).Within(1e-6 * Math.Max(1, Math.Abs(pct[b][0]))), $"band {b} low");
            Assert.That(stretched.Stretch![b].High, Is.EqualTo(pct[b][1]).Within(1e-6 * Math.Max(1, Math.Abs(pct[b][1]))), $"band {b} high");
        }
    }

    [TestCaseSource(nameof(Files))]
    public void GeoreferenceGivesGdalsGeotransformAndCrs(string name)
    {
        var info = ImagingGolden.Refs.GetProperty("gdal").GetProperty(name);
        var gt = info.GetProperty("geotransform").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var img = ImageReader.Read(ImagingGolden.File_(name));
        var g = img.Geo!;
        // GDAL's geotransform refers to pixel corners; with PixelIsPoint our raster space is pixel centres,
        // so the corner of pixel (0,0) is raster position (-0.5, -0.5).
        double o = g.IsPixelIsPoint ? -0.5 : 0.0;
        Assert.That(g.IsPixelIsPoint, Is.EqualTo(name.Contains("point")));
        var origin = g.RasterToModel(o, o);
        var dx = g.RasterToModel(o + 1, o);
        var dy = g.RasterToModel(o, o + 1);
        Assert.That(origin.X, Is.EqualTo(gt[0]).Within(1e-9));
        Assert.That(origin.Y, Is.EqualTo(gt[3]).Within(1e-9));
        Assert.That(dx.X - origin.X, Is.EqualTo(gt[1]).Within(1e-9));
        Assert.That(dx.Y - origin.Y, Is.EqualTo(gt[4]).Within(1e-9));
        Assert.That(dy.X - origin.X, Is.EqualTo(gt[2]).Within(1e-9));
        Assert.That(dy.Y - origin.Y, Is.EqualTo(gt[5]).Within(1e-9));
        int epsg = info.GetProperty("epsg").GetInt32();
        ushort key = epsg == 4326 ? (ushort)2048 : (ushort)3072; // GeographicTypeGeoKey / ProjectedCSTypeGeoKey
        Assert.That(g.GetShortKey(key), Is.EqualTo(epsg));

        // A 4x output of the GDAL file covers the same ground: far corners coincide.
        var s = g.ScaledBy(4);
        var far = g.RasterToModel(o + img.Width, o + img.Height);
        double o4 = s.IsPixelIsPoint ? -0.5 : 0.0;
        var far4 = s.RasterToModel(o4 + 4 * img.Width, o4 + 4 * img.Height);
        Assert.That(far4.X, Is.EqualTo(far.X).Within(1e-9));
        Assert.That(far4.Y, Is.EqualTo(far.Y).Within(1e-9));
    }

    [Test]
    public void PaletteIsExpandedToRgb()
    {
        var (rgb, shape) = ImagingGolden.Npy("gdal_palette.npy");
        var img = ImageReader.Read(ImagingGolden.File_("gdal_palette.tif"));
        Assert.That((img.Bands, img.Height, img.Width), Is.EqualTo((3, shape[1], shape[2])));
        int n = img.PixelCount;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < n; i++) Assert.That(img.Planes[b][i], Is.EqualTo(rgb[b * n + i] / 255.0).Within(1e-6));
        var g = ImageReader.Read(ImagingGolden.File_("gdal_palette.tif"), new ReadOptions { Bands = new[] { 2 } });
        Assert.That(g.Planes[0], Is.EqualTo(img.Planes[1]));
    }

    [Test]
    public void MinIsWhiteIsInvertedForDisplayButNotInRawMode()
    {
        var (grey, _) = ImagingGolden.Npy("gdal_miniswhite.npy");
        var shown = ImageReader.Read(ImagingGolden.File_("gdal_miniswhite.tif"));
        var raw = ImageReader.Read(ImagingGolden.File_("gdal_miniswhite.tif"), new ReadOptions { Stretch = StretchMode.Raw });
        for (int i = 0; i < grey.Length; i++)
        {
            Assert.That(shown.Planes[0][i], Is.EqualTo(1 - grey[i] / 255.0).Within(1e-6));
            Assert.That(raw.Planes[0][i], Is.EqualTo(grey[i]));
        }
    }

    [Test]
    public void JpegCompressedYCbCrTiffDecodesLikeGdal()
    {
        var (rgb, shape) = ImagingGolden.Npy("gdal_jpeg_ycbcr.npy");
        var img = ImageReader.Read(ImagingGolden.File_("gdal_jpeg_ycbcr.tif"));
        Assert.That((img.Bands, img.Height, img.Width), Is.EqualTo((3, shape[1], shape[2])));
        int n = img.PixelCount;
        double max = 0, sum = 0;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < n; i++)
            {
                double d = Math.Abs(img.Planes[b][i] * 255.0 - rgb[b * n + i]);
                max = Math.Max(max, d);
                sum += d;
            }
        TestContext.Out.WriteLine($"JPEG-in-TIFF vs GDAL (libjpeg): max {max:F1} levels, mean {sum / (3 * n):F3}");
        // Two JPEG decoders (LibTiff.NET's port vs libjpeg-turbo) differ in IDCT and chroma upsampling rounding.
        Assert.That(max, Is.LessThanOrEqualTo(JpegLevels));
        Assert.That(sum / (3 * n), Is.LessThan(1.0));
    }

    const double JpegLevels = 4; // measured 3

    [Test]
    public void BigTiffReads()
    {
        var (data, shape) = ImagingGolden.Npy("gdal_bigtiff.npy");
        var img = ImageReader.Read(ImagingGolden.File_("gdal_bigtiff.tif"), new ReadOptions { Stretch = StretchMode.Raw });
        Assert.That((img.Bands, img.Height, img.Width), Is.EqualTo((shape[0], shape[1], shape[2])));
        int n = img.PixelCount;
        for (int b = 0; b < img.Bands; b++)
            for (int i = 0; i < n; i++) Assert.That(img.Planes[b][i], Is.EqualTo(data[b * n + i]));
    }

    [Test]
    public void CmykGoesThroughLibTiffsRgbConversion()
    {
        var (rgb, shape) = ImagingGolden.Npy("gdal_cmyk.npy");
        var img = ImageReader.Read(ImagingGolden.File_("gdal_cmyk.tif"));
        Assert.That((img.Bands, img.Height, img.Width), Is.EqualTo((3, shape[1], shape[2])));
        int n = img.PixelCount;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < n; i++) Assert.That(img.Planes[b][i] * 255.0, Is.EqualTo(rgb[b * n + i]).Within(1.0 + 1e-4), $"band {b} pixel {i}");
    }

    [TestCase("gdal_u32.tif")]
    [TestCase("gdal_f64.tif")]
    public void WideSampleTypesReadRaw(string name)
    {
        var (data, shape) = ImagingGolden.Npy(name.Replace(".tif", ".npy"));
        var img = ImageReader.Read(ImagingGolden.File_(name), new ReadOptions { Stretch = StretchMode.Raw });
        Assert.That((img.Bands, img.Height, img.Width), Is.EqualTo((shape[0], shape[1], shape[2])));
        Assert.That(img.SourceBitDepth, Is.EqualTo(name.Contains("64") ? 64 : 32));
        int n = img.PixelCount;
        for (int b = 0; b < img.Bands; b++)
            for (int i = 0; i < n; i++) Assert.That(img.Planes[b][i], Is.EqualTo(data[b * n + i]), $"band {b} pixel {i}");
    }
}
