using System.Diagnostics;
using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>Deterministic mutation fuzzing: corrupted and truncated variants of valid PNG, JPEG and TIFF files
/// must either decode or throw <see cref="ImageFormatException"/> - no other exception, no hang, no huge allocation.</summary>
[TestFixture]
public class FuzzTests
{
    const int MutantsPerFile = 120;

    static IEnumerable<TestCaseData> Seeds()
    {
        yield return new TestCaseData("png").SetName("FuzzPng");
        yield return new TestCaseData("jpg").SetName("FuzzJpeg");
        yield return new TestCaseData("tif").SetName("FuzzTiffStripped");
        yield return new TestCaseData("tiled.tif").SetName("FuzzTiffTiledDeflate");
        yield return new TestCaseData("gdal").SetName("FuzzGdalGeoTiff");
    }

    [TestCaseSource(nameof(Seeds))]
    public void MutantsFailCleanly(string kind)
    {
        string dir = Path.Combine(Path.GetTempPath(), "ilgpusat-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            byte[] seed = Seed(kind, dir);
            var rnd = new Random(kind.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
            int decoded = 0, rejected = 0;
            long worst = 0;
            for (int m = 0; m < MutantsPerFile; m++)
            {
                var b = Mutate(seed, rnd);
                string f = Path.Combine(dir, $"m{m}.{(kind == "gdal" ? "tif" : kind)}");
                File.WriteAllBytes(f, b);
                long before = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                try { ImageReader.Read(f); decoded++; }
                catch (ImageFormatException e) { rejected++; Assert.That(e.Message, Does.Contain(f)); }
                catch (Exception e) { Assert.Fail($"mutant {m} of {kind} threw {e.GetType().Name}: {e.Message}"); }
                worst = Math.Max(worst, sw.ElapsedMilliseconds);
                Assert.That(sw.ElapsedMilliseconds, Is.LessThan(3000), $"mutant {m} of {kind} took too long");
                Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(256L << 20), $"mutant {m} of {kind} allocated too much");
                File.Delete(f);
            }
            TestContext.Out.WriteLine($"{kind}: {decoded} decoded, {rejected} rejected, slowest {worst} ms");
        }
        finally { Directory.Delete(dir, true); }
    }

    static byte[] Seed(string kind, string dir)
    {
        var img = RasterImage.Create(40, 30, 3);
        for (int b = 0; b < 3; b++) for (int i = 0; i < img.PixelCount; i++) img.Planes[b][i] = ((i * 7 + b * 40) % 256) / 255f;
        string f = Path.Combine(dir, "seed." + (kind == "tiled.tif" ? "tif" : kind == "gdal" ? "tif" : kind));
        switch (kind)
        {
            case "png": ImageWriter.Write(f, img); break;
            case "jpg": ImageWriter.Write(f, img, new WriteOptions { JpegQuality = 80 }); break;
            case "tif": TiffFixtures.Write(f, new TiffFixtures.Spec { Bands = 3, Bits = 16, RowsPerStrip = 7 }); break;
            case "tiled.tif": TiffFixtures.Write(f, new TiffFixtures.Spec { Bands = 2, Bits = 16, Tiled = true, Compression = Compression.ADOBE_DEFLATE }); break;
            default: return File.ReadAllBytes(ImagingGolden.File_("gdal_u16_tiled_planar.tif"));
        }
        return File.ReadAllBytes(f);
    }

    static byte[] Mutate(byte[] seed, Random rnd)
    {
        var b = (byte[])seed.Clone();
        switch (rnd.Next(4))
        {
            case 0: // truncate
                return b[..rnd.Next(1, b.Length)];
            case 1: // flip bytes in the first 512 bytes (headers, IFD, chunk tables)
                for (int k = rnd.Next(1, 6); k > 0; k--) b[rnd.Next(Math.Min(512, b.Length))] = (byte)rnd.Next(256);
                return b;
            case 2: // flip bytes anywhere
                for (int k = rnd.Next(1, 10); k > 0; k--) b[rnd.Next(b.Length)] = (byte)rnd.Next(256);
                return b;
            default: // extreme values in a 4-byte field
                int p = rnd.Next(Math.Max(1, b.Length - 4));
                var v = new[] { 0x00000000u, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x00010000u, 0x0000FFFFu }[rnd.Next(5)];
                BitConverter.TryWriteBytes(b.AsSpan(p), v);
                return b;
        }
    }
}
