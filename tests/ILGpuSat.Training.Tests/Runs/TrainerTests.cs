using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Runs;
using ILGpuSat.Training.TestHost;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Runs;

public class TrainerTests
{
    private TrainingFixture _fx = null!;

    [OneTimeSetUp]
    public void Make() => _fx = new TrainingFixture();

    [OneTimeTearDown]
    public void Clean() => _fx.Dispose();

    private static TrainingResult Start(TrainConfig config, string run, TrainerHooks? hooks = null, CancellationToken ct = default) =>
        Trainer.Start(config, run, new TinyModelSource(), new CpuBackend(), hooks, ct);

    [TestCase("tiny-joint", new[] { "sr", "color" })]
    [TestCase("tiny-sr", new[] { "sr" })]
    [TestCase("tiny-color", new[] { "color" })]
    [TestCase("tiny-regression", new[] { "sr", "ab" })]
    public void AFewStepsReduceEveryLossTerm(string model, string[] terms)
    {
        string run = _fx.NewRunFolder(model);
        var config = _fx.Config(model, steps: 60) with
        {
            Intervals = new IntervalConfig { Log = 10, Validate = 0, Checkpoint = 60 },
            Schedule = new ScheduleConfig { StepSize = 1000, Gamma = 0.5 },
            Data = _fx.Config().Data with { Validation = null },
            Batch = 4,
        };
        Start(config, run);
        var log = MetricsLog.Open(Path.Combine(run, Trainer.MetricsName), ["step", "lr", "eta", "loss", .. terms, "samples_per_s"], 6);
        foreach (var term in terms)
        {
            var values = log.Column(term);
            Assert.That(values[^1], Is.LessThan(0.95 * values[0]), $"{model}: term {term} went {string.Join(", ", values.Select(v => v.ToString("G3")))}");
        }
    }

    [Test]
    public void ARunWritesItsConfigMetricsValidationPlotsAndKeepsTheLastKCheckpoints()
    {
        string run = _fx.NewRunFolder("layout");
        var events = new List<string>();
        var result = Start(_fx.Config(), run, new TrainerHooks { Phase = events.Add });
        Assert.That(result.Outcome, Is.EqualTo(TrainingOutcome.Completed));
        Assert.That(result.Step, Is.EqualTo(12));
        var written = TrainConfig.Load(Path.Combine(run, Trainer.ConfigName));
        Assert.That(written.Model, Is.EqualTo("tiny-joint"));
        Assert.That(written.ModelConfig!.Value.GetProperty("width").GetInt32(), Is.EqualTo(4), "the resolved model config is written");
        var store = new CheckpointStore(run);
        Assert.That(store.StepsOnDisk(), Is.EqualTo(new long[] { 9, 12 }), "keep the last 2 of 3, 6, 9, 12");
        var (pointer, state) = store.ReadLatest();
        Assert.That(pointer.Step, Is.EqualTo(12));
        Assert.That(state.DataBatches, Is.EqualTo(12));
        Assert.That(state.Eta, Is.EqualTo(1.5), "eta raised at step 7");
        Assert.That(state.LearningRate, Is.EqualTo(1e-2f * 0.25f), "lr halved at steps 5 and 10");
        Assert.That(File.ReadAllLines(Path.Combine(run, Trainer.MetricsName)), Has.Length.EqualTo(1 + 6));
        Assert.That(File.ReadAllLines(Path.Combine(run, Trainer.ValidationName)), Has.Length.EqualTo(1 + 2));
        foreach (var file in new[] { Plots.LossName, Plots.PsnrName, "validation/step-0000006.png", "validation/step-0000012.png" })
            Assert.That(new FileInfo(Path.Combine(run, file)).Length, Is.GreaterThan(1000), file);
        int pointerAt = events.IndexOf("checkpoint pointer"), stateAt = events.IndexOf("checkpoint state");
        Assert.That(stateAt, Is.GreaterThanOrEqualTo(0).And.LessThan(pointerAt), "the pointer moves after the state is written");
        var weights = TrainingFixture.Weights(Path.Combine(store.Folder, CheckpointStore.WeightsName(12)));
        Assert.That(weights.Keys, Does.Contain("stem.weight"));
        var e = Assert.Throws<InvalidOperationException>(() => Start(_fx.Config(), run));
        Assert.That(e!.Message, Does.Contain("--resume"));
    }

