using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Defects 5 and 6 of the imaging issue on the way out: a failed or killed write leaves the old target
/// intact and no temporary behind (stale ones of a killed run are removed by the next write), and the
/// file system's refusals read as one sentence naming the file ("disk full", "is a directory").
/// </summary>
[TestFixture, NonParallelizable] // the stream seam is process-wide
public class AtomicWriteTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-atomic-" + Guid.NewGuid().ToString("N")));
    [TearDown]
    public void TearDown()
    {
        ImageWriter.StreamWrapper = null;
        Directory.Delete(dir, true);
    }

    static RasterImage Big()
    {
        var img = RasterImage.Create(300, 200, 3);
        var rnd = new Random(5);
        foreach (var p in img.Planes) for (int i = 0; i < p.Length; i++) p[i] = (float)rnd.NextDouble();
        return img;
    }

    string[] Entries() => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    [TestCase("out.tif")]
    [TestCase("out.png")]
    [TestCase("out.jpg")]
    public void DiskFullKeepsTheOldFileLeavesNoTemporaryAndSaysDiskFull(string name)
    {
        string f = Path.Combine(dir, name);
        ImageWriter.Write(f, RasterImage.Create(4, 4, 3));
        byte[] old = File.ReadAllBytes(f);
        ImageWriter.StreamWrapper = s => new FailingStream(s, failAfter: 2000, DiskFull());
        var e = Assert.Throws<IOException>(() => ImageWriter.Write(f, Big()))!;
        Assert.That(e.Message, Does.Contain(f).And.Contain("disk full"));
        Assert.That(e.Message, Does.Not.Contain("Write error").And.Not.Contain("scanline"), "LibTiff's internal wording is not the message");
        Assert.That(File.ReadAllBytes(f), Is.EqualTo(old), "the old file is intact");
        Assert.That(Entries(), Is.EqualTo(new[] { name }), "no temporary left");
    }

    [Test]
    public void RealEnospcIsRecognisedAsDiskFull()
    {
        if (!File.Exists("/dev/full")) Assert.Ignore("skipped: no /dev/full on this system");
        var e = Assert.Catch<IOException>(() =>
        {
            using var fs = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
            fs.Write(new byte[4096]);
            fs.Flush();
        })!;
        Assert.That(ImageWriter.IsDiskFull(e), Is.True, $"HResult {e.HResult}: {e.Message}");
    }

    [Test]
    public void StaleTemporariesOfADeadWriterAreRemovedByTheNextWrite()
    {
        string f = Path.Combine(dir, "scene.tif");
        // A killed run of a process that no longer exists (pid_max is at most 2^22 on Linux), one of this
        // process (possibly in flight), and an unrelated hidden file that only looks similar.
        string stale = Path.Combine(dir, $".scene.tif.99999999.{Guid.NewGuid():N}.tmp");
        string live = Path.Combine(dir, $".scene.tif.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        string other = Path.Combine(dir, ".scene.tif.notes.tmp");
        foreach (var t in new[] { stale, live, other }) File.WriteAllBytes(t, new byte[1000]);
        ImageWriter.Write(f, RasterImage.Create(8, 8, 1));
        Assert.That(File.Exists(stale), Is.False, "the dead writer's temporary is removed");
        Assert.That(File.Exists(live) && File.Exists(other), Is.True, "live or foreign files are left alone");
    }

    [Test]
    public void WritingOverADirectorySaysSo()
    {
        string d = Path.Combine(dir, "folder.png");
        Directory.CreateDirectory(d);
        var e = Assert.Throws<IOException>(() => ImageWriter.Write(d, RasterImage.Create(2, 2, 1)))!;
        Assert.That(e.Message, Does.Contain(d).And.Contain("is a directory"));
    }

    [Test]
    public void ReadingADirectorySaysSo()
    {
        var e = Assert.Throws<ImageFormatException>(() => ImageReader.Read(dir))!;
        Assert.That(e.Message, Does.Contain(dir).And.Contain("is a directory"));
    }

    static IOException DiskFull() => new("No space left on device") { HResult = 28 };

    /// <summary>Writes through to the inner stream until <c>failAfter</c> bytes, then throws like a full disk.</summary>
    sealed class FailingStream(Stream inner, long failAfter, Exception failure) : Stream
    {
        long written;
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (written + count > failAfter) throw failure;
            written += count;
            inner.Write(buffer, offset, count);
        }
    }
}
