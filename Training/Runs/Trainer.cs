using System.Diagnostics;
using ILGpuSat.Common;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Training.Color;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Data;
using ILGpuSat.Training.Losses;

namespace ILGpuSat.Training.Runs;

/// <summary>What the trainer reports after each step.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, IReadOnlyList<(string Name, double Value)> Terms, double Loss,
                                      float LearningRate, double Eta, double SamplesPerSecond, string? Event = null);

public enum TrainingOutcome { Completed, Cancelled }

public sealed record TrainingResult(TrainingOutcome Outcome, long Step, string RunFolder);

/// <summary>A non-finite loss term or gradient: the run stops, the last good checkpoint stays the latest.</summary>
public sealed class TrainingDivergedException(long step, string what)
    : Exception($"training diverged at step {step}: {what}; no checkpoint was written after it, the last good one stays the latest.")
{
    public long Step { get; } = step;
    public string What { get; } = what;
}

/// <summary>Test and display hooks; every member optional.</summary>
public sealed record TrainerHooks
{
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Called with "step N" before step N's forward pass and with the checkpoint's phases (tests kill there).</summary>
    public Action<string>? Phase { get; init; }
}

/// <summary>
/// The joint training loop (docs/training.md): the catalog network on one backend, Adam/AdamW with StepLR,
/// the eta schedule, the seeded patch stream, validation, metrics and checkpoints that a resumed run
/// continues from bit for bit. A run folder holds config.json, metrics.csv, validation.csv, plots and
/// checkpoints/; <see cref="Start"/> begins one, <see cref="Resume"/> continues the latest checkpoint.
/// </summary>
public sealed class Trainer : IDisposable
{
    public const string ConfigName = "config.json";
    public const string MetricsName = "metrics.csv";
    public const string ValidationName = "validation.csv";

    private readonly TrainConfig _config;
    private readonly string _run;
    private readonly IModelSource _models;
    private readonly Backend _backend;
    private readonly TrainerHooks _hooks;
    private readonly string _modelConfig;
    private readonly SatNetwork _network;
    private readonly List<(string Name, Tensor Tensor)> _named;
    private readonly Adam _optimizer;
    private readonly StepLR _schedule;
    private readonly PatchDataset _data;
    private readonly CheckpointStore _store;
    private readonly MetricsLog _metrics;
    private readonly Validator? _validator;
    private readonly IReadOnlyList<string> _terms;
    private long _step;
    private long _dataBatches;
    private long _savedStep = -1;
    private readonly double[] _sums;
    private int _summed;

