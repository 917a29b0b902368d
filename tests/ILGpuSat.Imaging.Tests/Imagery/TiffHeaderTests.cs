using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tests.Common;
using NUnit.Framework;
using static ILGpuSat.Imaging.Tests.Imagery.TiffBytes;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Defects an outside fuzzer found in the TIFF path, one test each. Files are crafted byte by byte (<see cref="TiffBytes"/>).
/// </summary>
[TestFixture]
public class TiffHeaderTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-tiffhdr-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    string Save(string name, byte[] b) { string f = Path.Combine(dir, name); File.WriteAllBytes(f, b); return f; }

    /// <summary>
    /// A minimal valid TIFF: <paramref name="width"/>x<paramref name="height"/> 8-bit grey in
    /// <paramref name="strips"/> strips of type <paramref name="tableType"/>, plus any <paramref name="extra"/> tags
    /// (which replace a default tag with the same number).
    /// </summary>
    static byte[] Grey(bool big, bool little, int width = 8, int height = 6, int strips = 2, int tableType = LONG, params Tag[] extra)
    {
        var data = new byte[width * height];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 3);
        int rps = (height + strips - 1) / strips, d = DataOffset(big);
        var offs = Enumerable.Range(0, strips).Select(s => (ulong)(d + s * rps * width)).ToArray();
        var counts = Enumerable.Range(0, strips).Select(s => (ulong)(Math.Min(rps, height - s * rps) * width)).ToArray();
        var tags = new List<Tag>
        {
            new(256, SHORT, (ulong)width), new(257, SHORT, (ulong)height), new(258, SHORT, 8), new(259, SHORT, 1),
            new(262, SHORT, 1), new(273, tableType, offs), new(277, SHORT, 1), new(278, SHORT, (ulong)rps), new(279, tableType, counts),
        };
        foreach (var t in extra) { tags.RemoveAll(x => x.Id == t.Id); tags.Add(t); }
        return Build(big, little, data, tags.ToArray());
    }

    // ------------------------------------------------------------------ defect 3: file handles left to the finalizer

    [Test]
    public void FailedTiffReadsLeaveNoFileHandleOpen()
    {
        var bad = new List<string>
        {
            // LibTiff throws inside Tiff.Open on this one (InvalidCastException)...
            Save("spp2.tif", PatchedCount(Grey(false, true), 277, 2)),
            // ...fail after opening it (corrupt LZW data)...
            Save("lzw.tif", CorruptLzw()),
            // ...or are stopped by the directory check.
            Save("cut.tif", Grey(true, true)[..40]),
        };
        foreach (var f in bad) Assert.Throws<ImageFormatException>(() => ImageReader.Read(f)); // warm-up: assemblies load once
        if (!OpenFiles.Supported) Assert.Ignore("no /proc/self/fd on this system: open descriptors cannot be counted");
        int before = OpenFiles.Count;
        for (int i = 0; i < 300; i++)
        {
            string f = bad[i % bad.Count];
            Assert.Throws<ImageFormatException>(() => ImageReader.Read(f));
        }
        int after = OpenFiles.Count;
        TestContext.Out.WriteLine($"open descriptors: {before} before 300 bad reads, {after} after");
        // No GC in between: a handle left to a finalizer would still be open. The slack covers the test runner's own threads.
        Assert.That(OpenFiles.Under(dir), Is.Empty, "descriptors still open on the bad files");
        Assert.That(after, Is.LessThanOrEqualTo(before + 2));
    }

    static byte[] PatchedCount(byte[] b, int tag, ulong count)
    {
        PatchCount(b, Find(b, tag), count);
        return b;
    }

    byte[] CorruptLzw()
    {
        string f = Path.Combine(dir, "lzw-src.tif");
        TiffFixtures.Write(f, new TiffFixtures.Spec { Bands = 1, Bits = 8, Width = 64, Height = 64, RowsPerStrip = 64, Compression = Compression.LZW },
                           (b, x, y) => (x * y) % 251);
        var bytes = File.ReadAllBytes(f);
        var off = Find(bytes, 273);
        int start = (int)Read(bytes, off.ValuePos, 4, true);
        // After the first codes, all-ones codes: 511 refers to an LZW table entry that cannot exist yet.
        for (int i = 2; i < 40; i++) bytes[start + i] = 0xFF;
        return bytes;
    }
}
