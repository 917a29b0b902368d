using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// LibTiff's I/O over a stream that its caller opened and disposes. With <c>Tiff.Open(path)</c> LibTiff opens the
/// file itself and leaves it open, until a finalizer runs, whenever it throws while reading the directory; handing
/// it a stream in a <c>using</c> closes the file on every path, so <see cref="Close"/> leaves the stream alone.
/// A read or seek that cannot be satisfied (a negative size or offset computed from a corrupt count) answers
/// "nothing read" instead of throwing, so LibTiff reports it as a read error of the file.
/// </summary>
internal sealed class TiffFileStream : TiffStream
{
    public override int Read(object clientData, byte[] buffer, int offset, int count)
    {
        if (offset < 0 || count < 0 || offset > buffer.Length || count > buffer.Length - offset) return 0;
        return ((Stream)clientData).ReadAtLeast(buffer.AsSpan(offset, count), count, throwOnEndOfStream: false);
    }

    public override void Write(object clientData, byte[] buffer, int offset, int count)
        => throw new NotSupportedException("TiffFileStream is read-only");

    public override long Seek(object clientData, long offset, SeekOrigin origin)
    {
        var s = (Stream)clientData;
        long target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => s.Position + offset, _ => s.Length + offset };
        if (target < 0) return -1;
        return s.Seek(target, SeekOrigin.Begin);
    }

    public override void Close(object clientData) { }

    public override long Size(object clientData) => ((Stream)clientData).Length;
}
