using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>Writes synthetic TIFFs straight through LibTiff (independently of ImageWriter) and patches raw IFD
/// entries to make lying files.</summary>
public static class TiffFixtures
{
    static readonly object Gate = new();
    static bool registered;
    static Tiff.TiffExtendProc? parent;

    /// <summary>Registers GDAL_NODATA so fixtures can carry it like a GDAL-written file.</summary>
    static void EnsureNoDataTag()
    {
        lock (Gate)
        {
            if (registered) return;
            parent = Tiff.SetTagExtender(t =>
            {
                t.MergeFieldInfo(new[] { new TiffFieldInfo(TiffTag.GDAL_NODATA, -1, -1, TiffType.ASCII, FieldBit.Custom, true, false, "GDAL_NODATA") }, 1);
                parent?.Invoke(t);
            });
            registered = true;
        }
    }

    public sealed record Spec
    {
        public int Width { get; init; } = 37;
        public int Height { get; init; } = 29;
        public int Bands { get; init; } = 1;
        public int Bits { get; init; } = 16;
        public SampleFormat Format { get; init; } = SampleFormat.UINT;
        public bool Planar { get; init; }
        public bool Tiled { get; init; }
        public int Tile { get; init; } = 16;
        public int RowsPerStrip { get; init; } = 5;
        public Compression Compression { get; init; } = Compression.NONE;
        public string? NoData { get; init; }
        public bool BigEndian { get; init; }
        /// <summary>BigTIFF (LibTiff mode "w8"): 8-byte offsets and counts.</summary>
        public bool BigTiff { get; init; }
    }

    /// <summary>Sample value of band b at (x, y), distinct per band/pixel and exactly representable.</summary>
    public static double Value(Spec s, int b, int x, int y)
    {
        double v = (x * 7 + y * 13 + b * 101) % 251;
        return s.Bits == 8 ? v : s.Format == SampleFormat.INT ? v * 100 - 12000 : s.Format == SampleFormat.IEEEFP ? v / 8.0 : v * 100 + 1000;
    }

    public static void Write(string path, Spec s, Func<int, int, int, double>? value = null)
    {
        EnsureNoDataTag();
        value ??= (b, x, y) => Value(s, b, x, y);
        using var tif = Tiff.Open(path, (s.BigEndian ? "wb" : "wl") + (s.BigTiff ? "8" : "")) ?? throw new InvalidOperationException("cannot create " + path);
        tif.SetField(TiffTag.IMAGEWIDTH, s.Width);
        tif.SetField(TiffTag.IMAGELENGTH, s.Height);
        tif.SetField(TiffTag.SAMPLESPERPIXEL, s.Bands);
        tif.SetField(TiffTag.BITSPERSAMPLE, s.Bits);
        tif.SetField(TiffTag.SAMPLEFORMAT, s.Format);
        tif.SetField(TiffTag.PHOTOMETRIC, s.Bands == 3 ? Photometric.RGB : Photometric.MINISBLACK);
        if (s.Bands > 1 && s.Bands != 3) tif.SetField(TiffTag.EXTRASAMPLES, s.Bands - 1, new short[s.Bands - 1]);
        tif.SetField(TiffTag.PLANARCONFIG, s.Planar ? PlanarConfig.SEPARATE : PlanarConfig.CONTIG);
        tif.SetField(TiffTag.COMPRESSION, s.Compression);
        if (s.NoData is not null) tif.SetField(TiffTag.GDAL_NODATA, s.NoData);
        int bps = s.Bits / 8, spp = s.Planar ? 1 : s.Bands;
        int cw = s.Tiled ? s.Tile : s.Width, ch = s.Tiled ? s.Tile : s.RowsPerStrip;
        if (s.Tiled) { tif.SetField(TiffTag.TILEWIDTH, s.Tile); tif.SetField(TiffTag.TILELENGTH, s.Tile); }
        else tif.SetField(TiffTag.ROWSPERSTRIP, s.RowsPerStrip);
        var buf = new byte[cw * ch * spp * bps];
        int chunk = 0;
        for (int plane = 0; plane < (s.Planar ? s.Bands : 1); plane++)
        for (int y0 = 0; y0 < s.Height; y0 += ch)
        for (int x0 = 0; x0 < (s.Tiled ? s.Width : 1); x0 += cw)
        {
            Array.Clear(buf);
            int rows = Math.Min(ch, s.Height - y0);
            for (int r = 0; r < rows; r++)
            for (int x = 0; x < Math.Min(cw, s.Width - x0); x++)
            for (int k = 0; k < spp; k++)
            {
                int band = s.Planar ? plane : k;
                double v = value(band, x0 + x, y0 + r);
                var dst = buf.AsSpan(((r * cw + x) * spp + k) * bps);
                switch (s.Bits, s.Format)
                {
                    case (8, _): dst[0] = (byte)v; break;
                    case (16, SampleFormat.INT): BitConverter.TryWriteBytes(dst, (short)v); break;
                    case (16, _): BitConverter.TryWriteBytes(dst, (ushort)v); break;
                    case (32, SampleFormat.IEEEFP): BitConverter.TryWriteBytes(dst, (float)v); break;
                    default: throw new NotSupportedException();
                }
            }
            int len = s.Tiled ? buf.Length : rows * cw * spp * bps;
            int ok = s.Tiled ? tif.WriteEncodedTile(chunk++, buf, len) : tif.WriteEncodedStrip(chunk++, buf, len);
            if (ok < 0) throw new InvalidOperationException("LibTiff write failed");
        }
        tif.WriteDirectory();
    }

