using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ILGpuSat.Common;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Colorization;
using ILGpuSat.Training.Data;

namespace ILGpuSat.Training.Runs;

/// <summary>One GAN-colorizer training run, written as RUN/config.json before the first step (docs/colorizers.md).</summary>
public sealed record GanTrainConfig
{
    /// <summary>Folders or files of colour targets (optical images, or the Lab-fused SAR targets of fuse-sar).</summary>
    public IReadOnlyList<string> Data { get; init; } = [];

    /// <summary>A folder of grey inputs paired with <see cref="Data"/> by file name (SAR); null = grey is each target's L* / 100.</summary>
    public string? Grey { get; init; }

    public GanColorizerConfig Model { get; init; } = new();

    /// <summary>Share of files held out by name for validation.</summary>
    public double HeldOut { get; init; } = 0.1;

    /// <summary>
    /// File names held out for validation instead of the hashed share: for data whose neighbouring images overlap or
    /// touch on the ground (sar-optical), a held-out set split by footprint (docs/colorizers.md).
    /// </summary>
    public IReadOnlyList<string>? HeldOutNames { get; init; }

    public int Batch { get; init; } = 16;

    public long Steps { get; init; } = 2000;

    /// <summary>Adam for both networks; beta1 0.5 as DCGAN's recipe (a lower momentum keeps the two players from overshooting).</summary>
    public double GeneratorLr { get; init; } = 2e-4;

    public double DiscriminatorLr { get; init; } = 2e-4;

    public double Beta1 { get; init; } = 0.5;

    public double Beta2 { get; init; } = 0.999;

    /// <summary>The L2 penalty on the discriminator's weights: lambda * sum w^2, added to its loss only.</summary>
    public double DiscriminatorWeightPenalty { get; init; } = 1e-4;

    /// <summary>Weight of the generator's L2-to-ground-truth term at step 0; it falls linearly to 0 at <see cref="L2FadeSteps"/>.</summary>
    public double L2Start { get; init; } = 100;

    public long L2FadeSteps { get; init; } = 1000;

    public int Seed { get; init; } = 1;

    public int LogInterval { get; init; } = 10;

    public int ValidateInterval { get; init; } = 100;

    public int ValidationWindows { get; init; } = 32;

    public int CheckpointInterval { get; init; } = 50;

    public int KeepLast { get; init; } = 2;

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The L2 term's weight at a step.</summary>
    public double L2Weight(long step) => L2FadeSteps <= 0 ? 0 : L2Start * Math.Max(0, 1 - (double)step / L2FadeSteps);

    public GanTrainConfig Validate()
    {
        static void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ArgumentException($"gan-colorizer config: {key} {problem}");
        }
        Model.Validate();
        Check(Data.Count > 0, "data", "names no folder of colour targets.");
        Check(Grey is null || Directory.Exists(Grey), "grey", $"names a folder that does not exist: {Grey}.");
        Check(Batch >= 1 && Steps >= 1, "batch / steps", "must be positive.");
        Check(GeneratorLr > 0 && DiscriminatorLr > 0, "generatorLr / discriminatorLr", "must be positive.");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "beta1 / beta2", "must lie in [0, 1).");
        Check(DiscriminatorWeightPenalty >= 0 && L2Start >= 0 && L2FadeSteps >= 0, "discriminatorWeightPenalty / l2Start / l2FadeSteps", "must be 0 or more.");
        Check(HeldOut is > 0 and < 1, "heldOut", $"must lie in (0, 1), got {HeldOut}.");
        Check(LogInterval >= 1 && ValidateInterval >= 0 && CheckpointInterval >= 1 && KeepLast >= 1 && ValidationWindows >= 1, "intervals", "must be positive (validateInterval 0 = never).");
        return this;
    }
}