    private Trainer(TrainConfig config, string run, IModelSource models, Backend backend, TrainerHooks hooks, TrainingState? resumeFrom, string? weights, string? optimizerState)
    {
        _config = config;
        _run = run;
        _models = models;
        _backend = backend;
        _hooks = hooks;
        _modelConfig = models.ResolveConfig(config.Model, config.ModelConfig);
        _network = models.Create(config.Model, _modelConfig, new LayerFactory(backend, config.Seed));
        if (weights is not null) _network.Load(weights);
        else if (config.Init is not null) LoadInit(config.Init, config.Model);
        var n = _network.Normalization;
        if (n.LScale != 0.01f || n.LOffset != -0.5f) // PatchMaker.NormaliseL
            throw new NotSupportedException($"train: model '{config.Model}' normalises L* as {n.LScale} L + {n.LOffset}; the training patches are made as 0.01 L - 0.5.");
        _named = _network.NamedParameters().ToList();
        var o = config.Optimizer;
        _optimizer = o.Kind == OptimizerKind.AdamW
            ? new AdamW(_network.Parameters(), (float)o.Lr, (float)o.Beta1, (float)o.Beta2, (float)o.Eps, (float)o.WeightDecay)
            : new Adam(_network.Parameters(), (float)o.Lr, (float)o.Beta1, (float)o.Beta2, (float)o.Eps, (float)o.WeightDecay);
        _schedule = new StepLR(_optimizer, config.Schedule.StepSize, (float)config.Schedule.Gamma);
        if (resumeFrom is not null)
        {
            _optimizer.LoadState(optimizerState!, _named);
            _schedule.Restore(resumeFrom.SchedulerEpoch);
            if (_optimizer.LearningRate != resumeFrom.LearningRate)
                throw new InvalidDataException($"resume: the schedule gives lr {_optimizer.LearningRate} at step {resumeFrom.Step}, the checkpoint used {resumeFrom.LearningRate}; config.json was changed.");
            _step = resumeFrom.Step;
            _dataBatches = resumeFrom.DataBatches;
            _savedStep = _step;
        }
        _terms = TrainingLoss.TermNames(_network.Tasks);
        _sums = new double[_terms.Count + 1];
        if (resumeFrom is not null)
        {
            if (resumeFrom.IntervalSums.Count != _sums.Length)
                throw new InvalidDataException($"resume: the checkpoint of step {resumeFrom.Step} sums {resumeFrom.IntervalSums.Count} loss values, the model has {_sums.Length}.");
            resumeFrom.IntervalSums.ToArray().CopyTo(_sums, 0);
            _summed = resumeFrom.IntervalSteps;
        }
        _data = PatchDataset.Open(DataOptions(config, _network, _dataBatches, resumeFrom?.BadFiles ?? []));
        _store = new CheckpointStore(run);
        if (hooks.Phase is not null) _store.PhaseWritten = phase => hooks.Phase("checkpoint " + phase);
        _metrics = MetricsLog.Open(Path.Combine(run, MetricsName), ["step", "lr", "eta", "loss", .. _terms, "samples_per_s"], resumeFrom?.MetricRows ?? 0);
        if (config.Data.Validation is not null)
            _validator = new Validator(config.Data, _network, backend, Path.Combine(run, ValidationName), resumeFrom?.ValidationRows ?? 0);
    }

    /// <summary>Begins a run in an empty (or new) folder: writes the resolved config first, then trains.</summary>
    public static TrainingResult Start(TrainConfig config, string runFolder, IModelSource models, Backend backend, TrainerHooks? hooks = null,
                                       CancellationToken cancellationToken = default)
    {
        config.Validate();
        if (File.Exists(Path.Combine(runFolder, ConfigName)))
            throw new InvalidOperationException($"train: {runFolder} already holds a run ({ConfigName}); continue it with --resume or choose another --out.");
        string resolved = models.ResolveConfig(config.Model, config.ModelConfig);
        var written = config with { ModelConfig = System.Text.Json.JsonDocument.Parse(resolved).RootElement.Clone() };
        Directory.CreateDirectory(runFolder);
        AtomicFile.WriteAllText(Path.Combine(runFolder, ConfigName), written.ToJson());
        using var trainer = new Trainer(written, runFolder, models, backend, hooks ?? new(), null, null, null);
        return trainer.Run(cancellationToken);
    }

    /// <summary>Continues a run from the checkpoint its pointer names (checked file by file).</summary>
    public static TrainingResult Resume(string runFolder, IModelSource models, Func<TrainConfig, Backend> backendFor, TrainerHooks? hooks = null,
                                        CancellationToken cancellationToken = default)
    {
        string configPath = Path.Combine(runFolder, ConfigName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"resume: {configPath} does not exist; is {runFolder} a run folder?", configPath);
        var config = TrainConfig.Load(configPath).Validate();
        var store = new CheckpointStore(runFolder);
        var (pointer, state) = store.ReadLatest();
        using var trainer = new Trainer(config, runFolder, models, backendFor(config), hooks ?? new(), state,
                                        Path.Combine(store.Folder, CheckpointStore.WeightsName(pointer.Step)),
                                        Path.Combine(store.Folder, CheckpointStore.OptimizerName(pointer.Step)));
        return trainer.Run(cancellationToken);
    }

    public SatNetwork Network => _network;

    // config.init: a weights file of the same model (a model file says which model it holds; a checkpoint's bare
    // weights are checked tensor by tensor, as resume checks them).
    private void LoadInit(string path, string model)
    {
        var metadata = Engine.IO.SafeTensors.Read(path).Metadata;
        if (metadata.TryGetValue(ModelFile.ModelKey, out var held) && held != model)
            throw new InvalidDataException($"{path}: config.init holds a '{held}' model; this run trains '{model}'.");
        try { _network.Load(path); }
        catch (ArgumentException e) { throw new InvalidDataException($"config.init: {e.Message}", e); }
    }

