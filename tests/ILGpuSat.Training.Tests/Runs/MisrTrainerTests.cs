using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Misr;
using ILGpuSat.Training.Data;
using ILGpuSat.Training.Runs;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Runs;

/// <summary>DeepSUM's three stages on a tiny network and simulated scenes: each stage's loss falls; a killed run resumes exactly.</summary>
[NonParallelizable]
public class MisrTrainerTests
{
    private string _root = null!;

    [OneTimeSetUp]
    public void Make()
    {
        _root = Directory.CreateTempSubdirectory("misr-train-").FullName;
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        for (int k = 0; k < 12; k++)
        {
            int s = 48, kk = k;
            var plane = Enumerable.Range(0, s * s).Select(i => (float)(0.45 + 0.25 * Math.Sin((i % s) * 0.35 + kk) * Math.Cos((i / s) * 0.27 - kk)
                                                                           + 0.1 * Math.Sin((i % s + i / s) * 0.9))).ToArray();
            ImageWriter.Write(Path.Combine(_root, "data", $"src{k}.png"), new RasterImage(s, s, [plane]));
        }
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_root, recursive: true);

    private MisrTrainConfig Config(MisrStage stage, long steps) => new()
    {
        Stage = stage,
        Data = [Path.Combine(_root, "data")],
        Model = new DeepSumConfig { Frames = 3, Filters = 6, SisrLayers = 2, FilterSize = 7, FusionLayers = 1 },
        Simulator = new MisrSimulatorOptions { Frames = 3, LrSize = 8, MaxShift = 0.6, CloudyFraction = 0.5, MaxCloudCover = 0.3 },
        HeldOut = 0.2, Batch = 3, Steps = steps, Lr = 3e-3, Seed = 3,
        LogInterval = 5, ValidateInterval = 0, CheckpointInterval = 10, KeepLast = 1,
    };

    private string Run(string name) => Path.Combine(_root, "runs", name);

    private static double[] Losses(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [Test]
    public void EachStageLowersItsLossAndStartsTheNext()
    {
        using var backend = new CpuBackend();
        string sisr = Run("sisr"), reg = Run("reg"), joint = Run("joint");
        MisrTrainer.Start(Config(MisrStage.Sisr, 40), sisr, backend);
        string sisrWeights = Path.Combine(new CheckpointStore(sisr).Folder, CheckpointStore.WeightsName(40));
        MisrTrainer.Start(Config(MisrStage.Reg, 150) with { Init = sisrWeights, LogInterval = 25 }, reg, backend);
        string regWeights = Path.Combine(new CheckpointStore(reg).Folder, CheckpointStore.WeightsName(150));
        MisrTrainer.Start(Config(MisrStage.Joint, 30) with { Init = regWeights, ValidateInterval = 30, ValidationScenes = 2 }, joint, backend);
        foreach (var run in new[] { sisr, reg, joint })
        {
            var l = Losses(run);
            TestContext.Out.WriteLine($"{Path.GetFileName(run)}: {string.Join(", ", l.Select(v => v.ToString("G3")))}");
            // RegNet learns slowly at this size (its cross-entropy starts at ln 49 = 3.9): a smaller fall is asked of it.
            double factor = run == reg ? 0.95 : 0.8;
            Assert.That(l[^1], Is.LessThan(factor * l[0]), $"{Path.GetFileName(run)}: the loss falls");
        }
        var validation = File.ReadAllLines(Path.Combine(joint, "validation.csv"));
        Assert.That(validation, Has.Length.EqualTo(2), "one validation row: step, score, cpsnr, baseline, clearest");
        Assert.That(validation[1].Split(',').Skip(2).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), Is.All.GreaterThan(5));
    }

    [Test]
    public void AKilledRunResumesToTheSameWeights()
    {
        using var backend = new CpuBackend();
        string whole = Run("whole"), killed = Run("killed");
        var config = Config(MisrStage.Joint, 20);
        MisrTrainer.Start(config, whole, backend);
        using var cts = new CancellationTokenSource();
        MisrTrainer.Start(config with { LogInterval = 1 }, killed, backend, line => { if (line.StartsWith("step 10/")) cts.Cancel(); }, cts.Token);
        Assert.That(new CheckpointStore(killed).ReadLatest().Pointer.Step, Is.EqualTo(10));
        MisrTrainer.Resume(killed, backend);
        var a = ILGpuSat.Engine.IO.SafeTensors.Read(Path.Combine(new CheckpointStore(whole).Folder, CheckpointStore.WeightsName(20))).Tensors;
        var b = ILGpuSat.Engine.IO.SafeTensors.Read(Path.Combine(new CheckpointStore(killed).Folder, CheckpointStore.WeightsName(20))).Tensors;
        Assert.That(b.Select(t => t.Name), Is.EqualTo(a.Select(t => t.Name)));
        for (int i = 0; i < a.Count; i++) Assert.That(b[i].Value.Data, Is.EqualTo(a[i].Value.Data), a[i].Name);
    }
}
