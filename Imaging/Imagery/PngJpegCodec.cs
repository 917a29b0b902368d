using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixImageFormatException = SixLabors.ImageSharp.ImageFormatException;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// PNG and JPEG pixels through SixLabors.ImageSharp (2.1 line). <see cref="ImageReader"/> has already checked
/// the file's structure and declared size before any byte gets here, so a crafted file meets our own bounded
/// checks first. Each image is decoded into the pixel type that matches the file's layout (grey, grey+alpha,
/// RGB, RGBA; 8 or 16 bits), so no band is invented or dropped and 16-bit samples keep every bit.
/// </summary>
internal static class PngJpegCodec
{
    // Text, EXIF and ICC chunks are not needed for pixels: skipping them is less work and less parser exposure.
    // (JPEG's Adobe APP14 marker, which tells CMYK from YCCK, is read regardless of this flag in 2.1.)
    static readonly PngDecoder PngDecoder = new() { IgnoreMetadata = true };
    static readonly JpegDecoder JpegDecoder = new() { IgnoreMetadata = true };

    /// <summary>Decodes a PNG or JPEG already read into <paramref name="bytes"/> into 0..1 planes
    /// (band selection, stretch and mask as for every other format).</summary>
    public static RasterImage Read(string path, byte[] bytes, ImageReader.FileKind kind, ReadOptions o)
    {
        string format = kind == ImageReader.FileKind.Png ? "PNG" : "JPEG";
        try
        {
            return kind == ImageReader.FileKind.Png ? ReadPng(path, bytes, o) : ReadJpeg(path, bytes, o);
        }
        catch (ImageFormatException) { throw; }
        catch (OutOfMemoryException) { throw; }
        catch (Exception e) { throw Translate(path, format, e); }
    }

    static RasterImage ReadPng(string path, byte[] bytes, ReadOptions o)
    {
        var info = PngDecoder.Identify(Configuration.Default, new MemoryStream(bytes, writable: false), CancellationToken.None);
        var meta = info.Metadata.GetPngMetadata();
        bool sixteen = meta.BitDepth == PngBitDepth.Bit16;
        // The band count is the file's: a palette with transparency is RGBA (2.1's Identify does not report a
        // palette's tRNS chunk, so look for it), while a grey or RGB file's tRNS colour key adds no alpha band.
        int bands = meta.ColorType switch
        {
            PngColorType.Grayscale => 1,
            PngColorType.GrayscaleWithAlpha => 2,
            PngColorType.Rgb => 3,
            PngColorType.RgbWithAlpha => 4,
            PngColorType.Palette => HasChunk(bytes, "tRNS"u8) ? 4 : 3,
            var c => throw new ImageFormatException(path, $"PNG colour type {c?.ToString() ?? "(none)"} is not supported"),
        };
        var (w, h, sel, raw) = Prepare(path, info, bands, sixteen ? 2 : 1, bytes.Length, "PNG", o);
        var stream = new MemoryStream(bytes, writable: false);
        switch (bands, sixteen)
        {
            case (1, false): Copy8(path, info, PngDecoder.Decode<L8>(Configuration.Default, stream, CancellationToken.None), 1, sel, raw); break;
            case (2, false): Copy8(path, info, PngDecoder.Decode<La16>(Configuration.Default, stream, CancellationToken.None), 2, sel, raw); break;
            case (3, false): Copy8(path, info, PngDecoder.Decode<Rgb24>(Configuration.Default, stream, CancellationToken.None), 3, sel, raw); break;
            case (4, false): Copy8(path, info, PngDecoder.Decode<Rgba32>(Configuration.Default, stream, CancellationToken.None), 4, sel, raw); break;
            case (1, true): Copy16(path, info, PngDecoder.Decode<L16>(Configuration.Default, stream, CancellationToken.None), 1, sel, raw); break;
            case (2, true): Copy16(path, info, PngDecoder.Decode<La32>(Configuration.Default, stream, CancellationToken.None), 2, sel, raw); break;
            case (3, true): Copy16(path, info, PngDecoder.Decode<Rgb48>(Configuration.Default, stream, CancellationToken.None), 3, sel, raw); break;
            default: Copy16(path, info, PngDecoder.Decode<Rgba64>(Configuration.Default, stream, CancellationToken.None), 4, sel, raw); break;
        }
        return Finish(path, w, h, raw, sixteen, o);
    }