    /// <summary>The colour loss's rebalancing weights: data.rebalancingWeights, else Zhang's ImageNet prior's.</summary>
    public static float[] RebalancingWeights(DataConfig data) =>
        (data.RebalancingWeights is null ? ColorPrior.ImageNet.RebalancingWeights() : PriorFiles.LoadWeights(data.RebalancingWeights))
        .Select(w => (float)w).ToArray();

    private static PatchDatasetOptions DataOptions(TrainConfig c, SatNetwork network, long start, IReadOnlyCollection<string> bad)
    {
        var extras = PatchExtras.None;
        if (network.Input == NetworkInput.LowResolution) extras |= PatchExtras.LowResolutionInput;
        if (network.Tasks.HasFlag(NetworkTasks.ColorRegression)) extras |= PatchExtras.AbTarget;
        return new PatchDatasetOptions
        {
            SatelliteInputs = c.Data.Satellite, NaturalInputs = c.Data.Natural, SatelliteFraction = c.Data.SatelliteFraction,
            PatchSize = c.Data.Patch, Stride = c.Data.Stride, Scale = network.Scale, BatchSize = c.Batch, Seed = c.Seed,
            Augmentation = c.Data.Augmentation, MaxPatchesPerImage = c.Data.MaxPatchesPerImage, ShuffleBuffer = c.Data.ShuffleBuffer,
            Workers = c.Data.Workers > 0 ? c.Data.Workers : Math.Max(1, Environment.ProcessorCount - 1),
            Extras = extras, AbScale = network.Normalization.AbScale, StartBatch = start, KnownBadFiles = bad,
            RebalancingWeights = c.Data.RebalancingWeights is null ? null : RebalancingWeights(c.Data).Select(w => (double)w).ToList(),
        };
    }

