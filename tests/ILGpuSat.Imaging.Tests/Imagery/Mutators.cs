namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Deterministic mutators for fuzzing image readers: each takes a valid file and a seeded <see cref="Random"/> and
/// returns a corrupted copy, so a failing mutant can be replayed from its seed and index. Format-blind mutators
/// (truncation, random bytes, extreme 32-bit words) suit any format; <see cref="IfdEntry"/> aims at the fields a
/// TIFF reader sizes its allocations from: the type, count and value/offset of directory entries.
/// </summary>
public static class Mutators
{
    /// <summary>Values that sit on the edges a reader must check: zero, one, type limits and the file's own length.</summary>
    public static ulong[] Extremes(long fileLength) =>
        new ulong[] { 0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, (ulong)fileLength, (ulong)fileLength + 1 };

    /// <summary>A seed for <see cref="Random"/> that is the same in every process (string.GetHashCode is not).</summary>
    public static int StableSeed(string name)
    {
        uint h = 2166136261; // FNV-1a
        foreach (char c in name) h = (h ^ c) * 16777619;
        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>Format-blind: truncation, random bytes in the first 512 bytes or anywhere, or an extreme 32-bit word.</summary>
    public static byte[] Generic(byte[] seed, Random rnd)
    {
        var b = (byte[])seed.Clone();
        switch (rnd.Next(4))
        {
            case 0: return Truncate(b, rnd);
            case 1: return RandomBytes(b, rnd, Math.Min(512, b.Length), rnd.Next(1, 6));
            case 2: return RandomBytes(b, rnd, b.Length, rnd.Next(1, 10));
            default: return ExtremeWord(b, rnd);
        }
    }

    /// <summary>For TIFF seeds: three mutants in four patch directory entries, the rest are <see cref="Generic"/>.</summary>
    public static byte[] Tiff(byte[] seed, Random rnd) => rnd.Next(4) == 0 ? Generic(seed, rnd) : IfdEntry(seed, rnd);

    /// <summary>For PNG seeds: half the mutants change one chunk's length or data and then repair its CRC, so
    /// they get past the checksum into the decoder (IHDR sizes, palette, zlib stream, filters); the rest are generic.</summary>
    public static byte[] Png(byte[] seed, Random rnd)
    {
        if (rnd.Next(2) == 0) return Generic(seed, rnd);
        var b = (byte[])seed.Clone();
        var chunks = new List<(int Pos, int Length)>();
        for (int pos = 8; pos + 12 <= b.Length;)
        {
            int len = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            if (len < 0 || pos + 12L + len > b.Length) break;
            chunks.Add((pos, len));
            pos += 12 + len;
        }
        if (chunks.Count == 0) return Generic(seed, rnd);
        var (at, length) = chunks[rnd.Next(chunks.Count)];
        if (rnd.Next(4) == 0)
        {
            // A lying length: the chunk walk must notice before any decoder trusts it.
            var v = Extremes(b.Length)[rnd.Next(7)];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), (uint)Math.Min(v, uint.MaxValue));
            return b;
        }
        if (length > 0)
        {
            if (rnd.Next(3) == 0 && length >= 4) // an extreme word (IHDR width/height, a palette entry count...)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at + 8 + rnd.Next(length - 3)), (uint)Extremes(b.Length)[rnd.Next(7)]);
            else
                for (int k = rnd.Next(1, 4); k > 0; k--) b[at + 8 + rnd.Next(length)] = (byte)rnd.Next(256);
        }
        uint crc = Crc32(b.AsSpan(at + 4, 4 + length));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at + 8 + length), crc);
        return b;
    }

    /// <summary>For JPEG seeds: half the mutants patch a marker segment before the scan (its length, or a
    /// 16-bit field inside it: frame size, component count, sampling factors, table sizes); the rest are generic.</summary>
    public static byte[] Jpeg(byte[] seed, Random rnd)
    {
        if (rnd.Next(2) == 0) return Generic(seed, rnd);
        var b = (byte[])seed.Clone();
        var segments = new List<(int Pos, int Length)>();
        for (int pos = 2; pos + 4 <= b.Length && b[pos] == 0xFF;)
        {
            byte m = b[pos + 1];
            if (m is 0xD8 or (>= 0xD0 and <= 0xD7) or 0x01) { pos += 2; continue; }
            int len = b[pos + 2] << 8 | b[pos + 3];
            if (len < 2 || pos + 2 + len > b.Length) break;
            segments.Add((pos, len));
            if (m == 0xDA) break;
            pos += 2 + len;
        }
        if (segments.Count == 0) return Generic(seed, rnd);
        var (at, length) = segments[rnd.Next(segments.Count)];
        ushort[] words = { 0, 1, 2, 0xFF, 0x7FFF, 0xFFFF, (ushort)rnd.Next(65536) };
        int field = rnd.Next(3) == 0 ? 2 : 4 + rnd.Next(Math.Max(1, length - 3)); // the length itself, or a field
        if (at + field + 2 <= b.Length)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at + field), words[rnd.Next(words.Length)]);
        return b;
    }

    /// <summary>PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) over chunk type and data.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte x in data)
        {
            c ^= x;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    public static byte[] Truncate(byte[] b, Random rnd) => b[..rnd.Next(1, b.Length)];

    public static byte[] RandomBytes(byte[] b, Random rnd, int window, int count)
    {
        for (int k = 0; k < count; k++) b[rnd.Next(window)] = (byte)rnd.Next(256);
        return b;
    }

    /// <summary>One of a few extreme 32-bit values written little-endian at a random position.</summary>
    public static byte[] ExtremeWord(byte[] b, Random rnd)
    {
        int p = rnd.Next(Math.Max(1, b.Length - 4));
        var v = new[] { 0x00000000u, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x00010000u, 0x0000FFFFu }[rnd.Next(5)];
        BitConverter.TryWriteBytes(b.AsSpan(p), v);
        return b;
    }

    /// <summary>
    /// Patches one to three entries of the first IFD (any flavour and byte order): the type (an extreme or another
    /// valid type, so a SHORT table becomes ASCII or DOUBLE), the count (an extreme, or off by one) or the
    /// value/offset field (an extreme, written at the field's full width). Falls back to <see cref="Generic"/>
    /// when the seed has no directory to aim at.
    /// </summary>
    public static byte[] IfdEntry(byte[] seed, Random rnd)
    {
        var entries = TiffBytes.Entries(seed);
        if (entries.Count == 0) return Generic(seed, rnd);
        var b = (byte[])seed.Clone();
        var ext = Extremes(b.Length);
        for (int k = rnd.Next(1, 4); k > 0; k--)
        {
            var e = entries[rnd.Next(entries.Count)];
            switch (rnd.Next(3))
            {
                case 0:
                    TiffBytes.PatchType(b, e, rnd.Next(2) == 0 ? ext[rnd.Next(ext.Length)] : (ulong)rnd.Next(1, 19));
                    break;
                case 1:
                    TiffBytes.PatchCount(b, e, rnd.Next(3) switch
                    {
                        0 => e.Count + 1,
                        1 => e.Count == 0 ? 0 : e.Count - 1,
                        _ => ext[rnd.Next(ext.Length)],
                    });
                    break;
                default:
                    TiffBytes.PatchValueField(b, e, ext[rnd.Next(ext.Length)]);
                    break;
            }
        }
        return b;
    }
}
