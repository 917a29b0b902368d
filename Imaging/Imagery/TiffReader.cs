using System.Globalization;
using System.Runtime.InteropServices;
using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>TIFF / GeoTIFF decoding through LibTiff.NET: strips or tiles, chunky or planar, 8/16/32-bit
/// integer and 32/64-bit float samples, palette, and (through LibTiff's RGBA path) YCbCr/CMYK 8-bit.
/// LibTiff reads the file through a stream this class owns, so a file LibTiff fails on is closed at once.</summary>
internal static class TiffReader
{
    enum SampleKind { U8, I8, U16, I16, U32, I32, F32, F64 }

    public static RasterImage Read(string path, long length, ReadOptions o)
    {
        TiffStructure.Check(path, length);
        GeoTiffTags.EnsureRegistered();
        using var log = LibTiffErrors.Capture();
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        using Tiff? tif = Tiff.ClientOpen(path, "r", fs, new TiffFileStream());
        if (tif is null) throw new ImageFormatException(path, $"LibTiff cannot open the TIFF: {log.Describe()}");

        int width = IntField(tif, TiffTag.IMAGEWIDTH, 0);
        int height = IntField(tif, TiffTag.IMAGELENGTH, 0);
        int spp = IntField(tif, TiffTag.SAMPLESPERPIXEL, 1);
        int bits = IntField(tif, TiffTag.BITSPERSAMPLE, 1);
        var format = (SampleFormat)IntField(tif, TiffTag.SAMPLEFORMAT, (int)SampleFormat.UINT);
        var planar = (PlanarConfig)IntField(tif, TiffTag.PLANARCONFIG, (int)PlanarConfig.CONTIG);
        var photometric = (Photometric)IntField(tif, TiffTag.PHOTOMETRIC, spp >= 3 ? (int)Photometric.RGB : (int)Photometric.MINISBLACK);
        var compression = (Compression)IntField(tif, TiffTag.COMPRESSION, (int)Compression.NONE);

        ImageReader.CheckDimensions(path, width, height, spp, o);
        // LibTiff silently "repairs" strip/tile tables whose counts or sizes disagree with the header
        // (recomputing them from the image size); such a file lies about its layout and is rejected.
        var repaired = log.Warnings.FirstOrDefault(w => w.Contains("StripOffsets") || w.Contains("StripByteCounts")
                                                     || w.Contains("TileOffsets") || w.Contains("TileByteCounts"));
        if (repaired is not null)
            throw new ImageFormatException(path, $"strip/tile table disagrees with the image header (truncated or lying file): {repaired}");
        if (!tif.IsCodecConfigured(compression))
            throw new ImageFormatException(path, $"TIFF compression {compression} is not supported by LibTiff.NET");

        var geo = GeoTiffTags.Read(tif);
        double? fileNoData = ParseNoData(path, geo?.GdalNoData);

        RasterImage image;
        StretchMode auto;
        double typeMax;
        bool isFloat;

        if (photometric == Photometric.PALETTE)
        {
            image = ReadPalette(path, tif, width, height, spp, bits, o, log);
            auto = StretchMode.FullRange; typeMax = 65535; isFloat = false;
        }
        else if (photometric is Photometric.YCBCR or Photometric.SEPARATED or Photometric.CIELAB && !(photometric == Photometric.YCBCR && compression == Compression.JPEG))
        {
            if (bits != 8) throw new ImageFormatException(path, $"{photometric} TIFF with {bits}-bit samples is not supported");
            image = ReadViaRgba(path, tif, width, height, o, log);
            auto = StretchMode.FullRange; typeMax = 255; isFloat = false;
        }
        else
        {
            if (photometric == Photometric.YCBCR) tif.SetField(TiffTag.JPEGCOLORMODE, JpegColorMode.RGB);
            var kind = Kind(path, bits, format);
            int[] sel = ImageReader.ResolveBands(path, spp, o);
            var planes = new float[sel.Length][];
            for (int b = 0; b < sel.Length; b++) planes[b] = new float[(long)width * height];
            CheckRawExtents(path, tif, length, (long)width * height * spp * (bits / 8), compression);
            if (tif.IsTiled()) ReadTiles(path, tif, width, height, spp, kind, planar, sel, planes, log);
            else ReadStrips(path, tif, width, height, spp, kind, planar, sel, planes, log);
            image = new RasterImage(width, height, planes, sourceBitDepth: bits);
            isFloat = kind is SampleKind.F32 or SampleKind.F64;
            auto = kind == SampleKind.U8 ? StretchMode.FullRange : StretchMode.Percentile;
            typeMax = kind switch
            {
                SampleKind.U8 => 255, SampleKind.I8 => 127, SampleKind.U16 => 65535, SampleKind.I16 => 32767,
                SampleKind.U32 => uint.MaxValue, SampleKind.I32 => int.MaxValue, _ => 1,
            };
        }

        if (log.HasErrors) throw new ImageFormatException(path, $"LibTiff reported errors: {log.Describe()}");
        image.Geo = geo;
        var mode = o.Stretch == StretchMode.Auto ? auto : o.Stretch;
        Stretcher.Finish(path, image, typeMax, isFloat, mode, o, fileNoData);
        if (photometric == Photometric.MINISWHITE && mode != StretchMode.Raw)
            foreach (var p in image.Planes)
                for (int i = 0; i < p.Length; i++)
                    if (image.IsValid(i)) p[i] = 1f - p[i];
        return image;
    }