    [Test]
    public void CancellationCheckpointsAndResumeFinishesTheRun()
    {
        string run = _fx.NewRunFolder("cancel");
        using var cts = new CancellationTokenSource();
        var result = Start(_fx.Config(), run, new TrainerHooks { Phase = p => { if (p == "step 5") cts.Cancel(); } }, cts.Token);
        Assert.That(result.Outcome, Is.EqualTo(TrainingOutcome.Cancelled));
        Assert.That(new CheckpointStore(run).ReadLatest().Pointer.Step, Is.EqualTo(5), "the step in flight finishes, then a checkpoint");
        var done = Trainer.Resume(run, new TinyModelSource(), _ => new CpuBackend());
        Assert.That(done.Step, Is.EqualTo(12));
    }

    [Test]
    public void ANonFiniteLossStopsTheRunNamingTheTermAndStepAndKeepsTheLastGoodCheckpoint()
    {
        string run = _fx.NewRunFolder("nan");
        var config = _fx.Config() with
        {
            Optimizer = new OptimizerConfig { Lr = 1e30 }, Steps = 40,
            Intervals = new IntervalConfig { Log = 1, Validate = 0, Checkpoint = 1 },
        };
        var e = Assert.Throws<TrainingDivergedException>(() => Start(config, run));
        Assert.That(e!.Message, Does.Match(@"step \d+: loss term '(sr|color)' is (NaN|-?∞|Infinity)|step \d+: the gradient of parameter"));
        var store = new CheckpointStore(run);
        var (pointer, _) = store.ReadLatest();
        Assert.That(pointer.Step, Is.EqualTo(e.Step - 1), "the latest checkpoint is the last one before the divergence");
        Assert.That(store.StepsOnDisk().Max(), Is.EqualTo(pointer.Step), "nothing was written after it");
    }

