using System.Globalization;
using System.Runtime.InteropServices;
using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>TIFF / GeoTIFF decoding through LibTiff.NET: strips or tiles, chunky or planar, 8/16/32-bit
/// integer and 32/64-bit float samples, palette, and (through LibTiff's RGBA path) YCbCr/CMYK 8-bit.
/// LibTiff only sees a file after <see cref="TiffStructure"/> has checked its directory and sizes, and reads it
/// through a stream this class owns, so a file LibTiff fails on is closed at once.</summary>
internal static class TiffReader
{
    enum SampleKind { U8, I8, U16, I16, U32, I32, F32, F64 }

    /// <summary>The codecs this reader accepts. LibTiff.NET knows more (CCITT fax, old-style JPEG, NeXT...), but
    /// those carry bilevel or obsolete data this reader cannot use, each with tag parsing of its own.</summary>
    static readonly Compression[] Supported =
        { Compression.NONE, Compression.LZW, Compression.ADOBE_DEFLATE, Compression.DEFLATE, Compression.PACKBITS, Compression.JPEG };

    /// <summary>Width and height from the image directory alone, after the checks <see cref="Read"/> makes before
    /// decoding (so a file that cannot be read is not indexed as readable); null when the file is not a TIFF.</summary>
    public static (int Width, int Height)? ReadSize(string path)
    {
        using var fs = OpenFile(path);
        Span<byte> head = stackalloc byte[4];
        int got = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (ImageReader.Detect(head[..got]) is not (ImageReader.FileKind.Tiff or ImageReader.FileKind.BigTiff)) return null;
        var t = Inspect(path, fs, fs.Length, ReadOptions.Default);
        return (t.Width, t.Height);
    }

    public static RasterImage Read(string path, long length, ReadOptions o)
    {
        using var fs = OpenFile(path);
        var t = Inspect(path, fs, length, o);
        GeoTiffTags.EnsureRegistered();
        using var log = LibTiffErrors.Capture();
        fs.Position = 0;
        using Tiff? tif = Tiff.ClientOpen(path, "r", fs, new TiffFileStream());
        if (tif is null) throw Fail(path, t, $"directory cannot be read by LibTiff: {LibTiffSays(path, log)}");
        CheckAgreement(path, t, tif);
        // LibTiff silently "repairs" strip/tile tables whose counts or sizes disagree with the header
        // (recomputing them from the image size); such a file lies about its layout and is rejected.
        var repaired = log.Warnings.FirstOrDefault(w => w.Contains("StripOffsets") || w.Contains("StripByteCounts")
                                                     || w.Contains("TileOffsets") || w.Contains("TileByteCounts"));
        if (repaired is not null)
            throw Fail(path, t, $"strip/tile table disagrees with the image header (truncated or lying file): {repaired.Replace(path + ": ", "", StringComparison.Ordinal)}");

        var geo = GeoTiffTags.Read(tif);
        double? fileNoData = ParseNoData(path, t, geo?.GdalNoData);
        var photometric = PhotometricOf(t);

        RasterImage image;
        StretchMode auto;
        double typeMax;
        bool isFloat;

        if (photometric == Photometric.PALETTE)
        {
            image = ReadPalette(path, t, tif, o, log);
            auto = StretchMode.FullRange; typeMax = 65535; isFloat = false;
        }
        else if (ViaRgba(t))
        {
            image = ReadViaRgba(path, t, tif, o, log);
            auto = StretchMode.FullRange; typeMax = 255; isFloat = false;
        }
        else
        {
            if (photometric == Photometric.YCBCR) tif.SetField(TiffTag.JPEGCOLORMODE, JpegColorMode.RGB);
            var kind = Kind(path, t);
            int[] sel = ImageReader.ResolveBands(path, t.SamplesPerPixel, o);
            var planes = new float[sel.Length][];
            for (int b = 0; b < sel.Length; b++) planes[b] = new float[(long)t.Width * t.Height];
            if (t.Tiled) ReadTiles(path, t, tif, t.SamplesPerPixel, kind, t.Planar, sel, planes, log);
            else ReadStrips(path, t, tif, t.SamplesPerPixel, kind, t.Planar, sel, planes, log);
            image = new RasterImage(t.Width, t.Height, planes, sourceBitDepth: t.BitsPerSample);
            isFloat = kind is SampleKind.F32 or SampleKind.F64;
            auto = kind == SampleKind.U8 ? StretchMode.FullRange : StretchMode.Percentile;
            typeMax = kind switch
            {
                SampleKind.U8 => 255, SampleKind.I8 => 127, SampleKind.U16 => 65535, SampleKind.I16 => 32767,
                SampleKind.U32 => uint.MaxValue, SampleKind.I32 => int.MaxValue, _ => 1,
            };
        }

        if (log.HasErrors) throw Fail(path, t, $"is corrupt: LibTiff reported {LibTiffSays(path, log)}");
        image.Geo = geo;
        var mode = o.Stretch == StretchMode.Auto ? auto : o.Stretch;
        Stretcher.Finish(path, image, typeMax, isFloat, mode, o, fileNoData);
        if (photometric == Photometric.MINISWHITE && mode != StretchMode.Raw)
            foreach (var p in image.Planes)
                for (int i = 0; i < p.Length; i++)
                    if (image.IsValid(i)) p[i] = 1f - p[i];
        return image;
    }