    static int IntField(Tiff tif, TiffTag tag, int fallback)
    {
        var v = tif.GetFieldDefaulted(tag) ?? tif.GetField(tag);
        if (v is null || v.Length == 0) return fallback;
        long x = v[0].ToLong();
        return x > int.MaxValue ? int.MaxValue : (int)x;
    }

    static double? ParseNoData(string path, string? text)
    {
        if (text is null) return null;
        var t = text.Trim();
        if (t.Equals("nan", StringComparison.OrdinalIgnoreCase)) return double.NaN;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
        throw new ImageFormatException(path, $"GDAL_NODATA tag '{text}' is not a number");
    }

    static SampleKind Kind(string path, int bits, SampleFormat f) => (bits, f) switch
    {
        (8, SampleFormat.UINT or SampleFormat.VOID) => SampleKind.U8,
        (8, SampleFormat.INT) => SampleKind.I8,
        (16, SampleFormat.UINT or SampleFormat.VOID) => SampleKind.U16,
        (16, SampleFormat.INT) => SampleKind.I16,
        (32, SampleFormat.UINT or SampleFormat.VOID) => SampleKind.U32,
        (32, SampleFormat.INT) => SampleKind.I32,
        (32, SampleFormat.IEEEFP) => SampleKind.F32,
        (64, SampleFormat.IEEEFP) => SampleKind.F64,
        _ => throw new ImageFormatException(path, $"unsupported TIFF sample type: {bits}-bit {f} (supported: 8/16/32-bit integer, 32/64-bit float)"),
    };

    static int Bytes(SampleKind k) => k switch
    {
        SampleKind.U8 or SampleKind.I8 => 1,
        SampleKind.U16 or SampleKind.I16 => 2,
        SampleKind.F64 => 8,
        _ => 4,
    };

    /// <summary>Strip/tile data must lie inside the file and be able to decode to the declared raster.</summary>
    static void CheckRawExtents(string path, Tiff tif, long fileLength, long decodedBytes, Compression compression)
    {
        bool tiled = tif.IsTiled();
        var offs = tif.GetField(tiled ? TiffTag.TILEOFFSETS : TiffTag.STRIPOFFSETS);
        var counts = tif.GetField(tiled ? TiffTag.TILEBYTECOUNTS : TiffTag.STRIPBYTECOUNTS);
        if (offs is null || counts is null || offs.Length == 0 || counts.Length == 0)
            throw new ImageFormatException(path, $"TIFF has no {(tiled ? "tile" : "strip")} offsets or byte counts");
        long[] o = ToLongs(offs[0]), c = ToLongs(counts[0]);
        long total = 0;
        for (int i = 0; i < Math.Min(o.Length, c.Length); i++)
        {
            if (c[i] < 0 || o[i] < 8 || o[i] + c[i] > fileLength)
                throw new ImageFormatException(path, $"{(tiled ? "tile" : "strip")} {i} spans bytes {o[i]}..{o[i] + c[i]} but the file has {fileLength} bytes: truncated TIFF");
            total += c[i];
        }
        if (compression == Compression.NONE)
        {
            // Uncompressed tiles are padded to full tiles, strips may end short: the data must cover the raster.
            if (total < decodedBytes)
                throw new ImageFormatException(path, $"uncompressed TIFF holds {total} bytes of pixel data but its header declares {decodedBytes}: truncated or lying header");
        }
        else ImageReader.CheckExpansion(path, decodedBytes, total, $"{compression} strips/tiles");
    }

