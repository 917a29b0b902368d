using System.Buffers.Binary;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Independent sanity check of a TIFF's first image file directory before LibTiff sees it: the IFD and
/// every tag's out-of-line data must lie inside the file, so a lying count cannot make the decoder
/// allocate or seek into nothing. Also reports the raw strip/tile extents for size checks.
/// </summary>
internal static class TiffStructure
{
    const int MaxEntries = 4096;

    static readonly int[] TypeSizes = { 0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8 };

    public static void Check(string path, long fileLength)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        Span<byte> head = stackalloc byte[16];
        if (fs.ReadAtLeast(head[..8], 8, throwOnEndOfStream: false) < 8)
            throw new ImageFormatException(path, "TIFF header truncated");
        bool little = head[0] == 'I';
        bool big = (little ? BinaryPrimitives.ReadUInt16LittleEndian(head[2..]) : BinaryPrimitives.ReadUInt16BigEndian(head[2..])) == 43;
        long ifd;
        if (big)
        {
            if (fs.ReadAtLeast(head[8..], 8, throwOnEndOfStream: false) < 8) throw new ImageFormatException(path, "BigTIFF header truncated");
            ifd = (long)U64(head[8..], little);
        }
        else ifd = U32(head[4..], little);

        int countSize = big ? 8 : 2, entrySize = big ? 20 : 12, offsetSize = big ? 8 : 4;
        if (ifd < 8 || ifd + countSize > fileLength)
            throw new ImageFormatException(path, $"first image directory offset {ifd} lies outside the file ({fileLength} bytes): truncated or corrupt TIFF");
        var buf = new byte[entrySize];
        fs.Position = ifd;
        fs.ReadExactly(buf.AsSpan(0, countSize));
        long entries = big ? (long)U64(buf, little) : U16(buf, little);
        if (entries == 0 || entries > MaxEntries)
            throw new ImageFormatException(path, $"image directory declares {entries} entries (expected 1..{MaxEntries})");
        if (ifd + countSize + entries * entrySize > fileLength)
            throw new ImageFormatException(path, $"image directory at {ifd} with {entries} entries runs past the end of the file ({fileLength} bytes): truncated TIFF");

        for (long e = 0; e < entries; e++)
        {
            fs.Position = ifd + countSize + e * entrySize;
            fs.ReadExactly(buf);
            int tag = U16(buf, little), type = U16(buf.AsSpan(2), little);
            ulong count = big ? U64(buf.AsSpan(4), little) : U32(buf.AsSpan(4), little);
            if (type <= 0 || type >= TypeSizes.Length || TypeSizes[type] == 0) continue; // unknown types are skipped by LibTiff
            double bytes = (double)count * TypeSizes[type];
            if (bytes <= offsetSize) continue; // value stored inline
            ulong offset = big ? U64(buf.AsSpan(12), little) : U32(buf.AsSpan(8), little);
            if (offset + bytes > fileLength)
                throw new ImageFormatException(path, $"tag {tag} declares {count} values ({bytes} bytes) at offset {offset}, past the end of the file ({fileLength} bytes): truncated or corrupt TIFF");
        }
    }

    static ushort U16(ReadOnlySpan<byte> b, bool le) => le ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
    static uint U32(ReadOnlySpan<byte> b, bool le) => le ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
    static ulong U64(ReadOnlySpan<byte> b, bool le) => le ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
}