/// <summary>
/// Trains the SpaceNet GAN colorizer: per step one discriminator update then one generator update, two Adam optimizers
/// stepping their own network. D: BCE(D(real), 1) + BCE(D(G(grey)), 0) + lambda sum w_D^2, with G(grey) made without
/// gradient. G: BCE(D(G(grey)), 1) + w(step) MSE(G(grey), real), w fading linearly to 0. metrics.csv holds both losses,
/// the L2 term and D's accuracy (real scored above 0, generated below), plotted to losses.png and accuracy.png;
/// validation.csv the held-out colour PSNR. Checkpoints hold both networks (generator.*, discriminator.*) and both
/// optimizers, and a resumed run continues exactly.
/// </summary>
public sealed class GanColorizerTrainer : IDisposable
{
    public const string ConfigName = RunFolder.ConfigName;
    public const string ModelName = GanColorizerFile.ModelName;

    private readonly GanTrainConfig _config;
    private readonly Backend _backend;
    private readonly GanGenerator _g;
    private readonly GanDiscriminator _d;
    private readonly Adam _optG, _optD;
    private readonly ColourWindows _train, _heldOut;
    private readonly CheckpointStore _store;
    private readonly MetricsLog _metrics, _validation;
    private readonly string _run;
    private long _step;
    private readonly double[] _sums = new double[5];
    private int _summed;

    private GanColorizerTrainer(GanTrainConfig config, string run, Backend backend, TrainingState? resume, string? weights,
                                (string Generator, string Discriminator)? optimizers)
    {
        _config = config;
        _backend = backend;
        _run = run;
        var nn = new LayerFactory(backend, config.Seed);
        _g = new GanGenerator(nn, config.Model);
        _d = new GanDiscriminator(nn, config.Model);
        if (weights is not null) LoadWeights(weights);
        _optG = new Adam(_g.Parameters(), (float)config.GeneratorLr, (float)config.Beta1, (float)config.Beta2);
        _optD = new Adam(_d.Parameters(), (float)config.DiscriminatorLr, (float)config.Beta1, (float)config.Beta2);
        var (trainFiles, heldFiles) = ColourWindows.Files(config.Data, config.Grey, config.HeldOut, config.HeldOutNames);
        if (heldFiles.Count == 0) heldFiles = [trainFiles[^1]];
        _train = new ColourWindows(trainFiles, config.Model.Window, config.Seed);
        _heldOut = new ColourWindows(heldFiles, config.Model.Window, config.Seed + 7919);
        _store = new CheckpointStore(run);
        _metrics = MetricsLog.Open(Path.Combine(run, "metrics.csv"), ["step", "loss_d", "loss_g", "adversarial", "l2", "d_accuracy"], resume?.MetricRows ?? 0);
        _validation = MetricsLog.Open(Path.Combine(run, "validation.csv"), ["step", "psnr_rgb", "psnr_grey_as_rgb"], resume?.ValidationRows ?? 0);
        if (resume is not null)
        {
            _optG.LoadState(optimizers!.Value.Generator, _g.NamedParameters());
            _optD.LoadState(optimizers.Value.Discriminator, _d.NamedParameters());
            _step = resume.Step;
            for (int i = 0; i < _sums.Length && i < resume.IntervalSums.Count; i++) _sums[i] = resume.IntervalSums[i];
            _summed = resume.IntervalSteps;
        }
    }

    public GanGenerator Generator => _g;

    public GanDiscriminator Discriminator => _d;

    public static long Start(GanTrainConfig config, string run, Backend backend, Action<string>? report = null, CancellationToken ct = default)
    {
        config.Validate();
        RunFolder.Begin(run, config, GanTrainConfig.JsonOptions);
        using var trainer = new GanColorizerTrainer(config, run, backend, null, null, null);
        return trainer.Run(report, ct);
    }

    public static long Resume(string run, Backend backend, Action<string>? report = null, CancellationToken ct = default)
    {
        var config = RunFolder.ReadConfig<GanTrainConfig>(run, GanTrainConfig.JsonOptions).Validate();
        var store = new CheckpointStore(run);
        var (pointer, state) = store.ReadLatest();
        using var trainer = new GanColorizerTrainer(config, run, backend, state, Path.Combine(store.Folder, CheckpointStore.WeightsName(pointer.Step)),
            (Path.Combine(store.Folder, CheckpointStore.OptimizerName(pointer.Step, "g")), Path.Combine(store.Folder, CheckpointStore.OptimizerName(pointer.Step, "d"))));
        return trainer.Run(report, ct);
    }

