using ILGpuSat.Imaging.Imagery;
using NUnit.Framework;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Deterministic mutation fuzzing of every supported format and layout (<see cref="FuzzSeeds"/>) under the
/// reader's contract (<see cref="Fuzzer"/>): only a clean <see cref="ImageFormatException"/> naming the file,
/// no hang, no huge allocation, no handle left open. The suite runs a fixed few thousand mutants;
/// <see cref="LongRun"/> is the developers' open-ended run (docs/imaging.md).
/// </summary>
[TestFixture]
public class FuzzTests
{
    static int MutantsFor(FuzzSeeds.Seed seed) => seed.Extension == "tif" ? 1000 : 300;

    static IEnumerable<TestCaseData> Seeds() => FuzzSeeds.All.Select(s => new TestCaseData(s).SetName($"Fuzz{s.Name}"));

    [TestCaseSource(nameof(Seeds))]
    public void MutantsFailCleanly(FuzzSeeds.Seed seed)
    {
        var dir = Directory.CreateTempSubdirectory("ilgpusat-fuzz-").FullName;
        try
        {
            string seedFile = Path.Combine(dir, $"{seed.Name}.seed.{seed.Extension}");
            seed.Make(seedFile);
            ImageReader.Read(seedFile); // the seed itself must decode
            var fuzzer = new Fuzzer(dir);
            fuzzer.Run(seed, new Random(Mutators.StableSeed(seed.Name)), MutantsFor(seed));
            TestContext.Out.WriteLine(fuzzer.Summary(seed.Name));
            Assert.That(fuzzer.Violations, Is.Empty);
            Assert.That(fuzzer.Rejected, Is.GreaterThan(0), "the mutants reach the reader's checks");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Round-robin over every seed until ILGPUSAT_FUZZ_SECONDS (default 300) have passed, from the seed
    /// ILGPUSAT_FUZZ_SEED (default: the clock, printed). Violating mutants are kept in ILGPUSAT_FUZZ_OUT
    /// (default a temporary folder, printed) for replay. Prints one line per seed and the totals.
    /// </summary>
    [Test, Explicit("developers' long fuzz run: see docs/imaging.md")]
    public void LongRun()
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("ILGPUSAT_FUZZ_SECONDS"), out var s) ? s : 300;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("ILGPUSAT_FUZZ_SEED"), out var x) ? x : Environment.TickCount & 0x7FFFFFFF;
        string keep = Environment.GetEnvironmentVariable("ILGPUSAT_FUZZ_OUT") ?? Path.Combine(Path.GetTempPath(), $"ilgpusat-fuzz-violations-{seed}");
        var dir = Directory.CreateTempSubdirectory("ilgpusat-longfuzz-").FullName;
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var fuzzers = FuzzSeeds.All.ToDictionary(sd => sd.Name, _ => new Fuzzer(dir, keep));
        var rnd = new Random(seed);
        try
        {
            while (DateTime.UtcNow < deadline)
                foreach (var sd in FuzzSeeds.All)
                    fuzzers[sd.Name].Run(sd, rnd, 50, deadline);
        }
        finally { Directory.Delete(dir, true); }
        TestContext.Out.WriteLine($"seed {seed}, {seconds} s, violations kept in {keep}");
        foreach (var (name, f) in fuzzers) TestContext.Out.WriteLine(f.Summary(name));
        var all = fuzzers.Values.ToList();
        TestContext.Out.WriteLine($"total: {all.Sum(f => f.Tried)} mutants, {all.Sum(f => f.Decoded)} decoded, {all.Sum(f => f.Rejected)} rejected, "
                                  + $"{all.Sum(f => f.Violations.Count)} violations, slowest {all.Max(f => f.SlowestMs)} ms, "
                                  + $"worst allocation {all.Max(f => f.WorstBytes) / 1048576.0:F1} MiB");
        Assert.That(all.SelectMany(f => f.Violations), Is.Empty);
    }
}