    static FileStream OpenFile(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);

    static ImageFormatException Fail(string path, TiffLayout t, string problem) => new(path, $"{t.Format} {problem}");

    /// <summary>The directory's checks (<see cref="TiffStructure"/>), then what this reader can decode: everything
    /// here is known before LibTiff opens the file, so an unsupported file costs no decoder allocation.</summary>
    static TiffLayout Inspect(string path, Stream fs, long length, ReadOptions o)
    {
        var t = TiffStructure.Check(path, fs, length, o);
        if (t.BigTiff && !t.LittleEndian)
            throw Fail(path, t, "in big-endian byte order is not supported (LibTiff.NET misreads its header)");
        if (!Supported.Contains(t.Compression))
            throw Fail(path, t, $"compression {(Enum.IsDefined(t.Compression) ? $"{t.Compression} ({(int)t.Compression})" : ((int)t.Compression).ToString(CultureInfo.InvariantCulture))} is not supported (supported: none, LZW, Deflate, PackBits, JPEG)");
        var photometric = PhotometricOf(t);
        if (photometric == Photometric.PALETTE)
        {
            if (t.SamplesPerPixel != 1 || (t.BitsPerSample != 8 && t.BitsPerSample != 16))
                throw Fail(path, t, $"palette image with {t.SamplesPerPixel} samples of {t.BitsPerSample} bits is not supported (expected one 8- or 16-bit index)");
        }
        else if (ViaRgba(t))
        {
            if (t.BitsPerSample != 8) throw Fail(path, t, $"{photometric} image with {t.BitsPerSample}-bit samples is not supported");
        }
        else Kind(path, t);
        return t;
    }

    /// <summary>LibTiff's guess when the tag is absent.</summary>
    static Photometric PhotometricOf(TiffLayout t) => t.Photometric ?? (t.SamplesPerPixel >= 3 ? Photometric.RGB : Photometric.MINISBLACK);

    /// <summary>YCbCr (non-JPEG), CMYK and Lab go through LibTiff's RGBA conversion.</summary>
    static bool ViaRgba(TiffLayout t) => PhotometricOf(t) is Photometric.YCBCR or Photometric.SEPARATED or Photometric.CIELAB
                                          && !(PhotometricOf(t) == Photometric.YCBCR && t.Compression == Compression.JPEG);