    static RasterImage ReadJpeg(string path, byte[] bytes, ReadOptions o)
    {
        var info = JpegDecoder.Identify(Configuration.Default, new MemoryStream(bytes, writable: false), CancellationToken.None);
        // Grey stays one band; YCbCr, RGB, CMYK and YCCK all come out as RGB (2.1 converts the last two).
        int bands = info.Metadata.GetJpegMetadata().ColorType == JpegColorType.Luminance ? 1 : 3;
        var (w, h, sel, raw) = Prepare(path, info, bands, 1, bytes.Length, "JPEG", o);
        var stream = new MemoryStream(bytes, writable: false);
        if (bands == 1) Copy8(path, info, JpegDecoder.Decode<L8>(Configuration.Default, stream, CancellationToken.None), 1, sel, raw);
        else Copy8(path, info, JpegDecoder.Decode<Rgb24>(Configuration.Default, stream, CancellationToken.None), 3, sel, raw);
        return Finish(path, w, h, raw, sixteen: false, o);
    }

    /// <summary>Checks the size ImageSharp read against the limits and allocates the selected planes.</summary>
    static (int Width, int Height, int[] Sel, float[][] Raw) Prepare(string path, IImageInfo info, int bands, int bytesPerSample, long fileBytes, string format, ReadOptions o)
    {
        ImageReader.CheckDimensions(path, info.Width, info.Height, bands, o);
        ImageReader.CheckExpansion(path, (long)info.Width * info.Height * bands * bytesPerSample, fileBytes, $"{format} data");
        int[] sel = ImageReader.ResolveBands(path, bands, o);
        int n = info.Width * info.Height;
        var raw = new float[sel.Length][];
        for (int b = 0; b < sel.Length; b++) raw[b] = new float[n];
        return (info.Width, info.Height, sel, raw);
    }

    static RasterImage Finish(string path, int w, int h, float[][] raw, bool sixteen, ReadOptions o)
    {
        var mode = o.Stretch == StretchMode.Auto ? StretchMode.FullRange : o.Stretch;
        var image = new RasterImage(w, h, raw, sourceBitDepth: sixteen ? 16 : 8);
        Stretcher.Finish(path, image, sixteen ? 65535.0 : 255.0, isFloat: false, mode, o, fileNoData: null);
        return image;
    }

    /// <summary>De-interleaves the selected bands of an 8-bit image (one byte per band, in file order) into planes.</summary>
    static void Copy8<TPixel>(string path, IImageInfo info, Image<TPixel> decoded, int comps, int[] sel, float[][] raw)
        where TPixel : unmanaged, IPixel<TPixel> => Copy<TPixel, byte>(path, info, decoded, comps, sel, raw);

    /// <summary>As <see cref="Copy8"/> for 16-bit pixel types (one native ushort per band).</summary>
    static void Copy16<TPixel>(string path, IImageInfo info, Image<TPixel> decoded, int comps, int[] sel, float[][] raw)
        where TPixel : unmanaged, IPixel<TPixel> => Copy<TPixel, ushort>(path, info, decoded, comps, sel, raw);

