using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Training.Data;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

/// <summary>A stream started at batch k (the replayed plan) equals batches k, k+1, ... of a fresh stream.</summary>
public class PatchDatasetResumeTests
{
    private DataFixtures _fx = null!;
    private string _sat = null!, _nat = null!;

    [OneTimeSetUp]
    public void MakeImages()
    {
        _fx = new DataFixtures();
        _sat = _fx.Folder("sat");
        _nat = _fx.Folder("nat");
        for (int i = 0; i < 4; i++) _fx.WritePng(_sat, $"s{i}.png", 70 + 9 * i, 64, i);
        for (int i = 0; i < 3; i++) _fx.WritePng(_nat, $"n{i}.png", 64, 80 + 8 * i, 100 + i);
        // A grey image: its header reads (so it is catalogued), its decode shows it has no colour.
        var grey = RasterImage.Create(64, 64, 1);
        ImageWriter.Write(Path.Combine(_sat, "grey.png"), grey, new WriteOptions { Format = ImageFileFormat.Png });
    }

    [OneTimeTearDown]
    public void Clean() => _fx.Dispose();

    private PatchDatasetOptions Options(Augmentation augmentation = Augmentation.RandomOne) => new()
    {
        SatelliteInputs = [_sat],
        NaturalInputs = [_nat],
        PatchSize = 32,
        Stride = 16,
        BatchSize = 3,
        Seed = 11,
        Workers = 2,
        ShuffleBuffer = 7,
        Prefetch = 2,
        MaxPatchesPerImage = 5,
        Augmentation = augmentation,
        Resize = DataFixtures.LinearResize,
    };

    [TestCase(Augmentation.RandomOne)]
    [TestCase(Augmentation.AllEight)]
    public void StartingAtBatchKGivesTheFreshStreamsBatchesFromK(Augmentation augmentation)
    {
        const int total = 30;
        // One patch per visit in all eight orientations, so that 30 batches still visit every image, the grey one included.
        var options = augmentation == Augmentation.AllEight ? Options(augmentation) with { MaxPatchesPerImage = 1 } : Options(augmentation);
        List<TrainingBatch> fresh;
        IReadOnlyList<string> bad;
        using (var ds = PatchDataset.Open(options))
        {
            fresh = Enumerable.Range(0, total).Select(_ => ds.NextBatch()).ToList();
            bad = ds.BadFiles;
        }
        Assert.That(bad.Select(Path.GetFileName).ToArray(), Is.EqualTo(new[] { "grey.png" }), "the grey image is found bad by the fresh stream");

        foreach (int k in new[] { 1, 5, 29 })
        {
            using var resumed = PatchDataset.Open(options with { StartBatch = k, KnownBadFiles = bad });
            long decodedBefore = resumed.Statistics.ImagesDecoded;
            for (int i = k; i < total; i++)
            {
                var batch = resumed.NextBatch();
                Assert.That(batch.Index, Is.EqualTo(i));
                Assert.That(batch.Origins, Is.EqualTo(fresh[i].Origins), $"k={k}: batch {i} origins");
                Assert.That(batch.Input, Is.EqualTo(fresh[i].Input), $"k={k}: batch {i} input");
                Assert.That(batch.SrTarget, Is.EqualTo(fresh[i].SrTarget), $"k={k}: batch {i} SR target");
                Assert.That(batch.ColorTarget, Is.EqualTo(fresh[i].ColorTarget), $"k={k}: batch {i} colour target");
                Assert.That(batch.Weights, Is.EqualTo(fresh[i].Weights), $"k={k}: batch {i} weights");
            }
            Assert.That(decodedBefore, Is.Zero, "nothing is decoded before the first request");
        }
    }

    [Test]
    public void ReplayDoesNotDecodeTheImagesItSkipsOver()
    {
        // Far into the stream only the visits still held by the shuffle buffers (at most 7 + 1 per source) are decoded.
        var options = Options() with { Prefetch = 1 };
        using var ds = PatchDataset.Open(options with { StartBatch = 200, KnownBadFiles = [Path.Combine(_sat, "grey.png")] });
        ds.NextBatch();
        Assert.That(ds.Statistics.ImagesDecoded, Is.LessThanOrEqualTo(2 * (7 + 1) + 2 * (options.Prefetch + 1)),
                    "200 batches of 3 would have decoded well over 100 visits");
    }

    [Test]
    public void ResumingWithoutTheBadFilesNamesTheImageThatDisagrees()
    {
        // Without the bad-file list the replay counts the grey image's patches; decoding one of its visits shows the mismatch.
        var options = Options() with { SatelliteInputs = [Path.Combine(_sat, "grey.png")], NaturalInputs = [], ShuffleBuffer = 2 };
        using var ds = PatchDataset.Open(options with { StartBatch = 1 });
        var e = Assert.Throws<InvalidOperationException>(() => ds.NextBatch());
        Assert.That(e!.Message, Does.Contain("grey.png").And.Contain("resuming at batch 1"));
    }

    [Test]
    public void NegativeStartIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => PatchDataset.Open(Options() with { StartBatch = -1 }));
        Assert.That(e!.Message, Does.Contain("StartBatch"));
    }
}