    /// <summary>
    /// The sizes were checked on this reader's reading of the directory; LibTiff must have read the same, or the
    /// checks would not hold for what it decodes. (LibTiff cuts a single uncompressed strip into smaller ones:
    /// those stay inside the strip that was checked.)
    /// </summary>
    static void CheckAgreement(string path, TiffLayout t, Tiff tif)
    {
        void Same(string what, long ours, long? theirs)
        {
            if (theirs != ours)
                throw Fail(path, t, $"header is ambiguous: LibTiff reads {what} as {(theirs is { } v ? v.ToString(CultureInfo.InvariantCulture) : "absent")} where the directory says {ours}");
        }
        Same("ImageWidth", t.Width, Field(tif, TiffTag.IMAGEWIDTH));
        Same("ImageLength", t.Height, Field(tif, TiffTag.IMAGELENGTH));
        Same("SamplesPerPixel", t.SamplesPerPixel, Field(tif, TiffTag.SAMPLESPERPIXEL));
        Same("BitsPerSample", t.BitsPerSample, Field(tif, TiffTag.BITSPERSAMPLE));
        Same("SampleFormat", (long)t.SampleFormat, Field(tif, TiffTag.SAMPLEFORMAT));
        Same("Compression", (long)t.Compression, Field(tif, TiffTag.COMPRESSION));
        Same("PlanarConfiguration", (long)t.Planar, Field(tif, TiffTag.PLANARCONFIG));
        Same("the layout (1 = tiled)", t.Tiled ? 1 : 0, tif.IsTiled() ? 1 : 0);
        if (t.Tiled)
        {
            Same("TileWidth", t.ChunkWidth, Field(tif, TiffTag.TILEWIDTH));
            Same("TileLength", t.ChunkHeight, Field(tif, TiffTag.TILELENGTH));
            Same("the number of tiles", t.ChunkCount, tif.NumberOfTiles());
        }
        else if (!(t.ChunkCount == 1 && t.Compression == Compression.NONE))
            Same("the number of strips", t.ChunkCount, tif.NumberOfStrips());
    }