    /// <summary>Raw entries of the first IFD of a little-endian classic TIFF: tag -> (type, count, value-or-offset field position).</summary>
    public static Dictionary<int, (int Type, uint Count, int FieldPos)> Entries(byte[] b)
    {
        if (b[0] != 'I') throw new NotSupportedException("fixture helpers handle little-endian TIFF only");
        int ifd = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
        int n = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(ifd));
        var d = new Dictionary<int, (int, uint, int)>();
        for (int e = 0; e < n; e++)
        {
            int p = ifd + 2 + 12 * e;
            d[BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(p))] =
                (BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(p + 2)), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(p + 4)), p + 8);
        }
        return d;
    }

    /// <summary>Overwrites a single-valued SHORT or LONG tag in place.</summary>
    public static void PatchTag(byte[] b, TiffTag tag, uint value)
    {
        var (type, count, pos) = Entries(b)[(int)tag];
        if (count != 1) throw new NotSupportedException($"tag {tag} has {count} values");
        if (type == 3) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(pos), (ushort)value);
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(pos), value);
    }

    /// <summary>Doubles of a DOUBLE-typed tag read straight from the file bytes.</summary>
    public static double[] DoubleTag(byte[] b, int tag)
    {
        var (type, count, pos) = Entries(b)[tag];
        if (type != 12) throw new InvalidOperationException($"tag {tag} has type {type}, expected DOUBLE");
        int off = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
        var r = new double[count];
        for (int i = 0; i < count; i++) r[i] = BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(off + 8 * i));
        return r;
    }

    public static ushort[] ShortTag(byte[] b, int tag)
    {
        var (type, count, pos) = Entries(b)[tag];
        if (type != 3) throw new InvalidOperationException($"tag {tag} has type {type}, expected SHORT");
        int off = count <= 2 ? pos : (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
        var r = new ushort[count];
        for (int i = 0; i < count; i++) r[i] = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(off + 2 * i));
        return r;
    }

    /// <summary>numpy.percentile (linear) by plain sorting: an independent reference for the reader's histogram.</summary>
    public static double Percentile(IEnumerable<double> values, double pct)
    {
        var s = values.OrderBy(v => v).ToArray();
        double pos = pct / 100 * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}
