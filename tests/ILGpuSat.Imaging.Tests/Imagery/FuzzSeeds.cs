using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// The valid files the fuzzer starts from: every format and layout the reader supports (PNG grey, grey+alpha,
/// RGB, RGBA at 8 and 16 bits, palette, interlaced; JPEG grey, 4:2:0 and 4:4:4; TIFF of every sample type,
/// strips and tiles, chunky and planar, each codec, both byte orders, BigTIFF, and GDAL's own files), each with
/// the mutator that suits it.
/// </summary>
public static class FuzzSeeds
{
    /// <param name="Make">Writes the seed file at the given path.</param>
    public sealed record Seed(string Name, string Extension, Action<string> Make, Func<byte[], Random, byte[]> Mutate)
    {
        public override string ToString() => Name;
    }

    public static IReadOnlyList<Seed> All { get; } = Build().ToList();

    static IEnumerable<Seed> Build()
    {
        foreach (var (bands, bits) in new[] { (1, 8), (2, 8), (3, 8), (4, 8), (1, 16), (3, 16), (4, 16) })
            yield return new($"Png{bands}x{bits}", "png", f => ImageWriter.Write(f, Pattern(bands), new WriteOptions { BitDepth = bits }), Mutators.Png);
        yield return new("PngPalette", "png", f => Encode(f, new PngEncoder { ColorType = PngColorType.Palette }), Mutators.Png);
        yield return new("PngInterlaced", "png", f => Encode(f, new PngEncoder { InterlaceMethod = PngInterlaceMode.Adam7 }), Mutators.Png);

        yield return new("JpegGrey", "jpg", f => ImageWriter.Write(f, Pattern(1), new WriteOptions { JpegQuality = 80 }), Mutators.Jpeg);
        yield return new("JpegColour420", "jpg", f => ImageWriter.Write(f, Pattern(3), new WriteOptions { JpegQuality = 80 }), Mutators.Jpeg);
        yield return new("JpegColour444", "jpg", f => ImageWriter.Write(f, Pattern(3), new WriteOptions { JpegQuality = 95 }), Mutators.Jpeg);

        var specs = new (string Name, TiffFixtures.Spec Spec)[]
        {
            ("U8Rgb", new() { Bands = 3, Bits = 8 }),
            ("U16OneRowPerStrip", new() { Bands = 1, Bits = 16, RowsPerStrip = 1 }),
            ("Int16", new() { Bands = 1, Bits = 16, Format = SampleFormat.INT }),
            ("Float32Tiled", new() { Bands = 2, Bits = 32, Format = SampleFormat.IEEEFP, Tiled = true }),
            ("U16PlanarLzw", new() { Bands = 4, Bits = 16, Planar = true, Compression = Compression.LZW }),
            ("U16TiledDeflate", new() { Bands = 2, Bits = 16, Tiled = true, Compression = Compression.ADOBE_DEFLATE }),
            ("U8Lzw", new() { Bands = 3, Bits = 8, Compression = Compression.LZW }),
            ("U16Deflate", new() { Bands = 1, Bits = 16, Compression = Compression.ADOBE_DEFLATE }),
            ("U16BigEndian", new() { Bands = 3, Bits = 16, BigEndian = true }),
            ("BigTiffU16", new() { Bands = 3, Bits = 16, BigTiff = true }),
            ("BigTiffPlanarTiledDeflate", new() { Bands = 2, Bits = 16, BigTiff = true, Planar = true, Tiled = true, Compression = Compression.ADOBE_DEFLATE }),
        };
        foreach (var (name, spec) in specs)
            yield return new($"Tiff{name}", "tif", f => TiffFixtures.Write(f, spec), Mutators.Tiff);
        foreach (var gdal in new[] { "gdal_u16_tiled_planar", "gdal_i16_strips_point", "gdal_f32_rotated", "gdal_palette", "gdal_cmyk",
                                     "gdal_jpeg_ycbcr", "gdal_bigtiff", "gdal_f64", "gdal_u32", "gdal_miniswhite" })
            yield return new($"Tiff_{gdal}", "tif", f => File.Copy(ImagingGolden.File_(gdal + ".tif"), f), Mutators.Tiff);
    }

    /// <summary>A 40x30 image whose bands and pixels all differ.</summary>
    static RasterImage Pattern(int bands)
    {
        var img = RasterImage.Create(40, 30, bands);
        for (int b = 0; b < bands; b++) for (int i = 0; i < img.PixelCount; i++) img.Planes[b][i] = ((i * 7 + b * 40) % 256) / 255f;
        return img;
    }

    /// <summary>Layouts our writer does not produce (palette, interlaced), through ImageSharp's encoder.</summary>
    static void Encode(string path, PngEncoder encoder)
    {
        using var image = new Image<Rgb24>(40, 30);
        for (int y = 0; y < 30; y++) for (int x = 0; x < 40; x++) image[x, y] = new Rgb24((byte)(x * 6), (byte)(y * 8), (byte)((x + y) % 5 * 50));
        image.SaveAsPng(path, encoder);
    }
}