    [Test]
    public void ADamagedOrMissingCheckpointIsAClearErrorOnResume()
    {
        string run = _fx.NewRunFolder("damaged");
        Start(_fx.Config() with { Steps = 6 }, run);
        var store = new CheckpointStore(run);
        string weights = Path.Combine(store.Folder, CheckpointStore.WeightsName(6));
        var bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(run, new TinyModelSource(), _ => new CpuBackend()));
        Assert.That(e!.Message, Does.Contain("step-0000006.safetensors").And.Contain("damaged"));
        File.Delete(weights);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(run, new TinyModelSource(), _ => new CpuBackend()));
        Assert.That(e!.Message, Does.Contain("step-0000006.safetensors").And.Contain("missing"));
        File.Delete(store.PointerPath);
        e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(run, new TinyModelSource(), _ => new CpuBackend()));
        Assert.That(e!.Message, Does.Contain("latest.json").And.Contain("no complete checkpoint"));
    }

    [Test]
    public void InitStartsTheRunFromTheGivenWeightsWithAFreshOptimizer()
    {
        string first = _fx.NewRunFolder("init-source");
        Start(_fx.Config() with { Steps = 6 }, first);
        string source = Path.Combine(new CheckpointStore(first).Folder, CheckpointStore.WeightsName(6));
        var quiet = new OptimizerConfig { Lr = 1e-30 }; // one step that cannot move a weight: the run's weights are its start
        var oneStep = _fx.Config() with { Steps = 1, Optimizer = quiet, Intervals = new IntervalConfig { Log = 1, Validate = 0, Checkpoint = 1 } };

        string seeded = _fx.NewRunFolder("init-none"), initialised = _fx.NewRunFolder("init-given");
        Start(oneStep, seeded);
        Start(oneStep with { Init = source }, initialised);
        var expected = TrainingFixture.Weights(source);
        var fresh = TrainingFixture.Weights(Path.Combine(new CheckpointStore(seeded).Folder, CheckpointStore.WeightsName(1)));
        var started = TrainingFixture.Weights(Path.Combine(new CheckpointStore(initialised).Folder, CheckpointStore.WeightsName(1)));
        Assert.That(fresh["stem.weight"], Is.Not.EqualTo(expected["stem.weight"]), "the seeded start differs from the trained weights");
        foreach (var (name, values) in expected.Where(kv => !kv.Key.Contains("running_") && !kv.Key.EndsWith("num_batches_tracked")))
            Assert.That(started[name], Is.EqualTo(values).Within(1e-6f), name);
        Assert.That(new CheckpointStore(initialised).ReadLatest().State.Step, Is.EqualTo(1), "the step count starts at 0");

        var other = _fx.NewRunFolder("init-wide");
        Start(_fx.Config() with { Steps = 3, ModelConfig = System.Text.Json.JsonDocument.Parse("""{"width": 8}""").RootElement.Clone() }, other);
        string wide = Path.Combine(new CheckpointStore(other).Folder, CheckpointStore.WeightsName(3));
        var e = Assert.Throws<InvalidDataException>(() => Start(oneStep with { Init = wide }, _fx.NewRunFolder("init-wrong")));
        Assert.That(e!.Message, Does.Contain("config.init").And.Contain(wide).And.Contain("shape"));
        var missing = Assert.Throws<ArgumentException>(() => Start(oneStep with { Init = Path.Combine(first, "none.safetensors") }, _fx.NewRunFolder("init-missing")));
        Assert.That(missing!.Message, Does.Contain("init").And.Contain("does not exist"));
    }

    [Test]
    public void RebalancingWeightsFromAFileReachTheColourLoss()
    {
        string folder = _fx.NewRunFolder("weights");
        Directory.CreateDirectory(folder);
        string ones = Path.Combine(folder, "ones_weights.txt"), twos = Path.Combine(folder, "twos_weights.txt");
        File.WriteAllLines(ones, Enumerable.Repeat("1.0", 313));
        File.WriteAllLines(twos, Enumerable.Repeat("2.0", 313));
        var baseConfig = _fx.Config("tiny-color", steps: 1) with { Intervals = new IntervalConfig { Log = 1, Validate = 1, Checkpoint = 1 } };
        Assert.That(Trainer.RebalancingWeights(baseConfig.Data with { RebalancingWeights = twos }), Is.All.EqualTo(2f));
        Assert.That(Trainer.RebalancingWeights(baseConfig.Data).Distinct().Count(), Is.GreaterThan(100), "default: Zhang's ImageNet weights");

        double[] Losses(string weights)
        {
            string run = _fx.NewRunFolder("weights-run");
            Start(baseConfig with { Data = baseConfig.Data with { RebalancingWeights = weights } }, run);
            double train = MetricsLog.Open(Path.Combine(run, Trainer.MetricsName), ["step", "lr", "eta", "loss", "color", "samples_per_s"], 1).Column("color")[0];
            double validation = MetricsLog.Open(Path.Combine(run, Trainer.ValidationName),
                ["step", "psnr_sr", "ssim_sr", "psnr_bicubic", "ssim_bicubic", "color_loss", "colourfulness", "colourfulness_truth"], 1).Column("color_loss")[0];
            return [train, validation];
        }
        var (a, b) = (Losses(ones), Losses(twos));
        Assert.That(b[0], Is.EqualTo(2 * a[0]).Within(1e-5 * a[0]), "the training loss doubles with the weights");
        Assert.That(b[1], Is.EqualTo(2 * a[1]).Within(1e-3 * a[1]), "validation uses the same weights");
        var e = Assert.Throws<InvalidDataException>(() => Trainer.RebalancingWeights(baseConfig.Data with { RebalancingWeights = WriteShort(folder) }));
        Assert.That(e!.Message, Does.Contain("313"));
    }

    private static string WriteShort(string folder)
    {
        string path = Path.Combine(folder, "short_weights.txt");
        File.WriteAllLines(path, Enumerable.Repeat("1.0", 12));
        return path;
    }
}