    static long[] ToLongs(FieldValue v)
    {
        if (v.Value is long[] l) return l;
        if (v.Value is ulong[] ul) return ul.Select(x => x > long.MaxValue ? long.MaxValue : (long)x).ToArray();
        if (v.Value is int[] i) return i.Select(x => (long)x).ToArray();
        if (v.Value is uint[] ui) return ui.Select(x => (long)x).ToArray();
        if (v.Value is short[] s) return s.Select(x => (long)(ushort)x).ToArray();
        if (v.Value is ushort[] us) return us.Select(x => (long)x).ToArray();
        return v.ToIntArray().Select(x => (long)(uint)x).ToArray();
    }

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

    static void ReadStrips(string path, Tiff tif, int width, int height, int spp, SampleKind kind, PlanarConfig planar,
                           int[] sel, float[][] planes, LibTiffErrors.Scope log)
    {
        long rpsRaw = (long)IntField(tif, TiffTag.ROWSPERSTRIP, height);
        int rps = (int)Math.Clamp(rpsRaw <= 0 ? height : rpsRaw, 1, height);
        int chunkSpp = planar == PlanarConfig.SEPARATE ? 1 : spp;
        int bps = Bytes(kind);
        long rowBytes = (long)width * chunkSpp * bps;
        long stripBytes = rowBytes * rps;
        if (stripBytes > int.MaxValue / 2)
            throw new ImageFormatException(path, $"TIFF strip of {rps} rows x {rowBytes} bytes is too large to decode");
        var buf = new byte[Math.Max(stripBytes, tif.StripSize())];
        var vals = new float[(int)(stripBytes / bps)];
        int stripsPerPlane = (height + rps - 1) / rps;
        int nStrips = tif.NumberOfStrips();
        foreach (int plane in SourcePlanes(planar, sel))
        {
            for (int s = 0; s < stripsPerPlane; s++)
            {
                int strip = plane * stripsPerPlane + s;
                if (strip >= nStrips) throw new ImageFormatException(path, $"TIFF has {nStrips} strips, strip {strip} is missing");
                int rows = Math.Min(rps, height - s * rps);
                int got = tif.ReadEncodedStrip(strip, buf, 0, buf.Length);
                if (got < rows * rowBytes)
                    throw new ImageFormatException(path, $"strip {strip} decoded to {got} bytes, expected {rows * rowBytes}: {log.Describe()}");
                int count = (int)(rows * rowBytes / bps);
                ToFloats(buf.AsSpan(0, count * bps), kind, vals.AsSpan(0, count));
                Scatter(vals, width, rows, chunkSpp, 0, width, s * rps, planar, plane, sel, planes, width);
            }
        }
    }

