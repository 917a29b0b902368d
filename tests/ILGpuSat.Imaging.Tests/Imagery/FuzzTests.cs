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
    const int MutantsPerTiffSeed = 1000;
    const long AllocationLimit = 256L << 20;

    static IEnumerable<TestCaseData> Seeds()
    {
        yield return new TestCaseData("png").SetName("FuzzPng");
        yield return new TestCaseData("jpg").SetName("FuzzJpeg");
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
                var b = Mutators.Generic(seed, rnd);
                string f = Path.Combine(dir, $"m{m}.{kind}");
                File.WriteAllBytes(f, b);
                long before = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                try { ImageReader.Read(f); decoded++; }
                catch (ImageFormatException e) { rejected++; Assert.That(e.Message, Does.Contain(f)); }
                catch (Exception e) { Assert.Fail($"mutant {m} of {kind} threw {e.GetType().Name}: {e.Message}"); }
                worst = Math.Max(worst, sw.ElapsedMilliseconds);
                Assert.That(sw.ElapsedMilliseconds, Is.LessThan(3000), $"mutant {m} of {kind} took too long");
                Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(AllocationLimit), $"mutant {m} of {kind} allocated too much");
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
        string f = Path.Combine(dir, "seed." + kind);
        switch (kind)
        {
            case "png": ImageWriter.Write(f, img); break;
            case "jpg": ImageWriter.Write(f, img, new WriteOptions { JpegQuality = 80 }); break;
        }
        return File.ReadAllBytes(f);
    }

    // ---------------------------------------------------------------------------------------------- TIFF

    /// <summary>Seeds covering the reader's TIFF paths: every sample type, strips and tiles, chunky and planar,
    /// each codec, both byte orders, BigTIFF, and GDAL's files (GeoTIFF tags, predictor, palette, CMYK, JPEG).</summary>
    static IEnumerable<TestCaseData> TiffSeeds()
    {
        var specs = new (string Name, TiffFixtures.Spec Spec)[]
        {
            ("U8Rgb", new() { Bands = 3, Bits = 8 }),
            ("U16OneRowPerStrip", new() { Bands = 1, Bits = 16, RowsPerStrip = 1 }),
            ("Int16", new() { Bands = 1, Bits = 16, Format = SampleFormat.INT }),
            ("Float32Tiled", new() { Bands = 2, Bits = 32, Format = SampleFormat.IEEEFP, Tiled = true }),
            ("U16PlanarLzw", new() { Bands = 4, Bits = 16, Planar = true, Compression = Compression.LZW }),
            ("U16TiledDeflate", new() { Bands = 2, Bits = 16, Tiled = true, Compression = Compression.ADOBE_DEFLATE }),
            ("U8Lzw", new() { Bands = 3, Bits = 8, Compression = Compression.LZW }),
            ("U16Deflate", new() { Bands = 1, Bits = 16, Compression = Compression.ADOBE_DEFLATE }),
            ("U16BigEndian", new() { Bands = 3, Bits = 16, BigEndian = true }),
            ("BigTiffU16", new() { Bands = 3, Bits = 16, BigTiff = true }),
            ("BigTiffPlanarTiledDeflate", new() { Bands = 2, Bits = 16, BigTiff = true, Planar = true, Tiled = true, Compression = Compression.ADOBE_DEFLATE }),
        };
        foreach (var (name, spec) in specs) yield return new TestCaseData(name, spec).SetName($"FuzzTiff{name}");
        foreach (var gdal in new[] { "gdal_u16_tiled_planar", "gdal_i16_strips_point", "gdal_f32_rotated", "gdal_palette", "gdal_cmyk",
                                     "gdal_jpeg_ycbcr", "gdal_bigtiff", "gdal_f64", "gdal_u32", "gdal_miniswhite" })
            yield return new TestCaseData(gdal, null).SetName($"FuzzTiff_{gdal}");
    }

    /// <summary>
    /// Mutants of one TIFF seed, three in four aimed at directory entries (<see cref="Mutators.Tiff"/>), read with
    /// <see cref="ImageReader.Read"/> and <see cref="ImageReader.ReadSize"/>: only an ImageFormatException naming the
    /// file (or an IOException from the file system) may come out, never through the last-resort catch; each call
    /// stays under 3 s and 256 MiB allocated on this thread; and no file descriptor is left open.
    /// </summary>
    [TestCaseSource(nameof(TiffSeeds))]
    public void TiffMutantsFailCleanly(string name, TiffFixtures.Spec? spec)
    {
        string dir = Path.Combine(Path.GetTempPath(), "ilgpusat-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string seedFile = Path.Combine(dir, "seed.tif");
            if (spec is null) File.Copy(ImagingGolden.File_(name + ".tif"), seedFile);
            else TiffFixtures.Write(seedFile, spec);
            ImageReader.Read(seedFile); // the seed itself must decode
            byte[] seed = File.ReadAllBytes(seedFile);

            var rnd = new Random(Mutators.StableSeed(name));
            var stats = new Stats();
            for (int m = 0; m < MutantsPerTiffSeed; m++)
            {
                string f = Path.Combine(dir, $"m{m}.tif");
                File.WriteAllBytes(f, Mutators.Tiff(seed, rnd));
                bool ok = Call(f, () => ImageReader.Read(f), $"mutant {m} of {name}: Read", stats);
                stats.Decoded += ok ? 1 : 0;
                stats.Rejected += ok ? 0 : 1;
                Call(f, () => ImageReader.ReadSize(f), $"mutant {m} of {name}: ReadSize", stats);
                File.Delete(f);
            }
            TestContext.Out.WriteLine($"{name}: {MutantsPerTiffSeed} mutants, {stats.Decoded} decoded, {stats.Rejected} rejected, "
                                      + $"slowest {stats.SlowestMs} ms, worst allocation {stats.WorstBytes / 1024.0 / 1024.0:F1} MiB");
            // No GC in between: a mutant's handle left to a finalizer would still be open (on a deleted file).
            if (OpenFiles.Supported) Assert.That(OpenFiles.Under(dir), Is.Empty, "file handles left open by failed reads");
        }
        finally { Directory.Delete(dir, true); }
    }

    sealed class Stats
    {
        public int Decoded, Rejected;
        public long SlowestMs, WorstBytes;
    }

    /// <summary>One read of a mutant: true when it decoded, false when it was rejected cleanly; fails the test otherwise.</summary>
    static bool Call(string f, Action read, string what, Stats stats)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        bool ok = false;
        try { read(); ok = true; }
        catch (ImageFormatException e)
        {
            Assert.That(e.Message, Does.Contain(f), what);
            Assert.That(e.InnerException, Is.Null, $"{what} reached the last-resort catch: {e.Message}");
        }
        catch (IOException e) when (e is not EndOfStreamException) { } // the file system's, not the decoder's
        catch (Exception e) { Assert.Fail($"{what} threw {e.GetType().Name}: {e.Message}"); }
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        stats.SlowestMs = Math.Max(stats.SlowestMs, sw.ElapsedMilliseconds);
        stats.WorstBytes = Math.Max(stats.WorstBytes, bytes);
        Assert.That(sw.ElapsedMilliseconds, Is.LessThan(3000), $"{what} took too long");
        Assert.That(bytes, Is.LessThan(AllocationLimit), $"{what} allocated {bytes >> 20} MiB");
        return ok;
    }
}