    /// <summary>Each row of <paramref name="decoded"/> seen as <typeparamref name="TSample"/>s, <paramref name="comps"/>
    /// per pixel, into the selected planes (the JIT specialises this per sample type).</summary>
    static void Copy<TPixel, TSample>(string path, IImageInfo info, Image<TPixel> decoded, int comps, int[] sel, float[][] raw)
        where TPixel : unmanaged, IPixel<TPixel>
        where TSample : unmanaged, System.Numerics.INumberBase<TSample>
    {
        using (decoded)
        {
            CheckSize(path, info, decoded);
            int w = decoded.Width;
            decoded.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    ReadOnlySpan<TSample> row = MemoryMarshal.Cast<TPixel, TSample>(rows.GetRowSpan(y));
                    for (int b = 0; b < sel.Length; b++)
                    {
                        var dst = raw[b].AsSpan(y * w, w);
                        int s = sel[b];
                        for (int x = 0; x < dst.Length; x++) dst[x] = float.CreateTruncating(row[x * comps + s]);
                    }
                }
            });
        }
    }

    static void CheckSize(string path, IImageInfo info, Image decoded)
    {
        if (decoded.Width != info.Width || decoded.Height != info.Height)
            throw new ImageFormatException(path, $"decoded size {decoded.Width}x{decoded.Height} disagrees with the header {info.Width}x{info.Height}");
    }

    /// <summary>True when the (already validated) PNG chunk list holds a chunk of this type before IEND.</summary>
    static bool HasChunk(byte[] b, ReadOnlySpan<byte> type)
    {
        long pos = 8;
        while (pos + 8 <= b.Length)
        {
            long len = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan((int)pos));
            var t = b.AsSpan((int)pos + 4, 4);
            if (t.SequenceEqual(type)) return true;
            if (t.SequenceEqual("IEND"u8)) return false;
            pos += 12 + len;
        }
        return false;
    }

    /// <summary>One sentence for ImageSharp's failure on this file, naming the format we detected.</summary>
    static ImageFormatException Translate(string path, string format, Exception e)
    {
        string reason = e.Message.TrimEnd('.', ' ');
        string problem = e switch
        {
            // InvalidDataException: the zlib (deflate) stream inside a PNG, inflated by .NET itself.
            InvalidImageContentException or InvalidDataException => $"{format} data is corrupt: {reason}",
            UnknownImageFormatException => $"{format} data is not recognised by the decoder: {reason}",
            SixImageFormatException => $"{format} data is invalid: {reason}",
            NotSupportedException => $"{format} variant is not supported: {reason}",
            InvalidMemoryOperationException => $"{format} image is too large to decode: {reason}",
            _ => $"{format} data cannot be decoded ({e.GetType().Name}: {reason})",
        };
        return new ImageFormatException(path, problem, e);
    }

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// PNG: 1..4 bands as grey, grey+alpha, RGB or RGBA at <see cref="WriteOptions.BitDepth"/> bits.
    /// JPEG: 1 and 2 bands as a one-component (luminance) JPEG, so grey reads back as one band (alpha dropped);
    /// 3 and 4 bands as YCbCr (alpha dropped), full-resolution chroma above quality 90 and 4:2:0 at or below,
    /// as stb_image_write did: colour is what this project produces, so a high-quality file keeps all of it.
    /// </summary>
    public static void Write(Stream stream, RasterImage image, WriteOptions o, bool jpeg)
    {
        int c = image.Bands;
        if (jpeg)
        {
            var encoder = new JpegEncoder
            {
                Quality = o.JpegQuality,
                ColorType = c <= 2 ? JpegColorType.Luminance : o.JpegQuality > 90 ? JpegColorType.YCbCrRatio444 : JpegColorType.YCbCrRatio420,
            };
            if (c <= 2) Save(stream, Fill8<L8>(image, 1), encoder);
            else Save(stream, Fill8<Rgb24>(image, 3), encoder);
            return;
        }

        bool sixteen = o.BitDepth == 16;
        var png = new PngEncoder
        {
            BitDepth = sixteen ? PngBitDepth.Bit16 : PngBitDepth.Bit8,
            ColorType = c switch { 1 => PngColorType.Grayscale, 2 => PngColorType.GrayscaleWithAlpha, 3 => PngColorType.Rgb, _ => PngColorType.RgbWithAlpha },
            // Keep the colour under fully transparent pixels: the planes are data, not just a picture.
            TransparentColorMode = PngTransparentColorMode.Preserve,
        };
        switch (c, sixteen)
        {
            case (1, false): Save(stream, Fill8<L8>(image, 1), png); break;
            case (2, false): Save(stream, Fill8<La16>(image, 2), png); break;
            case (3, false): Save(stream, Fill8<Rgb24>(image, 3), png); break;
            case (4, false): Save(stream, Fill8<Rgba32>(image, 4), png); break;
            case (1, true): Save(stream, Fill16<L16>(image, 1), png); break;
            case (2, true): Save(stream, Fill16<La32>(image, 2), png); break;
            case (3, true): Save(stream, Fill16<Rgb48>(image, 3), png); break;
            default: Save(stream, Fill16<Rgba64>(image, 4), png); break;
        }
    }

    static void Save<TPixel>(Stream stream, Image<TPixel> pixels, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using (pixels) pixels.Save(stream, encoder);
    }

    /// <summary>The first <paramref name="comps"/> planes interleaved into an 8-bit image (see <see cref="SampleQuantizer"/>).</summary>
    static Image<TPixel> Fill8<TPixel>(RasterImage image, int comps) where TPixel : unmanaged, IPixel<TPixel>
        => Fill<TPixel, byte>(image, comps);

    /// <summary>As <see cref="Fill8"/> at 16 bits.</summary>
    static Image<TPixel> Fill16<TPixel>(RasterImage image, int comps) where TPixel : unmanaged, IPixel<TPixel>
        => Fill<TPixel, ushort>(image, comps);

    /// <summary>Planes quantised to <typeparamref name="TSample"/> and interleaved, <paramref name="comps"/> per pixel.</summary>
    static Image<TPixel> Fill<TPixel, TSample>(RasterImage image, int comps)
        where TPixel : unmanaged, IPixel<TPixel>
        where TSample : unmanaged, System.Numerics.IBinaryInteger<TSample>, System.Numerics.IMinMaxValue<TSample>
    {
        var result = new Image<TPixel>(Configuration.Default, image.Width, image.Height);
        int w = image.Width, max = int.CreateTruncating(TSample.MaxValue);
        var planes = image.Planes;
        result.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<TSample> row = MemoryMarshal.Cast<TPixel, TSample>(rows.GetRowSpan(y));
                for (int b = 0; b < comps; b++)
                {
                    var src = planes[b].AsSpan(y * w, w);
                    for (int x = 0; x < src.Length; x++) row[x * comps + b] = TSample.CreateTruncating(SampleQuantizer.ToSample(src[x], max));
                }
            }
        });
        return result;
    }
}
