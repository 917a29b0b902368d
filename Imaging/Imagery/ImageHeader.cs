using System.Buffers.Binary;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Width and height of a PNG or JPEG from its header alone, with bounded reads. Indexing a data set reads
/// every file's size, so this reads the first 24 bytes of a PNG and, in a JPEG, seeks past each segment to
/// the frame header, with stack buffers only; ImageSharp's Identify would read and parse every segment
/// before the first scan (tables, EXIF, ICC). It was first written because the previous decoder,
/// StbImageSharp, never returned from ImageInfo on some truncated JPEGs.
/// </summary>
internal static class ImageHeader
{
    /// <summary>The size, or null when the file is neither PNG nor JPEG; throws InvalidDataException on a broken header.</summary>
    public static (int Width, int Height)? TryRead(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> head = stackalloc byte[24];
        int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got >= 24 && head[0] == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G')
        {
            // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
            if (head[12] != 'I' || head[13] != 'H' || head[14] != 'D' || head[15] != 'R')
                throw new InvalidDataException("PNG without IHDR as its first chunk");
            return Checked(BinaryPrimitives.ReadInt32BigEndian(head[16..]), BinaryPrimitives.ReadInt32BigEndian(head[20..]));
        }
        if (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
            return ReadJpeg(stream);
        return null;
    }

    private static (int, int) ReadJpeg(Stream stream)
    {
        stream.Position = 2;
        Span<byte> seg = stackalloc byte[7];
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0) break;
            if (b != 0xFF) throw new InvalidDataException($"JPEG marker expected at byte {stream.Position - 1}");
            int marker;
            do marker = stream.ReadByte(); while (marker == 0xFF); // fill bytes
            if (marker < 0) break;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD8)) continue; // no length
            if (marker == 0xD9 || marker == 0xDA) break;            // end of image / start of scan before any frame
            if (stream.ReadAtLeast(seg[..2], 2, throwOnEndOfStream: false) < 2) break;
            int length = BinaryPrimitives.ReadUInt16BigEndian(seg);
            if (length < 2) throw new InvalidDataException($"JPEG segment length {length}");
            bool frame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (frame)
            {
                if (stream.ReadAtLeast(seg[..5], 5, throwOnEndOfStream: false) < 5) break;
                return Checked(BinaryPrimitives.ReadUInt16BigEndian(seg[3..]), BinaryPrimitives.ReadUInt16BigEndian(seg[1..]));
            }
            stream.Seek(length - 2, SeekOrigin.Current);
        }
        throw new InvalidDataException("JPEG ends before its frame header (truncated or not a JPEG)");
    }

    private static (int, int) Checked(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new InvalidDataException($"header gives a size of {width}x{height}");
        return (width, height);
    }
}
