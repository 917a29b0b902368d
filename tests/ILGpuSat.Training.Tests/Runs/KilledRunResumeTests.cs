using System.Diagnostics;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Runs;
using ILGpuSat.Training.TestHost;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Runs;

/// <summary>
/// A training process killed (Process.Kill) at a chosen point and resumed ends with the uninterrupted run's
/// weights bit for bit on the CPU backend, and with its metrics (timing columns aside).
/// </summary>
public class KilledRunResumeTests
{
    private TrainingFixture _fx = null!;
    private string _reference = null!;

    [OneTimeSetUp]
    public void Make()
    {
        _fx = new TrainingFixture();
        _reference = _fx.NewRunFolder("reference");
        Trainer.Start(_fx.Config(), _reference, new TinyModelSource(), new Kernels.Cpu.CpuBackend());
    }

    [OneTimeTearDown]
    public void Clean() => _fx.Dispose();

    // Checkpoints are at steps 3, 6, 9, 12: "step 5#1" is inside a step (resumed from 3); "checkpoint X#2" is inside
    // (or just after, for the pointer) the write of step 6's set; every run is killed a second time at step 8.
    [TestCase("step 5#1")]
    [TestCase("checkpoint weights#2")]
    [TestCase("checkpoint optimizer#2")]
    [TestCase("checkpoint state#2")]
    [TestCase("checkpoint pointer#2")]
    public void AKilledRunResumesToTheUninterruptedWeightsBitForBit(string killAt)
    {
        string run = StartAndKill(killAt);
        Assert.That(new CheckpointStore(run).ReadLatest().Pointer.Step, Is.EqualTo(killAt.StartsWith("checkpoint pointer") ? 6 : 3));
        RunHost(["resume", run], hold: "step 8#1");
        RunHost(["resume", run], hold: null);

        var store = new CheckpointStore(run);
        Assert.That(store.ReadLatest().Pointer.Step, Is.EqualTo(12));
        var expected = TrainingFixture.Weights(Path.Combine(new CheckpointStore(_reference).Folder, CheckpointStore.WeightsName(12)));
        var actual = TrainingFixture.Weights(Path.Combine(store.Folder, CheckpointStore.WeightsName(12)));
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (name, values) in expected)
            Assert.That(actual[name].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(values.Select(BitConverter.SingleToInt32Bits)), $"{name} after a kill at '{killAt}'");
        Assert.That(WithoutTiming(Path.Combine(run, Trainer.MetricsName)), Is.EqualTo(WithoutTiming(Path.Combine(_reference, Trainer.MetricsName))));
        Assert.That(File.ReadAllLines(Path.Combine(run, Trainer.ValidationName)), Is.EqualTo(File.ReadAllLines(Path.Combine(_reference, Trainer.ValidationName))));
        Assert.That(Directory.EnumerateFiles(store.Folder, "*.tmp"), Is.Empty, "no temporary of a killed writer is left");
    }

    [Test]
    public void ARunKilledInsideItsFirstCheckpointHasNothingToResumeAndSaysSo()
    {
        string run = StartAndKill("checkpoint optimizer#1");
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(run, new TinyModelSource(), _ => new Kernels.Cpu.CpuBackend()));
        Assert.That(e!.Message, Does.Contain("latest.json").And.Contain("no complete checkpoint"));
    }

    private string StartAndKill(string killAt)
    {
        string run = _fx.NewRunFolder("killed");
        string configPath = run + ".json";
        Directory.CreateDirectory(Path.GetDirectoryName(run)!);
        File.WriteAllText(configPath, _fx.Config().ToJson());
        RunHost(["start", configPath, run], hold: killAt);
        return run;
    }

    private static string[] WithoutTiming(string csv) =>
        File.ReadAllLines(csv).Select(l => string.Join(',', l.Split(',').SkipLast(1))).ToArray();

    // Runs the test host; with `hold` it waits until the host holds at that phase, then kills the process at once.
    private static void RunHost(string[] args, string? hold)
    {
        string host = typeof(TinyModelSource).Assembly.Location;
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(host);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (hold is not null) psi.Environment["TRAIN_HOST_HOLD"] = hold;
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var seen = new List<string>();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            seen.Add(line);
            if (line.StartsWith("HOLD ", StringComparison.Ordinal))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return;
            }
        }
        process.WaitForExit();
        Assert.That(hold, Is.Null, $"the host ended before phase '{hold}': {string.Join(" | ", seen.TakeLast(5))} {stderr.Result}");
        Assert.That(process.ExitCode, Is.Zero, $"host {string.Join(' ', args)} failed: {stderr.Result}");
    }
}