    private TrainingResult Run(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long clockStep = _step;
        while (_step < _config.Steps)
        {
            if (ct.IsCancellationRequested) return Stop();
            TrainingBatch batch;
            try { batch = _data.NextBatch(ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return Stop(); }
            if (batch.Index != _dataBatches) throw new InvalidOperationException($"train: got batch {batch.Index}, expected {_dataBatches} (a bug).");
            _hooks.Phase?.Invoke($"step {_step + 1}");
            double eta = _config.Loss.EtaAt(_step);
            var values = TrainStep(batch, (float)eta);
            _dataBatches++;
            _step++;
            for (int i = 0; i < values.Length; i++) _sums[i] += values[i];
            _summed++;
            double rate = _config.Batch * (_step - clockStep) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            _hooks.Progress?.Report(new TrainingProgress(_step, _config.Steps, _terms.Select((n, i) => (n, values[i + 1])).ToList(), values[0],
                                                         _optimizer.LearningRate, eta, rate));
            if (_step % _config.Intervals.Log == 0 || _step == _config.Steps)
            {
                _metrics.Append([_step, _optimizer.LearningRate, eta, .. _sums.Select(s => s / _summed), rate]);
                Array.Clear(_sums);
                _summed = 0;
            }
            bool validate = _validator is not null && _config.Intervals.Validate > 0 && (_step % _config.Intervals.Validate == 0 || _step == _config.Steps);
            if (validate)
            {
                _validator!.Run(_step, _run);
                Plots.Write(_run, _metrics, _validator.Log);
                _hooks.Progress?.Report(new TrainingProgress(_step, _config.Steps, [], values[0], _optimizer.LearningRate, eta, rate, _validator.LastSummary));
            }
            if (_step % _config.Intervals.Checkpoint == 0 || _step == _config.Steps) Checkpoint();
        }
        return new TrainingResult(TrainingOutcome.Completed, _step, _run);
    }

    private TrainingResult Stop()
    {
        Checkpoint();
        return new TrainingResult(TrainingOutcome.Cancelled, _step, _run);
    }

    // One optimizer step; returns [total, term...] as read back (the one wait for the device per step).
    private double[] TrainStep(TrainingBatch batch, float eta)
    {
        using var scope = new TensorScope();
        _network.Train();
        var input = _network.Input == NetworkInput.LowResolution
            ? Tensor.FromArray(batch.LowResInput!, batch.LowResInputShape, _backend)
            : Tensor.FromArray(batch.Input, batch.InputShape, _backend);
        var tasks = _network.Tasks;
        var targets = new LossTargets(
            tasks.HasFlag(NetworkTasks.SuperResolution) ? Tensor.FromArray(batch.SrTarget, batch.SrTargetShape, _backend) : null,
            tasks.HasFlag(NetworkTasks.ColorClassification) ? Tensor.FromArray(batch.ColorTarget, batch.ColorTargetShape, _backend) : null,
            tasks.HasFlag(NetworkTasks.ColorClassification) ? Tensor.FromArray(batch.Weights, batch.WeightsShape, _backend) : null,
            tasks.HasFlag(NetworkTasks.ColorRegression) ? Tensor.FromArray(batch.AbTarget!, batch.AbTargetShape, _backend) : null);
        _optimizer.ZeroGrad();
        var loss = TrainingLoss.Compute(tasks, _network.Forward(input), targets, eta);
        var values = new double[loss.Terms.Count + 1];
        for (int i = 0; i < loss.Terms.Count; i++)
        {
            values[i + 1] = loss.Terms[i].Value.Item();
            if (!double.IsFinite(values[i + 1]))
                throw new TrainingDivergedException(_step + 1, $"loss term '{loss.Terms[i].Name}' is {values[i + 1]}");
        }
        values[0] = loss.Total.Item();
        if (!double.IsFinite(values[0])) throw new TrainingDivergedException(_step + 1, $"the total loss is {values[0]}");
        loss.Total.Backward(releaseIntermediates: true);
        CheckGradients();
        _optimizer.Step();
        _schedule.Step();
        return values;
    }

    // One sum of squares over every gradient on the device; only when it is not finite are the gradients read to name one.
    private void CheckGradients()
    {
        using var total = _backend.Allocate(1);
        using var part = _backend.Allocate(1);
        _backend.Fill(total, 0f);
        foreach (var (_, p) in _named)
        {
            if (p.Grad is null) continue;
            _backend.SumOfSquares(p.Grad.Buffer, part);
            _backend.Axpy(1f, part, total);
        }
        var host = new float[1];
        _backend.Download(total, host);
        if (float.IsFinite(host[0])) return;
        foreach (var (name, p) in _named)
        {
            if (p.Grad is null) continue;
            var g = p.Grad.ToArray();
            int bad = Array.FindIndex(g, v => !float.IsFinite(v));
            if (bad >= 0) throw new TrainingDivergedException(_step + 1, $"the gradient of parameter '{name}' is {g[bad]} at element {bad}");
        }
        throw new TrainingDivergedException(_step + 1, "the gradients are finite but their squared norm overflows float");
    }

    private void Checkpoint()
    {
        if (_step == _savedStep) return; // e.g. cancelled right after a checkpoint
        _savedStep = _step;
        var state = new TrainingState
        {
            Step = _step, Eta = _config.Loss.EtaAt(_step), SchedulerEpoch = _schedule.LastEpoch, LearningRate = _optimizer.LearningRate,
            DataBatches = _dataBatches, BadFiles = _data.BadFiles, MetricRows = _metrics.Rows.Count, ValidationRows = _validator?.Log.Rows.Count ?? 0,
            IntervalSums = _sums.ToArray(), IntervalSteps = _summed,
        };
        var metadata = new Dictionary<string, string>
        {
            ["step"] = _step.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["run_seed"] = _config.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        _store.Write(_step,
                     path => _models.SaveWeights(path, _network, _config.Model, _modelConfig, metadata),
                     path => _optimizer.SaveState(path, _named),
                     state, _config.KeepLast);
        _hooks.Progress?.Report(new TrainingProgress(_step, _config.Steps, [], double.NaN, _optimizer.LearningRate, state.Eta, 0,
                                                     $"checkpoint {CheckpointStore.WeightsName(_step)}"));
    }

    public void Dispose()
    {
        _data.Dispose();
        _optimizer.Dispose();
        _network.Dispose();
    }
}
