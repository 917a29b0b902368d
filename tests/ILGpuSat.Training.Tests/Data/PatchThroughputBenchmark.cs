using System.Diagnostics;
using ILGpuSat.Training.Data;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Data;

/// <summary>
/// Patches per second of the full pipeline on the AID training folder with 2 workers. Explicit: it
/// reads real data and takes ~15 s. Numbers from a Debug test build are lower than Release.
/// </summary>
public class PatchThroughputBenchmark
{
    [Test, Explicit("benchmark on real data")]
    public void PatchesPerSecondOnAidWithTwoWorkers()
    {
        string aid = RepositoryPaths.RequireSharedData("satellite/AID");
        using var ds = PatchDataset.Open(new PatchDatasetOptions { SatelliteInputs = [aid], Workers = 2, Seed = 1, BatchSize = 32 });
        for (int i = 0; i < 5; i++) ds.NextBatch(); // fills the shuffle buffer
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        const int batches = 30;
        for (int i = 0; i < batches; i++) ds.NextBatch();
        double seconds = sw.Elapsed.TotalSeconds;
        double cores = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / seconds;
        double rate = batches * 32 / seconds;
        TestContext.Out.WriteLine($"{rate:F0} patches/s ({rate / 32:F1} batches of 32/s) using {cores:F2} cores; {ds.Statistics}");
        // AID (150x150 JPEGs) is fully usable: 9 patches per image, nothing skipped.
        Assert.That(ds.Satellite.TotalPatches, Is.EqualTo(9L * ds.Satellite.Images.Count));
        Assert.That(ds.Statistics.SkippedTooSmall + ds.Statistics.SkippedUnreadable + ds.Statistics.SkippedNotColour, Is.Zero);
    }
}