    /// <summary>A single integer tag value as LibTiff holds it (or its default), without its casting conversions.</summary>
    static long? Field(Tiff tif, TiffTag tag)
    {
        var v = tif.GetFieldDefaulted(tag) ?? tif.GetField(tag);
        if (v is not { Length: > 0 }) return null;
        return v[0].Value switch
        {
            byte b => b,
            sbyte sb => sb,
            short s => (ushort)s,
            ushort us => us,
            int i => (uint)i,
            uint ui => ui,
            long l => l,
            ulong ul => ul > long.MaxValue ? long.MaxValue : (long)ul,
            Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture),
            _ => null,
        };
    }

    static double? ParseNoData(string path, TiffLayout layout, string? text)
    {
        if (text is null) return null;
        var t = text.Trim();
        if (t.Equals("nan", StringComparison.OrdinalIgnoreCase)) return double.NaN;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
        throw Fail(path, layout, $"GDAL_NODATA tag '{text}' is not a number");
    }

    static SampleKind Kind(string path, TiffLayout t) => (t.BitsPerSample, t.SampleFormat) switch
    {
        (8, SampleFormat.UINT or SampleFormat.VOID) => SampleKind.U8,
        (8, SampleFormat.INT) => SampleKind.I8,
        (16, SampleFormat.UINT or SampleFormat.VOID) => SampleKind.U16,
        (16, SampleFormat.INT) => SampleKind.I16,
        (32, SampleFormat.UINT or SampleFormat.VOID) => SampleKind.U32,
        (32, SampleFormat.INT) => SampleKind.I32,
        (32, SampleFormat.IEEEFP) => SampleKind.F32,
        (64, SampleFormat.IEEEFP) => SampleKind.F64,
        var (bits, f) => throw Fail(path, t, $"sample type {bits}-bit {f} is not supported (supported: 8/16/32-bit integer, 32/64-bit float)"),
    };

    static int Bytes(SampleKind k) => k switch
    {
        SampleKind.U8 or SampleKind.I8 => 1,
        SampleKind.U16 or SampleKind.I16 => 2,
        SampleKind.F64 => 8,
        _ => 4,
    };

    static string CodecName(Compression c) => c switch
    {
        Compression.NONE => "uncompressed",
        Compression.LZW => "LZW",
        Compression.ADOBE_DEFLATE or Compression.DEFLATE => "Deflate",
        Compression.PACKBITS => "PackBits",
        Compression.JPEG => "JPEG",
        _ => c.ToString(),
    };

    /// <summary>LibTiff's messages without the file name it puts in front of most of them (ours is already there).</summary>
    static string LibTiffSays(string path, LibTiffErrors.Scope log) => log.Describe().Replace(path + ": ", "", StringComparison.Ordinal);

    /// <summary>Why a strip or tile came out short: LibTiff's own account when it gave one.</summary>
    static string DecodeProblem(string path, TiffLayout t, LibTiffErrors.Scope log, int got, long expected) => log.HasErrors
        ? $"{CodecName(t.Compression)} data is corrupt: {LibTiffSays(path, log)}"
        : $"it decodes to {Math.Max(got, 0)} bytes, {expected} expected";

    /// <summary>Decodes a chunk's samples into floats (LibTiff has already swapped them to native order).</summary>
    static void ToFloats(ReadOnlySpan<byte> src, SampleKind k, Span<float> dst)
    {
        switch (k)
        {
            case SampleKind.U8: for (int i = 0; i < dst.Length; i++) dst[i] = src[i]; break;
            case SampleKind.I8: for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i]; break;
            case SampleKind.U16: { var s = MemoryMarshal.Cast<byte, ushort>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case SampleKind.I16: { var s = MemoryMarshal.Cast<byte, short>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case SampleKind.U32: { var s = MemoryMarshal.Cast<byte, uint>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case SampleKind.I32: { var s = MemoryMarshal.Cast<byte, int>(src); for (int i = 0; i < dst.Length; i++) dst[i] = s[i]; break; }
            case SampleKind.F32: MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst); break;
            case SampleKind.F64: { var s = MemoryMarshal.Cast<byte, double>(src); for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i]; break; }
        }
    }

    /// <summary>Source planes to visit: all for chunky data, only the selected ones for planar data.</summary>
    static IEnumerable<int> SourcePlanes(PlanarConfig planar, int[] sel) => planar == PlanarConfig.SEPARATE ? sel.Distinct() : new[] { 0 };

    static void ReadStrips(string path, TiffLayout t, Tiff tif, int spp, SampleKind kind, PlanarConfig planar,
                           int[] sel, float[][] planes, LibTiffErrors.Scope log)
    {
        int width = t.Width, height = t.Height;
        // LibTiff's rows per strip: it may have cut a single uncompressed strip into smaller ones.
        long rpsRaw = Field(tif, TiffTag.ROWSPERSTRIP) ?? height;
        int rps = (int)Math.Clamp(rpsRaw <= 0 ? height : rpsRaw, 1, height);
        int chunkSpp = planar == PlanarConfig.SEPARATE ? 1 : spp;
        int bps = Bytes(kind);
        long rowBytes = (long)width * chunkSpp * bps;
        long stripBytes = rowBytes * rps;
        if (stripBytes > int.MaxValue / 2)
            throw Fail(path, t, $"strip of {rps} rows x {rowBytes} bytes is too large to decode");
        var buf = new byte[Math.Max(stripBytes, tif.StripSize())];
        var vals = new float[(int)(stripBytes / bps)];
        int stripsPerPlane = (height + rps - 1) / rps;
        int nStrips = tif.NumberOfStrips();
        foreach (int plane in SourcePlanes(planar, sel))
        {
            for (int s = 0; s < stripsPerPlane; s++)
            {
                int strip = plane * stripsPerPlane + s;
                if (strip >= nStrips) throw Fail(path, t, $"file has {nStrips} strips, strip {strip} is missing");
                int rows = Math.Min(rps, height - s * rps);
                int got = tif.ReadEncodedStrip(strip, buf, 0, buf.Length);
                if (got < rows * rowBytes)
                    throw Fail(path, t, $"strip {strip} cannot be decoded ({DecodeProblem(path, t, log, got, rows * rowBytes)})");
                int count = (int)(rows * rowBytes / bps);
                ToFloats(buf.AsSpan(0, count * bps), kind, vals.AsSpan(0, count));
                Scatter(vals, width, rows, chunkSpp, 0, width, s * rps, planar, plane, sel, planes, width);
            }
        }
    }

    static void ReadTiles(string path, TiffLayout t, Tiff tif, int spp, SampleKind kind, PlanarConfig planar,
                          int[] sel, float[][] planes, LibTiffErrors.Scope log)
    {
        int width = t.Width, height = t.Height, tw = t.ChunkWidth, th = t.ChunkHeight;
        int chunkSpp = planar == PlanarConfig.SEPARATE ? 1 : spp;
        int bps = Bytes(kind);
        long tileBytes = (long)tw * th * chunkSpp * bps;
        if (tileBytes > (1L << 30))
            throw Fail(path, t, $"tile size {tw}x{th} is too large to decode");
        var buf = new byte[Math.Max(tileBytes, tif.TileSize())];
        var vals = new float[(int)(tileBytes / bps)];
        int nTiles = tif.NumberOfTiles();
        foreach (int plane in SourcePlanes(planar, sel))
        {
            for (int ty = 0; ty < height; ty += th)
            for (int tx = 0; tx < width; tx += tw)
            {
                int tile = tif.ComputeTile(tx, ty, 0, (short)plane);
                if (tile < 0 || tile >= nTiles) throw Fail(path, t, $"file has {nTiles} tiles, tile {tile} is missing");
                int got = tif.ReadEncodedTile(tile, buf, 0, buf.Length);
                if (got < tileBytes)
                    throw Fail(path, t, $"tile {tile} cannot be decoded ({DecodeProblem(path, t, log, got, tileBytes)})");
                ToFloats(buf.AsSpan(0, (int)tileBytes), kind, vals);
                Scatter(vals, tw, Math.Min(th, height - ty), chunkSpp, tx, Math.Min(tw, width - tx), ty, planar, plane, sel, planes, width);
            }
        }
    }

    /// <summary>Copies a decoded chunk (chunkWidth samples per row, chunkSpp interleaved) into the selected planes.</summary>
    static void Scatter(float[] vals, int chunkWidth, int rows, int chunkSpp, int x0, int cols, int y0,
                        PlanarConfig planar, int plane, int[] sel, float[][] planes, int width)
    {
        for (int b = 0; b < sel.Length; b++)
        {
            int within;
            if (planar == PlanarConfig.SEPARATE) { if (sel[b] != plane) continue; within = 0; }
            else within = sel[b];
            var dst = planes[b];
            for (int r = 0; r < rows; r++)
            {
                int srcRow = r * chunkWidth * chunkSpp;
                int dstRow = (y0 + r) * width + x0;
                for (int c = 0; c < cols; c++) dst[dstRow + c] = vals[srcRow + c * chunkSpp + within];
            }
        }
    }

    static RasterImage ReadPalette(string path, TiffLayout t, Tiff tif, ReadOptions o, LibTiffErrors.Scope log)
    {
        int bits = t.BitsPerSample;
        // TiffStructure checked the ColorMap's type and size, so LibTiff holds three arrays of 2^bits entries.
        var cmap = tif.GetField(TiffTag.COLORMAP);
        if (cmap is null || cmap.Length < 3) throw Fail(path, t, "palette image has no colour map LibTiff can read");
        var maps = new[] { cmap[0].ToShortArray(), cmap[1].ToShortArray(), cmap[2].ToShortArray() };
        int entries = 1 << bits;
        if (maps.Any(m => m is null || m.Length < entries))
            throw Fail(path, t, $"palette image colour map has fewer than {entries} entries");
        int[] sel = ImageReader.ResolveBands(path, 3, o);
        var index = new[] { new float[(long)t.Width * t.Height] };
        var kind = bits == 8 ? SampleKind.U8 : SampleKind.U16;
        if (t.Tiled) ReadTiles(path, t, tif, 1, kind, PlanarConfig.CONTIG, new[] { 0 }, index, log);
        else ReadStrips(path, t, tif, 1, kind, PlanarConfig.CONTIG, new[] { 0 }, index, log);
        var planes = new float[sel.Length][];
        for (int b = 0; b < sel.Length; b++)
        {
            var m = maps[sel[b]];
            var p = planes[b] = new float[index[0].Length];
            for (int i = 0; i < p.Length; i++) p[i] = (ushort)m[(int)index[0][i]];
        }
        return new RasterImage(t.Width, t.Height, planes, sourceBitDepth: bits);
    }

    /// <summary>YCbCr (non-JPEG), CMYK and Lab 8-bit data: let LibTiff convert to RGBA.</summary>
    static RasterImage ReadViaRgba(string path, TiffLayout t, Tiff tif, ReadOptions o, LibTiffErrors.Scope log)
    {
        var raster = new int[(long)t.Width * t.Height];
        if (!tif.ReadRGBAImageOriented(t.Width, t.Height, raster, Orientation.TOPLEFT, false))
            throw Fail(path, t, $"image cannot be converted to RGB by LibTiff: {LibTiffSays(path, log)}");
        int[] sel = ImageReader.ResolveBands(path, 3, o);
        var planes = new float[sel.Length][];
        for (int b = 0; b < sel.Length; b++)
        {
            var p = planes[b] = new float[raster.Length];
            int shift = 8 * sel[b]; // ABGR packing: R in the low byte
            for (int i = 0; i < p.Length; i++) p[i] = (raster[i] >> shift) & 0xFF;
        }
        return new RasterImage(t.Width, t.Height, planes, sourceBitDepth: 8);
    }
}
