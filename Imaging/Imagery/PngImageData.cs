using System.IO.Compression;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Checks a PNG's compressed image data (the IDAT chunks' zlib stream) before any decoder sees it: it must
/// inflate, end, and hold exactly the filtered scanlines the header implies. ImageSharp 2.1's PNG decoder
/// hangs for ever on an interlaced image whose zlib stream stops early without an error (found by our
/// fuzz test; seed PngInterlaced), and short streams are the commonest corruption, so this is checked here.
/// Inflating counts bytes into a small buffer: nothing is allocated for the pixels.
/// </summary>
internal static class PngImageData
{
    /// <summary>Adam7 passes: x0, y0, dx, dy.</summary>
    static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) };

    /// <param name="ihdr">The 13 IHDR data bytes.</param>
    /// <param name="idat">The IDAT chunks' data, in order.</param>
    public static void Check(string path, ReadOnlySpan<byte> ihdr, IReadOnlyList<ReadOnlyMemory<byte>> idat)
    {
        long width = (uint)(ihdr[0] << 24 | ihdr[1] << 16 | ihdr[2] << 8 | ihdr[3]);
        long height = (uint)(ihdr[4] << 24 | ihdr[5] << 16 | ihdr[6] << 8 | ihdr[7]);
        int depth = ihdr[8], colourType = ihdr[9], interlace = ihdr[12];
        int channels = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        bool depthOk = colourType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => depth is 8 or 16,
        };
        if (channels == 0 || !depthOk)
            throw new ImageFormatException(path, $"PNG header has an invalid combination of colour type {colourType} and bit depth {depth}");
        if (interlace > 1) throw new ImageFormatException(path, $"PNG header declares interlace method {interlace} (only 0 and 1 exist)");
        long expected = interlace == 0
            ? Scanlines(width, height, channels * depth)
            : Adam7.Sum(p => Scanlines((width - p.X0 + p.Dx - 1) / p.Dx, (height - p.Y0 + p.Dy - 1) / p.Dy, channels * depth));

        long got = 0;
        try
        {
            using var zlib = new ZLibStream(new ChunkStream(idat), CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = zlib.Read(buffer)) > 0)
            {
                got += n;
                if (got > expected) break;
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException(path, $"PNG data is corrupt: the compressed image data cannot be inflated ({e.Message})", e);
        }
        if (got < expected)
            throw new ImageFormatException(path, $"PNG data is corrupt: the compressed image data stops early (truncated?): it inflates to {got} bytes, the header needs {expected}");
        if (got > expected)
            throw new ImageFormatException(path, $"PNG data is corrupt: the compressed image data holds more than the {expected} bytes the header needs");
    }

    /// <summary>Filtered scanline bytes of a pass: one filter byte per row plus the packed samples.</summary>
    static long Scanlines(long width, long height, int bitsPerPixel) =>
        width <= 0 || height <= 0 ? 0 : height * (1 + (width * bitsPerPixel + 7) / 8);

    /// <summary>The IDAT chunks' data as one read-only stream.</summary>
    sealed class ChunkStream(IReadOnlyList<ReadOnlyMemory<byte>> chunks) : Stream
    {
        int chunk, offset;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long o, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int o, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int o, int count) => Read(buffer.AsSpan(o, count));

        public override int Read(Span<byte> destination)
        {
            while (chunk < chunks.Count && offset >= chunks[chunk].Length) { chunk++; offset = 0; }
            if (chunk >= chunks.Count) return 0;
            var src = chunks[chunk].Span[offset..];
            int n = Math.Min(src.Length, destination.Length);
            src[..n].CopyTo(destination);
            offset += n;
            return n;
        }
    }
}
