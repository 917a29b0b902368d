using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tests.Common;
using NUnit.Framework;
using static ILGpuSat.Imaging.Tests.Imagery.TiffBytes;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Defects an outside fuzzer found in the TIFF path, one test each: headers whose sizes make LibTiff allocate
/// gigabytes for a tiny file, file handles left open when LibTiff throws, crash-like messages from LibTiff's
/// casts, and a size query that decoded the whole image. Files are crafted byte by byte (<see cref="TiffBytes"/>),
/// in every flavour: classic and BigTIFF, both byte orders, SHORT/LONG/LONG8 tables stored inline or out of line.
/// </summary>
[TestFixture]
public class TiffHeaderTests
{
    const long AllocationLimit = 256L << 20;
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-tiffhdr-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    string Save(string name, byte[] b) { string f = Path.Combine(dir, name); File.WriteAllBytes(f, b); return f; }

    /// <summary>Runs <paramref name="read"/>, expecting an ImageFormatException naming the file, and measures the
    /// bytes allocated on this thread meanwhile (LibTiff reads synchronously on the caller's thread).</summary>
    static ImageFormatException Rejects(string f, Action read, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => read(), what)!;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        TestContext.Out.WriteLine($"{what}: {e.Message} ({allocated} bytes allocated)");
        Assert.That(e.Message, Does.Contain(Path.GetFileName(f)), what);
        Assert.That(e.FilePath, Is.EqualTo(f), what);
        Assert.That(e.InnerException, Is.Null, $"{what}: reached the last-resort catch");
        Assert.That(allocated, Is.LessThan(AllocationLimit), $"{what}: allocated {allocated >> 20} MiB");
        return e;
    }

    static ImageFormatException RejectsBoth(string f)
    {
        Rejects(f, () => ImageReader.ReadSize(f), "ReadSize");
        return Rejects(f, () => ImageReader.Read(f), "Read");
    }

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

    static string FlavourName(bool big, bool little) => $"{(big ? "BigTIFF" : "TIFF")}-{(little ? "LE" : "BE")}";

    static IEnumerable<(bool Big, bool Little)> Flavours() => new[] { (false, true), (false, false), (true, true), (true, false) };

    // ------------------------------------------------------------------ defect 1: raw OutOfMemoryException inside Tiff.Open

    [Test]
    public void HugeImageLengthWithOneRowPerStripIsRejectedBeforeLibTiffAllocates()
    {
        // The fuzzer's file: 140 bytes, ImageLength 2^31-1, RowsPerStrip 1, one strip. LibTiff sized its strip
        // table from the header (2^31-1 entries) and threw "Array dimensions exceeded supported range".
        var b = Build(false, true, new byte[18],
            new Tag(256, LONG, 1), new Tag(257, LONG, int.MaxValue), new Tag(258, SHORT, 8), new Tag(259, SHORT, 1),
            new Tag(262, SHORT, 1), new Tag(273, LONG, 8), new Tag(277, SHORT, 1), new Tag(278, LONG, 1), new Tag(279, LONG, 18));
        Assert.That(b.Length, Is.EqualTo(140));
        string f = Save("oom.tif", b);
        var e = RejectsBoth(f);
        Assert.That(e.Message, Does.Contain("TIFF tag 273 (StripOffsets) has 1 entry but the header implies 2147483647 strips"));
    }

    // ------------------------------------------------------------------ defect 2: header-implied tables of gigabytes

    static IEnumerable<TestCaseData> ImpliedTablesLargerThanTheFile()
    {
        foreach (var (big, little) in Flavours())
        foreach (long height in new[] { int.MaxValue, 1L << 30, 1073741854 })
        foreach (int rpsType in new[] { SHORT, LONG })
        foreach (int tableType in big ? new[] { SHORT, LONG, LONG8 } : new[] { SHORT, LONG })
        foreach (int entries in new[] { 1, 4 }) // one entry fits the value field; four are stored out of line
            yield return new TestCaseData(big, little, height, rpsType, tableType, entries, false)
                .SetName($"HeaderImpliedStripTableIsCheckedAgainstTheFile({FlavourName(big, little)}, H={height}, RowsPerStrip {TypeNameOf(rpsType)}, {entries} {TypeNameOf(tableType)})");
        foreach (var (big, little) in Flavours())
            yield return new TestCaseData(big, little, (long)int.MaxValue, SHORT, LONG, 1, true)
                .SetName($"HeaderImpliedTileTableIsCheckedAgainstTheFile({FlavourName(big, little)})");
    }

    static string TypeNameOf(int t) => t switch { SHORT => "SHORT", LONG => "LONG", _ => "LONG8" };

    [TestCaseSource(nameof(ImpliedTablesLargerThanTheFile))]
    public void HeaderImpliedTableIsCheckedAgainstTheFile(bool big, bool little, long height, int rpsType, int tableType, int entries, bool tiled)
    {
        int d = DataOffset(big);
        var offs = Enumerable.Range(0, entries).Select(i => (ulong)(d + i)).ToArray();
        var counts = Enumerable.Repeat(1UL, entries).ToArray();
        var tags = new List<Tag>
        {
            new(256, LONG, 1), new(257, LONG, (ulong)height), new(258, SHORT, 8), new(259, SHORT, 1), new(262, SHORT, 1), new(277, SHORT, 1),
        };
        if (tiled) tags.AddRange(new[] { new Tag(322, SHORT, 16), new Tag(323, SHORT, 16), new Tag(324, tableType, offs), new Tag(325, tableType, counts) });
        else tags.AddRange(new[] { new Tag(278, rpsType, 1), new Tag(273, tableType, offs), new Tag(279, tableType, counts) });
        string f = Save("implied.tif", Build(big, little, new byte[8], tags.ToArray()));
        var e = RejectsBoth(f);
        long implied = tiled ? (height + 15) / 16 : height;
        Assert.That(e.Message, Does.StartWith($"'{f}': {(big ? "BigTIFF" : "TIFF")} tag {(tiled ? 324 : 273)}"));
        Assert.That(e.Message, Does.Contain($"has {entries} {(entries == 1 ? "entry" : "entries")} but the header implies {implied} {(tiled ? "tiles" : "strips")}"));
    }

    [Test]
    public void ReadOptionsLimitsApplyBeforeLibTiffOpensTheFile()
    {
        // 6 bands of 30000x30000 declared in a tiny file: the limits must speak first, not a table check or LibTiff.
        var b = Grey(false, true, extra: new[] { new Tag(256, LONG, 30000), new Tag(257, LONG, 30000), new Tag(277, SHORT, 6) });
        string f = Save("limits.tif", b);
        var e = Rejects(f, () => ImageReader.Read(f, new ReadOptions { MaxBands = 4 }), "MaxBands");
        Assert.That(e.Message, Does.Contain("TIFF header: 6 bands exceed the limit of 4 (ReadOptions.MaxBands)"));
        e = Rejects(f, () => ImageReader.Read(f, new ReadOptions { MaxPixels = 1000 }), "MaxPixels");
        Assert.That(e.Message, Does.Contain("TIFF header: 30000x30000 = 900000000 pixels exceed the limit of 1000"));
    }

    [Test]
    public void TilesLargerThanTheirDataAreRejectedBeforeDecoding()
    {
        // One 16384x16384 tile for a 37x29 image: the raster is tiny, the tile LibTiff would decode is 256 MiB.
        var b = Build(false, true, new byte[64],
            new Tag(256, SHORT, 37), new Tag(257, SHORT, 29), new Tag(258, SHORT, 8), new Tag(259, SHORT, 8), new Tag(262, SHORT, 1),
            new Tag(277, SHORT, 1), new Tag(322, LONG, 16384), new Tag(323, LONG, 16384), new Tag(324, LONG, 8), new Tag(325, LONG, 64));
        string f = Save("bigtile.tif", b);
        Assert.That(RejectsBoth(f).Message, Does.Contain("compression ratio"));
    }

    // ------------------------------------------------------------------ defect 3: file handles left to the finalizer

    [Test]
    public void FailedTiffReadsLeaveNoFileHandleOpen()
    {
        var bad = new List<string>
        {
            // LibTiff used to throw inside Tiff.Open on these (InvalidCastException, OverflowException, OutOfMemoryException)...
            Save("spp2.tif", PatchedCount(Grey(false, true), 277, 2)),
            Save("oom.tif", Grey(false, true, strips: 1, extra: new[] { new Tag(256, LONG, 1), new Tag(257, LONG, int.MaxValue), new Tag(278, LONG, 1) })),
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

    // ------------------------------------------------------------------ defect 4: crash-like messages from LibTiff's casts

    static IEnumerable<TestCaseData> Malformed()
    {
        TestCaseData Case(string name, byte[] b, string expect) => new TestCaseData(b, expect).SetName($"MalformedTagGivesOneSentence({name})");
        byte[] With(byte[] b, Action<byte[]> patch) { patch(b); return b; }

        // The fields behind the fuzzer's InvalidCastException / FormatException / OverflowException inside Tiff.Open.
        yield return Case("SamplesPerPixel with 2 values", PatchedCount(Grey(false, true), 277, 2), "TIFF tag 277 (SamplesPerPixel) has 2 values, expected 1");
        yield return Case("SamplesPerPixel UNDEFINED", With(Grey(false, true), b => PatchType(b, Find(b, 277), 7)), "TIFF tag 277 (SamplesPerPixel) has type UNDEFINED, expected SHORT");
        yield return Case("StripOffsets ASCII", With(Grey(false, true), b => PatchType(b, Find(b, 273), 2)), "TIFF tag 273 (StripOffsets) has type ASCII, expected SHORT or LONG");
        yield return Case("StripOffsets unknown type", With(Grey(false, false), b => PatchType(b, Find(b, 273), 0xFFFF)), "TIFF tag 273 (StripOffsets) has unknown type 65535, expected SHORT or LONG");
        yield return Case("TileOffsets SHORT", Build(false, true, new byte[16], new Tag(256, SHORT, 4), new Tag(257, SHORT, 4), new Tag(258, SHORT, 8),
                new Tag(262, SHORT, 1), new Tag(322, SHORT, 16), new Tag(323, SHORT, 16), new Tag(324, SHORT, 8), new Tag(325, SHORT, 16)),
            "TIFF tag 324 (TileOffsets) has type SHORT, expected LONG");
        yield return Case("Predictor 1306", Grey(false, true, extra: new Tag(317, SHORT, 1306)), "TIFF Predictor 1306 is invalid");
        yield return Case("SamplesPerPixel 0xFFFF", Grey(false, true, extra: new Tag(277, SHORT, 0xFFFF)), "TIFF header: 65535 bands exceed the limit");
        yield return Case("BitsPerSample per sample differing", Grey(false, true, extra: new[] { new Tag(277, SHORT, 2), new Tag(258, SHORT, 8, 16) }),
            "TIFF tag 258 (BitsPerSample) differs between samples (8, 16)");
        yield return Case("ImageLength with 2 values", PatchedCount(Grey(false, false), 257, 2), "TIFF tag 257 (ImageLength) has 2 values, expected 1");
        yield return Case("RowsPerStrip 2^31", Grey(false, true, extra: new Tag(278, LONG, 1UL << 31)), "TIFF RowsPerStrip 2147483648 is invalid");
        yield return Case("TileWidth alone", Grey(false, true, extra: new Tag(322, SHORT, 16)), "TIFF has TileWidth but no TileLength");
        yield return Case("BigTIFF ImageLength LONG8", Grey(true, true, extra: new Tag(257, LONG8, 6)), "BigTIFF tag 257 (ImageLength) has type LONG8, expected SHORT or LONG");
        yield return Case("BigTIFF count beyond int", With(Grey(true, true, extra: new Tag(65000, SHORT, 1)), b => { var e = Find(b, 65000); PatchType(b, e, 0); PatchCount(b, e, (1UL << 32) + 1); }),
            "BigTIFF tag 65000 declares 4294967297 values, more than LibTiff can index");
        yield return Case("BigTIFF StripOffsets past the end", With(Grey(true, true, strips: 3, tableType: LONG8), b => PatchValueField(b, Find(b, 273), 0xFFFFFFFF)),
            "BigTIFF tag 273 (StripOffsets) declares 3 values (24 bytes) at offset 4294967295, past the end of the file");
        yield return Case("classic LONG8 table", Grey(false, true, tableType: LONG8), "TIFF tag 273 (StripOffsets) has type LONG8, expected SHORT or LONG");
        yield return Case("big-endian BigTIFF", Grey(true, false), "BigTIFF in big-endian byte order is not supported");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedTagGivesOneSentence(byte[] b, string expect)
    {
        string f = Save("bad.tif", b);
        var e = RejectsBoth(f);
        Assert.That(e.Message, Does.StartWith($"'{f}': "));
        Assert.That(e.Message, Does.Contain(expect));
        Assert.That(e.Message, Does.Not.Contain("Exception"));
    }

    [Test]
    public void CorruptLzwStripNamesTheStripAndTheCodec()
    {
        string f = Save("lzw.tif", CorruptLzw());
        var e = Rejects(f, () => ImageReader.Read(f), "Read");
        Assert.That(e.Message, Does.StartWith($"'{f}': TIFF strip 0 cannot be decoded (LZW data is corrupt: "));
        Assert.That(e.Message, Does.Not.Contain("Exception"));
    }

    // ------------------------------------------------------------------ defect 5: ReadSize decoded the whole TIFF

    [Test]
    public void ReadSizeOfATiffReadsOnlyItsDirectory()
    {
        string f = Path.Combine(dir, "big.tif");
        TiffFixtures.Write(f, new TiffFixtures.Spec { Bands = 1, Bits = 8, Width = 2000, Height = 1500, RowsPerStrip = 64 });
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.That(ImageReader.ReadSize(f), Is.EqualTo((2000, 1500)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.LessThan(1L << 20), "a 3 MB raster must not be decoded for its size");

        // Its pixel data is not read at all: a corrupt strip still has a size, but not an image.
        string lzw = Save("lzw.tif", CorruptLzw());
        Assert.That(ImageReader.ReadSize(lzw), Is.EqualTo((64, 64)));
        Assert.Throws<ImageFormatException>(() => ImageReader.Read(lzw));
    }

    // ------------------------------------------------------------------ the stricter checks still accept real files

    static IEnumerable<TestCaseData> ValidFlavours()
    {
        foreach (var (big, little) in Flavours())
        {
            if (big && !little) continue; // LibTiff.NET cannot read big-endian BigTIFF (see MalformedTagGivesOneSentence)
            foreach (int type in big ? new[] { SHORT, LONG, LONG8 } : new[] { SHORT, LONG })
            foreach (int strips in new[] { 1, 2, 3 })
                yield return new TestCaseData(big, little, type, strips).SetName($"CraftedTiffOfEveryFlavourReads({FlavourName(big, little)}, {strips} {TypeNameOf(type)})");
        }
    }

    [TestCaseSource(nameof(ValidFlavours))]
    public void CraftedTiffOfEveryFlavourReads(bool big, bool little, int type, int strips)
    {
        string f = Save("ok.tif", Grey(big, little, strips: strips, tableType: type));
        var img = ImageReader.Read(f, new ReadOptions { Stretch = StretchMode.Raw });
        Assert.That((img.Width, img.Height, img.Bands), Is.EqualTo((8, 6, 1)));
        for (int i = 0; i < 48; i++) Assert.That(img.Planes[0][i], Is.EqualTo((byte)(i * 3)), $"pixel {i}");
        Assert.That(ImageReader.ReadSize(f), Is.EqualTo((8, 6)));
    }

    static IEnumerable<string> RealTiffs()
    {
        foreach (var g in Directory.GetFiles(ImagingGolden.Dir, "*.tif").OrderBy(x => x)) yield return g;
        if (RepositoryPaths.SharedData is { } shared && Directory.Exists(Path.Combine(shared, "geotiff")))
            foreach (var g in Directory.GetFiles(Path.Combine(shared, "geotiff"), "*.tif").OrderBy(x => x)) yield return g;
    }

    [Test]
    public void EveryGoldenAndSharedTiffPassesTheDirectoryChecks()
    {
        foreach (var f in RealTiffs())
        {
            var img = ImageReader.Read(f);
            Assert.That(ImageReader.ReadSize(f), Is.EqualTo((img.Width, img.Height)), f);
        }
    }
}
