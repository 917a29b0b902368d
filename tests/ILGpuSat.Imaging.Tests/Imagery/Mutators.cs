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
