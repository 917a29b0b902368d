using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>Crafted broken files: each must fail fast with an ImageFormatException that names the file.</summary>
[TestFixture]
public class BadFileTests
{
    string dir = "";

    [SetUp] public void SetUp() => Directory.CreateDirectory(dir = Path.Combine(Path.GetTempPath(), "ilgpusat-bad-" + Guid.NewGuid().ToString("N")));
    [TearDown] public void TearDown() => Directory.Delete(dir, true);

    string Bytes(string name, byte[] b) { string f = Path.Combine(dir, name); File.WriteAllBytes(f, b); return f; }

    void Expect(string f, params string[] fragments)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(f));
        TestContext.Out.WriteLine(ex!.Message);
        Assert.That(sw.ElapsedMilliseconds, Is.LessThan(2000), "must fail fast");
        Assert.That(ex!.Message, Does.Contain(Path.GetFileName(f)));
        Assert.That(ex.FilePath, Is.EqualTo(f));
        foreach (var s in fragments) Assert.That(ex.Message, Does.Contain(s).IgnoreCase);
    }

    byte[] ValidPng(int w = 16, int h = 12)
    {
        string f = Path.Combine(dir, "valid.png");
        var img = RasterImage.Create(w, h, 3);
        for (int i = 0; i < img.PixelCount; i++) img.Planes[0][i] = (i % 7) / 7f;
        ImageWriter.Write(f, img);
        return File.ReadAllBytes(f);
    }

    byte[] ValidTiff(TiffFixtures.Spec s)
    {
        string f = Path.Combine(dir, "valid.tif");
        TiffFixtures.Write(f, s);
        return File.ReadAllBytes(f);
    }

    [Test] public void Empty() => Expect(Bytes("empty.tif", Array.Empty<byte>()), "empty");

    [Test] public void Unsupported() => Expect(Bytes("notes.png", "hello, this is text"u8.ToArray()), "unsupported");

    [Test] public void GifIsUnsupported() => Expect(Bytes("anim.gif", "GIF89a\x01\0\x01\0\0\0\0"u8.ToArray()), "unsupported");

    [Test]
    public void TruncatedPng()
    {
        var b = ValidPng();
        Expect(Bytes("cut.png", b[..(b.Length / 2)]), "truncated");
    }

    [Test]
    public void PngWithHugeDeclaredSize()
    {
        var b = ValidPng();
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), 60000); // IHDR width
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), 60000); // IHDR height
        Expect(Bytes("huge.png", b), "60000");
    }

    [Test]
    public void PngWithZeroWidth()
    {
        var b = ValidPng();
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), 0);
        Expect(Bytes("zero.png", b));
    }

    [Test]
    public void TruncatedRealJpeg()
    {
        string src = RepositoryPaths.RequireSharedData("satellite-test/AID/Airport/airport_117.jpg");
        var b = File.ReadAllBytes(src);
        Expect(Bytes("cut.jpg", b[..(b.Length * 2 / 3)]), "truncated");
        Expect(Bytes("head.jpg", b[..40]), "truncated");
    }

    [Test]
    public void TruncatedTiff()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 3 });
        // LibTiff writes pixel data first and the directory last: cutting loses the directory.
        Expect(Bytes("cut.tif", b[..(b.Length / 2)]));
        Expect(Bytes("header.tif", b[..6]), "truncated");
    }

    [Test]
    public void TiffWithStripDataCutShort()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1, RowsPerStrip = 29 });
        var e = TiffFixtures.Entries(b);
        // Single strip: point its byte count past the end of the file.
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(e[(int)TiffTag.STRIPBYTECOUNTS].FieldPos), (uint)b.Length * 4);
        Expect(Bytes("strip.tif", b), "truncated");
    }

    [Test]
    public void TiffWithFewerBytesThanItsHeaderDeclares()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1, Width = 8, Height = 8, RowsPerStrip = 8 });
        TiffFixtures.PatchTag(b, TiffTag.IMAGELENGTH, 5000); // uncompressed, 128 bytes of data for 8x5000x2
        Expect(Bytes("lying.tif", b), "lying");
    }

    [Test]
    public void CompressedTiffClaimingAGiantRaster()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1, Width = 16, Height = 16, Tiled = true, Compression = Compression.ADOBE_DEFLATE });
        TiffFixtures.PatchTag(b, TiffTag.IMAGEWIDTH, 40000);
        TiffFixtures.PatchTag(b, TiffTag.IMAGELENGTH, 40000);
        Expect(Bytes("bomb.tif", b));
    }

    [Test]
    public void CompressedTiffBeyondAnyCompressionRatio()
    {
        // One 16x16 deflate tile re-declared as one 4096x4096 tile: the table is consistent, the ratio is not.
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1, Width = 16, Height = 16, Tiled = true, Compression = Compression.ADOBE_DEFLATE });
        foreach (var t in new[] { TiffTag.IMAGEWIDTH, TiffTag.IMAGELENGTH, TiffTag.TILEWIDTH, TiffTag.TILELENGTH }) TiffFixtures.PatchTag(b, t, 4096);
        Expect(Bytes("ratio.tif", b), "compression ratio");
    }

    [Test]
    public void TiffWithZeroDimensions()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1 });
        TiffFixtures.PatchTag(b, TiffTag.IMAGEWIDTH, 0);
        Expect(Bytes("zero.tif", b));
    }

    [Test]
    public void TiffWithAbsurdBandCount()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1 });
        TiffFixtures.PatchTag(b, TiffTag.SAMPLESPERPIXEL, 1000);
        Expect(Bytes("bands.tif", b));
    }

    [Test]
    public void TiffDirectoryOutsideTheFile()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1 });
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)b.Length + 100);
        Expect(Bytes("ifd.tif", b), "outside");
    }

    [Test]
    public void TiffTagArrayPastTheEnd()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1, RowsPerStrip = 1 }); // 29 strips: offsets stored out of line
        var e = TiffFixtures.Entries(b)[(int)TiffTag.STRIPOFFSETS];
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(e.FieldPos - 4), 100_000_000); // count
        Expect(Bytes("count.tif", b), "past the end");
    }

    [Test]
    public void UnsupportedSampleDepth()
    {
        var b = ValidTiff(new TiffFixtures.Spec { Bands = 1, Bits = 8 });
        TiffFixtures.PatchTag(b, TiffTag.BITSPERSAMPLE, 12);
        Expect(Bytes("twelve.tif", b), "12");
    }

    [Test]
    public void LimitsAreConfigurable()
    {
        string f = Path.Combine(dir, "ok.tif");
        TiffFixtures.Write(f, new TiffFixtures.Spec { Bands = 6 });
        var ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(f, new ReadOptions { MaxBands = 4 }));
        Assert.That(ex!.Message, Does.Contain("ok.tif").And.Contain("MaxBands"));
        ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(f, new ReadOptions { MaxPixels = 100 }));
        Assert.That(ex!.Message, Does.Contain("MaxPixels"));
        Assert.That(ImageReader.Read(f).Bands, Is.EqualTo(6));
    }

    // ---------------------------------------------------------------- the message names the format detected

    /// <summary>A PNG or JPEG failure names the file and the format it is, never another one (stb reported a
    /// process-wide last failure reason, which could come from another format's probe or another thread).</summary>
    void ExpectFormat(string f, string format, params string[] forbidden)
    {
        var ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(f));
        TestContext.Out.WriteLine(ex!.Message);
        Assert.That(ex.Message, Does.Contain(Path.GetFileName(f)));
        Assert.That(ex.Message, Does.Contain(format));
        foreach (var s in forbidden) Assert.That(ex.Message, Does.Not.Contain(s).IgnoreCase);
    }

    byte[] ValidJpeg()
    {
        string f = Path.Combine(dir, "valid.jpg");
        var img = RasterImage.Create(64, 48, 3);
        var rnd = new Random(5);
        foreach (var p in img.Planes) for (int i = 0; i < p.Length; i++) p[i] = (float)rnd.NextDouble();
        ImageWriter.Write(f, img, new WriteOptions { JpegQuality = 90 });
        return File.ReadAllBytes(f);
    }

    static int FindMarker(byte[] b, byte marker)
    {
        for (int i = 2; i + 1 < b.Length; i++) if (b[i] == 0xFF && b[i + 1] == marker) return i;
        throw new InvalidOperationException($"marker 0xFF{marker:X2} not found");
    }

    [Test]
    public void JpegFrameSizeIsCheckedBeforeDecoding()
    {
        var b = ValidJpeg();
        int sof = FindMarker(b, 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 5), 65000); // height
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 7), 65000); // width
        Expect(Bytes("huge.jpg", b), "65000", "MaxPixels");
        var ex = Assert.Throws<ImageFormatException>(() => ImageReader.Read(Bytes("small.jpg", ValidJpeg()), new ReadOptions { MaxPixels = 100 }));
        Assert.That(ex!.Message, Does.Contain("small.jpg").And.Contain("MaxPixels"));
    }

    [Test]
    public void CorruptJpegHeaderIsReportedAsJpeg()
    {
        var b = ValidJpeg();
        b[FindMarker(b, 0xC0) + 11] = 0x77; // first component's sampling factors: 7x7, beyond JPEG's 4x4
        ExpectFormat(Bytes("sampling.jpg", b), "JPEG", "png");
        var c = ValidJpeg();
        c[FindMarker(c, 0xC4) + 4] = 0x37; // Huffman table class 3 does not exist
        ExpectFormat(Bytes("huffman.jpg", c), "JPEG data is corrupt", "png");
    }

    [Test]
    public void CorruptJpegEntropyDataIsReportedAsJpeg()
    {
        var b = ValidJpeg();
        int sos = FindMarker(b, 0xDA);
        int start = sos + 2 + (b[sos + 2] << 8 | b[sos + 3]);
        int rejected = 0, mutants = 0;
        for (int p = start; p < b.Length - 2; p += 3, mutants++)
        {
            var m = (byte[])b.Clone();
            m[p] = 0xFF; // a stray marker byte where only entropy-coded data may be
            string f = Bytes("entropy.jpg", m);
            try { ImageReader.Read(f); } // decoders may conceal the damage, as libjpeg does
            catch (ImageFormatException e)
            {
                rejected++;
                Assert.That(e.Message, Does.Contain("entropy.jpg").And.Contain("JPEG"));
                Assert.That(e.Message, Does.Not.Contain("png").IgnoreCase);
            }
        }
        TestContext.Out.WriteLine($"{rejected} of {mutants} one-byte entropy mutants rejected");
        Assert.That(rejected, Is.GreaterThan(0), "no mutant reached the decoder's error path");
    }

    [Test]
    public void ScrambledPngIsReportedAsPng()
    {
        var b = ValidPng();
        var rnd = new Random(11);
        var garbage = (byte[])b.Clone();
        for (int i = 8; i < garbage.Length; i++) garbage[i] = (byte)rnd.Next(256);
        ExpectFormat(Bytes("scrambled.png", garbage), "PNG", "SOI", "JPEG");

        // Chunk list and CRCs intact, compressed pixels (after the 2-byte zlib header) garbage: this gets past
        // our structural checks to the decoder itself.
        var idat = (byte[])b.Clone();
        for (int pos = 8; ;)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(idat.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(idat, pos + 4, 4);
            if (type == "IDAT")
            {
                for (int k = 2; k < len; k++) idat[pos + 8 + k] = (byte)rnd.Next(256);
                BinaryPrimitives.WriteUInt32BigEndian(idat.AsSpan(pos + 8 + len), Mutators.Crc32(idat.AsSpan(pos + 4, len + 4)));
            }
            if (type == "IEND") break;
            pos += 12 + len;
        }
        ExpectFormat(Bytes("idat.png", idat), "PNG data is corrupt", "SOI", "JPEG");
    }

    [Test]
    public void MissingFileIsFileNotFound()
        => Assert.Throws<FileNotFoundException>(() => ImageReader.Read(Path.Combine(dir, "nope.png")));

    /// <summary>ImageSharp 2.1 loops for ever on this interlaced PNG (mutant 25 of the PngInterlaced fuzz seed):
    /// its zlib stream stops early without an error. The reader must reject it, quickly.</summary>
    [Test, CancelAfter(10_000)]
    public void InterlacedPngWhoseZlibStreamStopsEarlyIsRejectedNotHung()
    {
        string hex = ""
        + "89504e470d0a1a0a0000000d49484452000000280000001e0802000001a6b8fb1c000000097048597300000ec400000e"
        + "c401952b0e1b000000f849444154789ced53310e83300cbc21aa3a307464ec131013631fc3940765e2414cbca92107c1"
        + "b4ae4a839a299265e5b0cee75c8c01d0c03518980d1e0e1800e6196fc01f627df96a6a8c81bcf107c17792efa0f5bf8f"
        + "3526113b48fa14620c790759560a84514c6f602af4aa2aa11f4df2a67d9ba5acd758fe588368ae4bc8b2d2e6ec68b7de"
        + "5fbd8215f9287c1fdc1e87726efb6b173a6ad3c45f0cfdad4bf43345fc9c6117b4098f4438bf73e8d787b0227f879e9c"
        + "c8c4aa9cc2a4722293ca894c14c38a61870cbbb6feaf5ca313e7ff424edd025dc83ce7807ca8ac9284f1c600000147dc"
        + "3e53d8e6f71965b9ca7295e52acb75023e016dece9b0a42cee990000000049454e44ae426082";
        string f = Path.Combine(dir, "interlaced_short_zlib.png");
        File.WriteAllBytes(f, Convert.FromHexString(hex));
        var task = Task.Run(() => ImageReader.Read(f));
        Assert.That(Task.WaitAny([task], TimeSpan.FromSeconds(5)), Is.Zero, "the read returns");
        var e = Assert.ThrowsAsync<ImageFormatException>(async () => await task)!;
        Assert.That(e.Message, Does.Contain(f).And.Contain("PNG data is corrupt").And.Contain("stops early"));
    }
}
