using System.Buffers.Binary;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Byte-level TIFF surgery for tests, independent of the reader under test and of LibTiff (which refuses to write
/// lying headers): locates the first IFD's entries in any flavour (classic or BigTIFF, either byte order) so their
/// type, count and value fields can be patched, and builds minimal files entry by entry.
/// </summary>
public static class TiffBytes
{
    public const int SHORT = 3, LONG = 4, LONG8 = 16;

    /// <summary>One directory entry: where its fields are and what they hold.</summary>
    public readonly record struct Entry(int Tag, int Type, ulong Count, int Pos, int TypePos, int CountPos, int ValuePos);

    /// <summary>Byte order and flavour of a TIFF, or null when the bytes do not start like one.</summary>
    public readonly record struct Flavour(bool Little, bool Big)
    {
        public int CountSize => Big ? 8 : 4;    // entry count field width
        public int ValueSize => Big ? 8 : 4;    // value/offset field width
        public int EntrySize => Big ? 20 : 12;
        public int DirCountSize => Big ? 8 : 2;
        public int HeaderSize => Big ? 16 : 8;
    }

    public static Flavour? FlavourOf(byte[] b)
    {
        if (b.Length < 8 || !((b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M'))) return null;
        bool little = b[0] == 'I';
        ulong version = Read(b, 2, 2, little);
        return version switch { 42 => new Flavour(little, false), 43 when b.Length >= 16 => new Flavour(little, true), _ => null };
    }

    /// <summary>Entries of the first IFD, as far as they lie inside the bytes (a mutated file may cut them off).</summary>
    public static List<Entry> Entries(byte[] b)
    {
        var list = new List<Entry>();
        if (FlavourOf(b) is not { } f) return list;
        ulong ifd = f.Big ? Read(b, 8, 8, f.Little) : Read(b, 4, 4, f.Little);
        if (ifd > (ulong)b.Length || ifd + (ulong)f.DirCountSize > (ulong)b.Length) return list;
        ulong n = Read(b, (int)ifd, f.DirCountSize, f.Little);
        for (ulong e = 0; e < Math.Min(n, 4096UL); e++)
        {
            long p = (long)ifd + f.DirCountSize + (long)e * f.EntrySize;
            if (p + f.EntrySize > b.Length) break;
            int pos = (int)p;
            list.Add(new Entry((int)Read(b, pos, 2, f.Little), (int)Read(b, pos + 2, 2, f.Little),
                Read(b, pos + 4, f.CountSize, f.Little), pos, pos + 2, pos + 4, pos + 4 + f.CountSize));
        }
        return list;
    }

    public static Entry Find(byte[] b, int tag) => Entries(b).Single(e => e.Tag == tag);

    public static void PatchType(byte[] b, Entry e, ulong v) => Write(b, e.TypePos, 2, v, FlavourOf(b)!.Value.Little);
    public static void PatchCount(byte[] b, Entry e, ulong v) { var f = FlavourOf(b)!.Value; Write(b, e.CountPos, f.CountSize, v, f.Little); }
    public static void PatchValueField(byte[] b, Entry e, ulong v) { var f = FlavourOf(b)!.Value; Write(b, e.ValuePos, f.ValueSize, v, f.Little); }

    /// <summary>Overwrites a single SHORT, LONG or LONG8 value stored inline (at the start of the value field).</summary>
    public static void PatchInlineValue(byte[] b, int tag, ulong v)
    {
        var e = Find(b, tag);
        if (e.Count != 1) throw new NotSupportedException($"tag {tag} has {e.Count} values");
        Write(b, e.ValuePos, SizeOf(e.Type), v, FlavourOf(b)!.Value.Little);
    }

    public static int SizeOf(int type) => type switch { 1 or 2 or 6 or 7 => 1, 3 or 8 => 2, 4 or 9 or 11 or 13 => 4, 5 or 10 or 12 or 16 or 17 or 18 => 8, _ => 0 };

    public static ulong Read(byte[] b, int pos, int width, bool little)
    {
        var s = b.AsSpan(pos, width);
        return width switch
        {
            1 => s[0],
            2 => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s),
            4 => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s),
            8 => little ? BinaryPrimitives.ReadUInt64LittleEndian(s) : BinaryPrimitives.ReadUInt64BigEndian(s),
            _ => throw new ArgumentOutOfRangeException(nameof(width)),
        };
    }

    /// <summary>Writes the low <paramref name="width"/> bytes of <paramref name="v"/> in the file's byte order.</summary>
    public static void Write(byte[] b, int pos, int width, ulong v, bool little)
    {
        var s = b.AsSpan(pos, width);
        switch (width)
        {
            case 1: s[0] = (byte)v; break;
            case 2: if (little) BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)v); else BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)v); break;
            case 4: if (little) BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)v); else BinaryPrimitives.WriteUInt32BigEndian(s, (uint)v); break;
            case 8: if (little) BinaryPrimitives.WriteUInt64LittleEndian(s, v); else BinaryPrimitives.WriteUInt64BigEndian(s, v); break;
            default: throw new ArgumentOutOfRangeException(nameof(width));
        }
    }

    /// <summary>A tag to write with <see cref="Build"/>: values of an integer type (1 BYTE, 3 SHORT, 4 LONG, 16 LONG8).</summary>
    public sealed record Tag(int Id, int Type, params ulong[] Values);

    /// <summary>Where <see cref="Build"/> puts the pixel data: straight after the header.</summary>
    public static int DataOffset(bool bigTiff) => bigTiff ? 16 : 8;

    /// <summary>
    /// A single-IFD TIFF: header, <paramref name="data"/> at <see cref="DataOffset"/>, out-of-line values, then the IFD
    /// (entries sorted by tag). Values that fit the value field are stored inline, as the TIFF spec requires.
    /// </summary>
    public static byte[] Build(bool bigTiff, bool little, byte[] data, params Tag[] tags)
    {
        var f = new Flavour(little, bigTiff);
        var sorted = tags.OrderBy(t => t.Id).ToArray();
        int pos = f.HeaderSize + data.Length;
        var outOfLine = new int[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            int bytes = sorted[i].Values.Length * SizeOf(sorted[i].Type);
            if (bytes > f.ValueSize) { pos += pos & 1; outOfLine[i] = pos; pos += bytes; }
        }
        pos += pos & 1;
        int ifd = pos;
        int total = ifd + f.DirCountSize + sorted.Length * f.EntrySize + f.ValueSize;
        var b = new byte[total];
        b[0] = b[1] = (byte)(little ? 'I' : 'M');
        Write(b, 2, 2, bigTiff ? 43UL : 42UL, little);
        if (bigTiff) { Write(b, 4, 2, 8, little); Write(b, 8, 8, (ulong)ifd, little); }
        else Write(b, 4, 4, (ulong)ifd, little);
        data.CopyTo(b, f.HeaderSize);
        Write(b, ifd, f.DirCountSize, (ulong)sorted.Length, little);
        for (int i = 0; i < sorted.Length; i++)
        {
            var t = sorted[i];
            int p = ifd + f.DirCountSize + i * f.EntrySize, size = SizeOf(t.Type);
            Write(b, p, 2, (ulong)t.Id, little);
            Write(b, p + 2, 2, (ulong)t.Type, little);
            Write(b, p + 4, f.CountSize, (ulong)t.Values.Length, little);
            int at = outOfLine[i] != 0 ? outOfLine[i] : p + 4 + f.CountSize;
            if (outOfLine[i] != 0) Write(b, p + 4 + f.CountSize, f.ValueSize, (ulong)outOfLine[i], little);
            for (int k = 0; k < t.Values.Length; k++) Write(b, at + k * size, size, t.Values[k], little);
        }
        return b;
    }
}