    static void ReadTiles(string path, Tiff tif, int width, int height, int spp, SampleKind kind, PlanarConfig planar,
                          int[] sel, float[][] planes, LibTiffErrors.Scope log)
    {
        int tw = IntField(tif, TiffTag.TILEWIDTH, 0), th = IntField(tif, TiffTag.TILELENGTH, 0);
        int chunkSpp = planar == PlanarConfig.SEPARATE ? 1 : spp;
        int bps = Bytes(kind);
        long tileBytes = (long)tw * th * chunkSpp * bps;
        if (tw <= 0 || th <= 0 || tileBytes > (1L << 30))
            throw new ImageFormatException(path, $"TIFF tile size {tw}x{th} is invalid or too large");
        var buf = new byte[Math.Max(tileBytes, tif.TileSize())];
        var vals = new float[(int)(tileBytes / bps)];
        int nTiles = tif.NumberOfTiles();
        foreach (int plane in SourcePlanes(planar, sel))
        {
            for (int ty = 0; ty < height; ty += th)
            for (int tx = 0; tx < width; tx += tw)
            {
                int tile = tif.ComputeTile(tx, ty, 0, (short)plane);
                if (tile < 0 || tile >= nTiles) throw new ImageFormatException(path, $"TIFF has {nTiles} tiles, tile {tile} is missing");
                int got = tif.ReadEncodedTile(tile, buf, 0, buf.Length);
                if (got < tileBytes)
                    throw new ImageFormatException(path, $"tile {tile} decoded to {got} bytes, expected {tileBytes}: {log.Describe()}");
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

    static RasterImage ReadPalette(string path, Tiff tif, int width, int height, int spp, int bits, ReadOptions o, LibTiffErrors.Scope log)
    {
        if (spp != 1 || (bits != 8 && bits != 16))
            throw new ImageFormatException(path, $"palette TIFF with {spp} samples of {bits} bits is not supported (expected one 8- or 16-bit index)");
        var cmap = tif.GetField(TiffTag.COLORMAP);
        if (cmap is null || cmap.Length < 3) throw new ImageFormatException(path, "palette TIFF without a colour map");
        var maps = new[] { cmap[0].ToShortArray(), cmap[1].ToShortArray(), cmap[2].ToShortArray() };
        int entries = 1 << bits;
        if (maps.Any(m => m is null || m.Length < entries))
            throw new ImageFormatException(path, $"palette TIFF colour map has fewer than {entries} entries");
        int[] sel = ImageReader.ResolveBands(path, 3, o);
        var index = new[] { new float[(long)width * height] };
        var kind = bits == 8 ? SampleKind.U8 : SampleKind.U16;
        CheckRawExtents(path, tif, new FileInfo(path).Length, (long)width * height * (bits / 8), (Compression)IntField(tif, TiffTag.COMPRESSION, 1));
        if (tif.IsTiled()) ReadTiles(path, tif, width, height, 1, kind, PlanarConfig.CONTIG, new[] { 0 }, index, log);
        else ReadStrips(path, tif, width, height, 1, kind, PlanarConfig.CONTIG, new[] { 0 }, index, log);
        var planes = new float[sel.Length][];
        for (int b = 0; b < sel.Length; b++)
        {
            var m = maps[sel[b]];
            var p = planes[b] = new float[index[0].Length];
            for (int i = 0; i < p.Length; i++) p[i] = (ushort)m[(int)index[0][i]];
        }
        return new RasterImage(width, height, planes, sourceBitDepth: bits);
    }

    /// <summary>YCbCr (non-JPEG), CMYK and Lab 8-bit data: let LibTiff convert to RGBA.</summary>
    static RasterImage ReadViaRgba(string path, Tiff tif, int width, int height, ReadOptions o, LibTiffErrors.Scope log)
    {
        CheckRawExtents(path, tif, new FileInfo(path).Length, (long)width * height, (Compression)IntField(tif, TiffTag.COMPRESSION, 1));
        var raster = new int[(long)width * height];
        if (!tif.ReadRGBAImageOriented(width, height, raster, Orientation.TOPLEFT, false))
            throw new ImageFormatException(path, $"LibTiff cannot convert the image to RGB: {log.Describe()}");
        int[] sel = ImageReader.ResolveBands(path, 3, o);
        var planes = new float[sel.Length][];
        for (int b = 0; b < sel.Length; b++)
        {
            var p = planes[b] = new float[raster.Length];
            int shift = 8 * sel[b]; // ABGR packing: R in the low byte
            for (int i = 0; i < p.Length; i++) p[i] = (raster[i] >> shift) & 0xFF;
        }
        return new RasterImage(width, height, planes, sourceBitDepth: 8);
    }
}
