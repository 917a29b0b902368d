using BitMiracle.LibTiff.Classic;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>Data loaders decode on many threads: the decoders' shared state (ImageSharp's shared decoders,
/// configuration and memory pool, LibTiff's process-wide error handler and tag extender) must not mix
/// results or errors between threads.</summary>
[TestFixture]
public class ConcurrencyTests
{
    [Test]
    public void ParallelReadsEqualSequentialReadsAndErrorsStayOnTheirThread()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ilgpusat-par-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var files = new List<string> { ImagingGolden.File_("grey16.png"), ImagingGolden.File_("rgb16.png") };
            // A real JPEG when the shared data is there; the test still runs the synthetic files without it.
            if (RepositoryPaths.SharedData is { } shared && File.Exists(Path.Combine(shared, "satellite-test/RSSCN7/cIndustry/c030.jpg")))
                files.Add(Path.Combine(shared, "satellite-test/RSSCN7/cIndustry/c030.jpg"));
            string tif = Path.Combine(dir, "t.tif");
            TiffFixtures.Write(tif, new TiffFixtures.Spec { Bands = 4, Tiled = true, Compression = Compression.LZW });
            files.Add(tif);
            string bad = Path.Combine(dir, "bad.tif");
            var b = File.ReadAllBytes(tif);
            TiffFixtures.PatchTag(b, TiffTag.IMAGELENGTH, 5000);
            File.WriteAllBytes(bad, b);

            var expected = files.Select(f => ImageReader.Read(f)).ToArray();
            int failures = 0;
            Parallel.For(0, 48, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                if (i % 4 == 3)
                {
                    Assert.Throws<ImageFormatException>(() => ImageReader.Read(bad));
                    return;
                }
                int k = i % files.Count;
                var img = ImageReader.Read(files[k]);
                for (int p = 0; p < img.Bands; p++)
                    if (!img.Planes[p].AsSpan().SequenceEqual(expected[k].Planes[p])) Interlocked.Increment(ref failures);
            });
            Assert.That(failures, Is.EqualTo(0));
        }
        finally { Directory.Delete(dir, true); }
    }
}
