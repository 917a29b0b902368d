namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Reads PNG, JPEG and TIFF/GeoTIFF files into <see cref="RasterImage"/> float planes in 0..1.
/// The format is chosen from the file's magic bytes, not its extension. Every failure on a bad file
/// (empty, truncated, unsupported, header that contradicts the data, sizes over the limits in
/// <see cref="ReadOptions"/>) is an <see cref="ImageFormatException"/> naming the file; sizes are checked
/// before any large allocation.
/// </summary>
public static class ImageReader
{
    /// <summary>A compressed stream cannot plausibly expand more than this (deflate tops out near 1032:1,
    /// LZW near 1400:1, baseline JPEG near 512:1); more means a lying header or a decompression bomb.</summary>
    internal const long MaxCompressionRatio = 2048;
    internal const long CompressionSlackBytes = 1 << 20;

    public enum FileKind { Unknown, Png, Jpeg, Tiff, BigTiff }

    /// <summary>Detects the format from the first bytes.</summary>
    public static FileKind Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 8 && head[0] == 0x89 && head[1] == (byte)'P' && head[2] == (byte)'N' && head[3] == (byte)'G'
            && head[4] == 0x0D && head[5] == 0x0A && head[6] == 0x1A && head[7] == 0x0A) return FileKind.Png;
        if (head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return FileKind.Jpeg;
        if (head.Length >= 4 && ((head[0] == 'I' && head[1] == 'I' && head[2] == 42 && head[3] == 0)
                              || (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] == 42))) return FileKind.Tiff;
        if (head.Length >= 4 && ((head[0] == 'I' && head[1] == 'I' && head[2] == 43 && head[3] == 0)
                              || (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] == 43))) return FileKind.BigTiff;
        return FileKind.Unknown;
    }

    public static RasterImage Read(string path, ReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ReadOptions.Default;
        ValidateOptions(path, options);
        if (Directory.Exists(path)) throw new ImageFormatException(path, "is a directory, not an image file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"'{path}': image file not found", path);
        if (info.Length == 0) throw new ImageFormatException(path, "file is empty");

        Span<byte> head = stackalloc byte[16];
        int got;
        using (var fs = File.OpenRead(path)) got = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var kind = Detect(head[..got]);
        try
        {
            return kind switch
            {
                FileKind.Png or FileKind.Jpeg => ReadPngJpeg(path, info.Length, kind, options),
                FileKind.Tiff or FileKind.BigTiff => TiffReader.Read(path, info.Length, options),
                _ => throw new ImageFormatException(path,
                    $"unsupported or unrecognised format (first bytes {Convert.ToHexString(head[..Math.Min(got, 8)])}, extension '{info.Extension}'); expected PNG, JPEG or TIFF"),
            };
        }
        catch (ImageFormatException) { throw; }
        catch (Exception e) when (!(e is OutOfMemoryException || e is UnauthorizedAccessException
                                    || (e is IOException && e is not EndOfStreamException)))
        {
            // Decoder libraries signal bad data with assorted exception types (index out of range, invalid operation...).
            // Last resort: the format checks are meant to stop bad data before a decoder trips over it.
            string format = kind switch { FileKind.BigTiff => "BigTIFF", _ => kind.ToString().ToUpperInvariant() };
            throw new ImageFormatException(path, $"{format} data is corrupt ({e.GetType().Name}: {e.Message})", e);
        }
    }

    /// <summary>Width and height without decoding the pixels (PNG, JPEG: the header alone, with bounded reads;
    /// TIFF: the image directory, after the checks a read makes before decoding). Bad files throw
    /// <see cref="ImageFormatException"/>.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            if (ImageHeader.TryRead(path) is var (w, h)) return (w, h);
        }
        catch (InvalidDataException e) { throw new ImageFormatException(path, e.Message, e); }
        catch (EndOfStreamException e) { throw new ImageFormatException(path, "header truncated", e); }
        if (TiffReader.ReadSize(path) is var (tw, th)) return (tw, th);
        var image = Read(path);
        return (image.Width, image.Height);
    }

    static void ValidateOptions(string path, ReadOptions o)
    {
        if (!(o.LowPercentile >= 0 && o.LowPercentile < o.HighPercentile && o.HighPercentile <= 100))
            throw new ArgumentException($"ImageReader.Read('{path}'): percentiles must satisfy 0 <= low < high <= 100, got {o.LowPercentile}, {o.HighPercentile}");
        if (o.MaxPixels <= 0 || o.MaxBands <= 0)
            throw new ArgumentException($"ImageReader.Read('{path}'): MaxPixels and MaxBands must be positive");
        if (o.Bands is { Length: 0 })
            throw new ArgumentException($"ImageReader.Read('{path}'): Bands is empty; pass null to keep every band");
    }

    /// <summary>Checks a declared raster against the limits before anything is allocated for it.</summary>
    internal static void CheckDimensions(string path, long width, long height, long bands, ReadOptions o)
    {
        if (width <= 0 || height <= 0) throw new ImageFormatException(path, $"zero or negative dimensions {width}x{height}");
        if (bands <= 0) throw new ImageFormatException(path, $"no bands (samples per pixel = {bands})");
        if (bands > o.MaxBands) throw new ImageFormatException(path, $"{bands} bands exceed the limit of {o.MaxBands} (ReadOptions.MaxBands)");
        if (width * height > o.MaxPixels || width * height > int.MaxValue)
            throw new ImageFormatException(path, $"{width}x{height} = {width * height} pixels exceed the limit of {Math.Min(o.MaxPixels, int.MaxValue)} (ReadOptions.MaxPixels)");
    }

    /// <summary>Checks that <paramref name="compressedBytes"/> can plausibly decode to <paramref name="decodedBytes"/>.</summary>
    internal static void CheckExpansion(string path, long decodedBytes, long compressedBytes, string what)
    {
        if (decodedBytes > compressedBytes * MaxCompressionRatio + CompressionSlackBytes)
            throw new ImageFormatException(path,
                $"header declares {decodedBytes} bytes of pixels but only {compressedBytes} bytes of {what} are present (beyond any real compression ratio: truncated file or lying header)");
    }

    internal static int[] ResolveBands(string path, int fileBands, ReadOptions o)
    {
        if (o.Bands is null) return Enumerable.Range(0, fileBands).ToArray();
        var sel = new int[o.Bands.Length];
        for (int i = 0; i < sel.Length; i++)
        {
            int b = o.Bands[i];
            if (b < 1 || b > fileBands)
                throw new ImageFormatException(path, $"band {b} requested but the file has {fileBands} band(s) (band numbers are 1-based)");
            sel[i] = b - 1;
        }
        return sel;
    }

    // ---------------------------------------------------------------- PNG / JPEG via ImageSharp (PngJpegCodec)

    static RasterImage ReadPngJpeg(string path, long length, FileKind kind, ReadOptions o)
    {
        if (length > int.MaxValue) throw new ImageFormatException(path, $"{kind} file of {length} bytes is too large");
        byte[] bytes = File.ReadAllBytes(path);
        // Our own bounded structure and size checks run before the decoder sees a byte of a possibly crafted file.
        if (kind == FileKind.Png) CheckPngChunks(path, bytes, o); else CheckJpegStructure(path, bytes, o);
        return PngJpegCodec.Read(path, bytes, kind, o);
    }

    /// <summary>Walks the PNG chunk list: every chunk must lie inside the file, IEND must be present, and the
    /// image data must inflate to exactly what the header needs (<see cref="PngImageData"/>).</summary>
    static void CheckPngChunks(string path, byte[] b, ReadOptions o)
    {
        long pos = 8;
        bool sawIhdr = false;
        var idat = new List<ReadOnlyMemory<byte>>();
        while (true)
        {
            if (pos + 8 > b.Length) throw new ImageFormatException(path, $"PNG truncated at byte {pos}: chunk header missing (no IEND)");
            long len = (uint)(b[pos] << 24 | b[pos + 1] << 16 | b[pos + 2] << 8 | b[pos + 3]);
            string type = System.Text.Encoding.ASCII.GetString(b, (int)pos + 4, 4);
            if (len > int.MaxValue || pos + 12 + len > b.Length)
                throw new ImageFormatException(path, $"PNG chunk '{type}' at byte {pos} declares {len} bytes but the file ends at {b.Length} (truncated or corrupt)");
            if (!sawIhdr)
            {
                if (type != "IHDR" || len < 13) throw new ImageFormatException(path, "PNG does not start with an IHDR chunk");
                // Check the declared size here, before any decoder allocates for it.
                long w = (uint)(b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19]);
                long h = (uint)(b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23]);
                int comps = b[25] switch { 0 => 1, 2 => 3, 3 => 3, 4 => 2, 6 => 4, _ => throw new ImageFormatException(path, $"PNG colour type {b[25]} is invalid") };
                CheckDimensions(path, w, h, comps, o);
                CheckExpansion(path, w * h * comps * (b[24] == 16 ? 2 : 1), b.Length, "PNG data");
            }
            sawIhdr = true;
            if (type == "IDAT") idat.Add(b.AsMemory((int)pos + 8, (int)len));
            pos += 12 + len;
            if (type == "IEND") break;
        }
        if (idat.Count == 0) throw new ImageFormatException(path, "PNG has no image data (IDAT)");
        PngImageData.Check(path, b.AsSpan(16, 13), idat);
    }

    /// <summary>Walks the JPEG markers up to the first scan, checks the frame's declared size against the limits
    /// and requires an end-of-image marker after the scan: decoders silently pad a truncated entropy stream
    /// instead of failing.</summary>
    static void CheckJpegStructure(string path, byte[] b, ReadOptions o)
    {
        int pos = 2;
        bool sawFrame = false;
        while (true)
        {
            if (pos + 4 > b.Length) throw new ImageFormatException(path, $"JPEG truncated at byte {pos} before the image data");
            if (b[pos] != 0xFF) throw new ImageFormatException(path, $"JPEG marker expected at byte {pos}, found 0x{b[pos]:X2}");
            byte m = b[pos + 1];
            if (m == 0xFF) { pos++; continue; } // fill byte
            if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { pos += 2; continue; }
            if (m == 0xD9) throw new ImageFormatException(path, "JPEG ends before any image data");
            int len = b[pos + 2] << 8 | b[pos + 3];
            if (len < 2 || pos + 2 + len > b.Length)
                throw new ImageFormatException(path, $"JPEG segment 0xFF{m:X2} at byte {pos} declares {len} bytes beyond the end of the file (truncated)");
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
            {
                if (len < 8) throw new ImageFormatException(path, $"JPEG frame header at byte {pos} is {len} bytes, too short");
                long h = b[pos + 5] << 8 | b[pos + 6], w = b[pos + 7] << 8 | b[pos + 8], comps = b[pos + 9];
                CheckDimensions(path, w, h, comps, o);
                CheckExpansion(path, w * h * comps, b.Length, "JPEG data");
                sawFrame = true;
            }
            if (m == 0xDA)
            {
                if (!sawFrame) throw new ImageFormatException(path, "JPEG scan before any frame header");
                pos += 2 + len;
                break;
            }
            pos += 2 + len;
        }
        for (int i = b.Length - 2; i >= pos; i--)
            if (b[i] == 0xFF && b[i + 1] == 0xD9) return;
        throw new ImageFormatException(path, "JPEG truncated: no end-of-image marker after the image data");
    }
}