    private void LoadWeights(string path)
    {
        var loaded = Engine.IO.SafeTensors.Load(path, _backend);
        try
        {
            Dictionary<string, Tensor> Part(string prefix) => loaded.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                                                                   .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            _g.LoadStateDict(Part(GanColorizerFile.GeneratorPrefix), strict: true);
            _d.LoadStateDict(Part(GanColorizerFile.DiscriminatorPrefix), strict: true);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: not a checkpoint of this GAN colorizer: {e.Message}", e);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    private long Run(Action<string>? report, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long clockStep = _step;
        while (_step < _config.Steps && !ct.IsCancellationRequested)
        {
            var terms = TrainStep(_train.Batch(_step, _config.Batch), _config.L2Weight(_step));
            if (!terms.All(double.IsFinite)) throw new TrainingDivergedException(_step + 1, $"step {_step + 1}: a GAN loss is not finite ({string.Join(", ", terms)}).");
            _step++;
            for (int i = 0; i < _sums.Length; i++) _sums[i] += terms[i];
            _summed++;
            if (_step % _config.LogInterval == 0 || _step == _config.Steps)
            {
                var mean = _sums.Select(v => v / _summed).ToArray();
                _metrics.Append([_step, .. mean]);
                report?.Invoke($"step {_step}/{_config.Steps}  D {mean[0]:G4}  G {mean[1]:G4} (adversarial {mean[2]:G4}, L2 {mean[3]:G4})  D accuracy {mean[4]:P0}  " +
                               $"{_config.Batch * (_step - clockStep) / clock.Elapsed.TotalSeconds:F1} windows/s");
                Array.Clear(_sums);
                _summed = 0;
                WritePlots();
            }
            if (_config.ValidateInterval > 0 && (_step % _config.ValidateInterval == 0 || _step == _config.Steps))
            {
                string summary = Validate(); // not inside report?.Invoke(...), which would skip it without a reporter
                report?.Invoke(summary);
            }
            if (_step % _config.CheckpointInterval == 0 || _step == _config.Steps) Checkpoint();
        }
        if (_step < _config.Steps) Checkpoint();
        return _step;
    }

    /// <summary>One D update, then one G update; returns D's loss, G's loss, its adversarial and L2 terms, D's accuracy.</summary>
    private double[] TrainStep(ColourBatch b, double l2Weight)
    {
        int n = b.Count, s = b.Side;
        using var scope = new TensorScope();
        var grey = Tensor.FromArray(b.Grey, [n, 1, s, s], _backend);
        var real = Tensor.FromArray(b.Rgb, [n, 3, s, s], _backend);
        var ones = Tensor.Ones([n, 1], _backend);
        var zeros = Tensor.Zeros([n, 1], backend: _backend);
        _g.Train();
        _d.Train();

        Tensor fake;
        using (Autograd.NoGrad()) fake = _g.Forward(grey);
        _optD.ZeroGrad();
        var realLogits = _d.Forward(real);
        var fakeLogits = _d.Forward(fake);
        var lossD = F.Add(F.Add(F.BinaryCrossEntropyWithLogits(realLogits, ones), F.BinaryCrossEntropyWithLogits(fakeLogits, zeros)),
                          F.L2Penalty(_d.Weights, (float)_config.DiscriminatorWeightPenalty));
        lossD.Backward();
        _optD.Step();
        var rl = realLogits.ToArray();
        var fl = fakeLogits.ToArray();
        double accuracy = (rl.Count(v => v > 0) + fl.Count(v => v < 0)) / (2.0 * n);

        _optG.ZeroGrad();
        var generated = _g.Forward(grey);
        var adversarial = F.BinaryCrossEntropyWithLogits(_d.Forward(generated), ones);
        var l2 = F.MseLoss(generated, real);
        var lossG = F.Add(adversarial, F.Mul(l2, (float)l2Weight));
        lossG.Backward();
        _optG.Step();
        _d.ZeroGrad(); // G's backward also reached D; its next update starts from zero anyway
        return [lossD.Item(), lossG.Item(), adversarial.Item(), l2.Item(), accuracy];
    }

    /// <summary>Held-out windows: PSNR of the generated RGB, beside the grey input shown as RGB (no colour at all).</summary>
    private string Validate()
    {
        _g.Eval();
        double ours = 0, grey = 0;
        int windows = _config.ValidationWindows;
        try
        {
            using var noGrad = Autograd.NoGrad();
            for (int i = 0; i < windows; i++)
            {
                using var scope = new TensorScope();
                var b = _heldOut.Batch(-1 - i, 1);
                int ss = b.Side * b.Side;
                var rgb = _g.Forward(Tensor.FromArray(b.Grey, [1, 1, b.Side, b.Side], _backend)).ToArray();
                ours += ImageMetrics.Psnr(b.Rgb, rgb, 3 * b.Side, b.Side, 1.0);
                var greyRgb = Enumerable.Range(0, 3 * ss).Select(j => b.Grey[j % ss]).ToArray();
                grey += ImageMetrics.Psnr(b.Rgb, greyRgb, 3 * b.Side, b.Side, 1.0);
            }
        }
        finally { _g.Train(); }
        _validation.Append([_step, ours / windows, grey / windows]);
        return $"{_step}: validation: colour PSNR {ours / windows:F2} dB (grey as RGB {grey / windows:F2})";
    }

    private void WritePlots()
    {
        try
        {
            var steps = _metrics.Column("step");
            Plots.Curves(Path.Combine(_run, "losses.png"), "GAN losses (mean per log interval)", "loss", steps,
                [("discriminator", _metrics.Column("loss_d")), ("generator", _metrics.Column("loss_g")), ("generator adversarial", _metrics.Column("adversarial"))]);
            Plots.Curves(Path.Combine(_run, "accuracy.png"), "discriminator accuracy (real > 0, generated < 0)", "share", steps,
                [("accuracy", _metrics.Column("d_accuracy"))]);
        }
        catch (IOException) { } // a plot is a convenience; the CSV is the record
    }

    private void Checkpoint()
    {
        var state = new TrainingState
        {
            Step = _step, Eta = _config.L2Weight(_step), SchedulerEpoch = 0, LearningRate = (float)_config.GeneratorLr, DataBatches = _step, BadFiles = [],
            MetricRows = _metrics.Rows.Count, ValidationRows = _validation.Rows.Count, IntervalSums = [.. _sums], IntervalSteps = _summed,
        };
        _store.Write(_step, SaveWeights,
            [("g", path => _optG.SaveState(path, _g.NamedParameters())), ("d", path => _optD.SaveState(path, _d.NamedParameters()))],
            state, _config.KeepLast);
    }

    /// <summary>Both networks in one file (generator.*, discriminator.*), with the model name and config in its metadata.</summary>
    private void SaveWeights(string path)
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, t) in _g.StateDict()) state[GanColorizerFile.GeneratorPrefix + name] = t;
        foreach (var (name, t) in _d.StateDict()) state[GanColorizerFile.DiscriminatorPrefix + name] = t;
        var metadata = new Dictionary<string, string>
        {
            [ModelFile.ModelKey] = ModelName, ["step"] = _step.ToString(CultureInfo.InvariantCulture),
            [ModelFile.ConfigKey] = GanColorizerFile.ConfigJson(_config.Model),
            [ColorizerGrey.Key] = ColorizerGrey.Of(_config.Grey is not null),
        };
        Engine.IO.SafeTensors.Save(path, state, metadata);
    }

    public void Dispose()
    {
        _optG.Dispose();
        _optD.Dispose();
        _g.Dispose();
        _d.Dispose();
    }
}
