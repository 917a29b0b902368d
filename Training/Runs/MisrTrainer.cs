using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ILGpuSat.Common;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Misr;
using ILGpuSat.Training.Data;
using ILGpuSat.Training.Losses;

namespace ILGpuSat.Training.Runs;

/// <summary>DeepSUM's three training stages, in order.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MisrStage>))]
public enum MisrStage
{
    /// <summary>SISRNet alone with a one-channel head, the shift-searching loss on each frame (over pixels clear in the HR and in that frame).</summary>
    Sisr,
    /// <summary>RegNet on frozen SISRNet features: cross-entropy against the ideal filter (a delta at the true shift).</summary>
    Reg,
    /// <summary>The whole network, the shift-searching loss on the fused SR.</summary>
    Joint,
}

/// <summary>One DeepSUM training run: written as RUN/config.json before the first step (docs/misr.md lists the keys).</summary>
public sealed record MisrTrainConfig
{
    public MisrStage Stage { get; init; } = MisrStage.Joint;

    /// <summary>Folders or files of HR source images (colour is reduced to luminance); a held-out share is kept for validation.</summary>
    public IReadOnlyList<string> Data { get; init; } = [];

    public DeepSumConfig Model { get; init; } = new();

    public MisrSimulatorOptions Simulator { get; init; } = new();

    /// <summary>Share of source files held out (by file name) for validation scenes.</summary>
    public double HeldOut { get; init; } = 0.1;

    public int Batch { get; init; } = 4;

    public long Steps { get; init; } = 1000;

    /// <summary>Adam's learning rate (the authors: 5e-5 for SISRNet, 1e-3 for RegNet, 5e-6 end to end).</summary>
    public double Lr { get; init; } = 1e-4;

    /// <summary>Weights to start from (the previous stage's checkpoint); null = the seeded initialisation. Names match by key.</summary>
    public string? Init { get; init; }

    public int Seed { get; init; } = 1;

    public int LogInterval { get; init; } = 10;

    public int ValidateInterval { get; init; } = 100;

    public int ValidationScenes { get; init; } = 8;

    public int CheckpointInterval { get; init; } = 50;

    public int KeepLast { get; init; } = 2;

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public MisrTrainConfig Validate()
    {
        static void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ArgumentException($"misr config: {key} {problem}");
        }
        Model.Validate();
        Simulator.Validate();
        Check(Data.Count > 0, "data", "names no source folder.");
        Check(Model.Frames == Simulator.Frames, "model.frames / simulator.frames", $"must agree, got {Model.Frames} and {Simulator.Frames}.");
        Check(Batch >= 1 && Steps >= 1, "batch / steps", "must be positive.");
        Check(Lr > 0 && double.IsFinite(Lr), "lr", $"must be positive, got {Lr}.");
        Check(HeldOut is > 0 and < 1, "heldOut", $"must lie in (0, 1), got {HeldOut}.");
        Check(LogInterval >= 1 && ValidateInterval >= 0 && CheckpointInterval >= 1 && KeepLast >= 1 && ValidationScenes >= 1, "intervals", "must be positive (validateInterval 0 = never).");
        Check(Init is null || File.Exists(Init), "init", $"names a file that does not exist: {Init}.");
        return this;
    }
}

/// <summary>
/// Trains DeepSUM's stages on simulated scenes (<see cref="MisrBatches"/>): Adam, the stage's loss, metrics.csv,
/// validation on held-out scenes (validation.csv: cPSNR of the stage's output beside the challenge baseline and the
/// clearest look's bicubic; for RegNet, the share of filters whose peak is the true shift), checkpoints that a
/// resumed run continues from (<see cref="CheckpointStore"/>, the same layout as the single-image trainer).
/// </summary>
public sealed class MisrTrainer : IDisposable
{
    public const string ConfigName = RunFolder.ConfigName;

    private readonly MisrTrainConfig _config;
    private readonly Backend _backend;
    private readonly DeepSum _net;
    private readonly SisrPretrainer? _pretrainer;
    private readonly Module _trained;
    private readonly List<(string Name, Tensor Tensor)> _named;
    private readonly Adam _optimizer;
    private readonly MisrBatches _train, _heldOut;
    private readonly CheckpointStore _store;
    private readonly MetricsLog _metrics, _validation;
    private long _step;
    private double _sum;
    private int _summed;

    private MisrTrainer(MisrTrainConfig config, string run, Backend backend, TrainingState? resume, string? weights, string? optimizerState)
    {
        _config = config;
        _backend = backend;
        _net = new DeepSum(backend, config.Seed, config.Model);
        if (config.Stage == MisrStage.Sisr)
        {
            _pretrainer = new SisrPretrainer(_net.Sisr, backend, new Random(config.Seed + 1), config.Model);
            _trained = _pretrainer;
        }
        else _trained = config.Stage == MisrStage.Reg ? _net.Reg : _net;
        if (weights is not null) LoadWeights(weights, resuming: true);
        else if (config.Init is not null) LoadWeights(config.Init, resuming: false);
        _named = _trained.NamedParameters().ToList();
        _optimizer = new Adam(_trained.Parameters(), (float)config.Lr);
        var files = ImageCatalog.ListImageFiles(config.Data);
        var (trainFiles, heldFiles) = MisrBatches.Split(files, config.HeldOut);
        if (heldFiles.Count == 0) heldFiles = [trainFiles[^1]];
        _train = new MisrBatches(trainFiles, config.Simulator, config.Seed, config.Model.Mean, config.Model.Std);
        _heldOut = new MisrBatches(heldFiles, config.Simulator, config.Seed + 7919, config.Model.Mean, config.Model.Std);
        _store = new CheckpointStore(run);
        _metrics = MetricsLog.Open(Path.Combine(run, "metrics.csv"), ["step", "loss"], resume?.MetricRows ?? 0);
        _validation = MetricsLog.Open(Path.Combine(run, "validation.csv"), ["step", "score", "cpsnr", "cpsnr_baseline", "cpsnr_clearest"], resume?.ValidationRows ?? 0);
        if (resume is not null)
        {
            _optimizer.LoadState(optimizerState!, _named);
            _step = resume.Step;
            _sum = resume.IntervalSums.Count > 0 ? resume.IntervalSums[0] : 0;
            _summed = resume.IntervalSteps;
        }
    }

    public DeepSum Network => _net;

    public static long Start(MisrTrainConfig config, string run, Backend backend, Action<string>? report = null, CancellationToken ct = default)
    {
        config.Validate();
        RunFolder.Begin(run, config, MisrTrainConfig.JsonOptions);
        using var trainer = new MisrTrainer(config, run, backend, null, null, null);
        return trainer.Run(report, ct);
    }

    public static long Resume(string run, Backend backend, Action<string>? report = null, CancellationToken ct = default)
    {
        var config = RunFolder.ReadConfig<MisrTrainConfig>(run, MisrTrainConfig.JsonOptions).Validate();
        var store = new CheckpointStore(run);
        var (pointer, state) = store.ReadLatest();
        using var trainer = new MisrTrainer(config, run, backend, state, Path.Combine(store.Folder, CheckpointStore.WeightsName(pointer.Step)),
                                            Path.Combine(store.Folder, CheckpointStore.OptimizerName(pointer.Step)));
        return trainer.Run(report, ct);
    }

    // Checkpoints hold the whole DeepSUM state dict (sisr.*, reg.*, fusion.*) and, from the SISRNet stage, head.*: a
    // resumed run needs every tensor of its own stage; config.init (the previous stage) loads what it has by name.
    private void LoadWeights(string path, bool resuming)
    {
        var loaded = Engine.IO.SafeTensors.Load(path, _backend);
        try
        {
            var netKeys = _net.StateDict().Keys.ToHashSet(StringComparer.Ordinal);
            var forNet = loaded.Where(kv => netKeys.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
            _net.LoadStateDict(forNet, strict: false);
            int head = 0;
            if (_pretrainer is not null)
            {
                var forHead = loaded.Where(kv => kv.Key.StartsWith(DeepSumFile.HeadPrefix, StringComparison.Ordinal))
                                    .ToDictionary(kv => kv.Key[DeepSumFile.HeadPrefix.Length..], kv => kv.Value);
                if (forHead.Count > 0) _pretrainer.Head.LoadStateDict(forHead, strict: true);
                head = forHead.Count;
            }
            string stagePrefix = _config.Stage switch { MisrStage.Sisr => "sisr.", MisrStage.Reg => "reg.", _ => "" };
            var missing = netKeys.Where(k => k.StartsWith(stagePrefix, StringComparison.Ordinal) && !forNet.ContainsKey(k)).ToList();
            if (resuming && (missing.Count > 0 || (_pretrainer is not null && head == 0)))
                throw new InvalidDataException($"{path}: the checkpoint lacks {(missing.Count > 0 ? string.Join(", ", missing.Take(4)) : "the SISRNet head")}.");
            if (!resuming && forNet.Count == 0)
                throw new InvalidDataException($"{path}: config.init holds no DeepSUM weight (sisr.*, reg.*, fusion.*).");
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    private long Run(Action<string>? report, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        long clockStep = _step; // a resumed run's rate counts its own steps only
        while (_step < _config.Steps && !ct.IsCancellationRequested)
        {
            var batch = _train.Batch(_step, _config.Batch);
            double loss = TrainStep(batch);
            if (!double.IsFinite(loss)) throw new TrainingDivergedException(_step + 1, $"step {_step + 1}: the {_config.Stage} loss is {loss}.");
            _step++;
            _sum += loss;
            _summed++;
            if (_step % _config.LogInterval == 0 || _step == _config.Steps)
            {
                _metrics.Append([_step, _sum / _summed]);
                report?.Invoke($"step {_step}/{_config.Steps}  loss {_sum / _summed:G4}  {_config.Batch * (_step - clockStep) / clock.Elapsed.TotalSeconds:F2} scenes/s");
                _sum = 0;
                _summed = 0;
            }
            if (_config.ValidateInterval > 0 && (_step % _config.ValidateInterval == 0 || _step == _config.Steps))
            {
                string summary = Validate();
                report?.Invoke(summary);
            }
            if (_step % _config.CheckpointInterval == 0 || _step == _config.Steps) Checkpoint();
        }
        if (_step < _config.Steps) Checkpoint();
        return _step;
    }

    private double TrainStep(MisrBatch b)
    {
        using var scope = new TensorScope();
        _trained.Train();
        _optimizer.ZeroGrad();
        var loss = Loss(b);
        loss.Backward(releaseIntermediates: true);
        _optimizer.Step();
        return loss.Item();
    }

    private Tensor Loss(MisrBatch b)
    {
        int n = b.Count, t = b.FrameCount, side = b.Side, hw = side * side;
        var frames = Tensor.FromArray(b.Frames, b.FramesShape, _backend);
        switch (_config.Stage)
        {
            case MisrStage.Sisr:
            {
                var sr = _pretrainer!.Forward(F.Reshape(frames, n * t, 1, side, side));
                var hr = new float[(long)n * t * hw];
                var clear = new bool[hr.Length];
                // Each frame is scored where the HR is clear and the frame itself is (its own clouds cannot be seen through).
                for (int i = 0; i < n; i++)
                    for (int k = 0; k < t; k++)
                    {
                        Array.Copy(b.HighRes, i * hw, hr, (i * t + k) * hw, hw);
                        for (int p = 0; p < hw; p++)
                            clear[(i * t + k) * hw + p] = b.Status[i * hw + p] && b.Masks[((long)i * t + k) * hw + p] > 0.5f;
                    }
                return ShiftedClearMse.Compute(sr, hr, clear).Loss;
            }
            case MisrStage.Reg:
            {
                Tensor features;
                using (Autograd.NoGrad()) features = _net.Features(frames);
                var logits = _net.Reg.Logits(features);
                var (target, weights) = IdealFilters(b);
                return F.SoftCrossEntropy(logits, Tensor.FromArray(target, logits.Shape, _backend), Tensor.FromArray(weights, [logits.Size(0), 1, 1, 1], _backend));
            }
            default:
            {
                var masks = Tensor.FromArray(b.Masks, b.FramesShape, _backend);
                var sr = _net.Forward(frames, masks).Sr;
                return ShiftedClearMse.Compute(sr, b.HighRes, b.Status).Loss;
            }
        }
    }

    /// <summary>
    /// One-hot targets for RegNet: the tap that moves frame k onto frame 0. Frame k's content at x is frame 0's at
    /// x + shift, and a delta at centre + d makes the cross-correlation read x + d, so d = -round(shift); frames whose
    /// shift rounds outside the filter get weight 0.
    /// </summary>
    private (float[] Target, float[] Weights) IdealFilters(MisrBatch b)
    {
        int k = _config.Model.FilterSize, t = b.FrameCount, m = b.Count * (t - 1);
        var target = new float[m * k * k];
        var weights = new float[m];
        for (int i = 0; i < b.Count; i++)
            for (int j = 1; j < t; j++)
            {
                var (dx, dy) = b.ShiftsToReference[i][j];
                int sample = i * (t - 1) + j - 1;
                if (MisrBatches.RegistrationTap(dx, dy, k) is not var (row, col)) continue;
                target[sample * k * k + row * k + col] = 1f;
                weights[sample] = 1f;
            }
        return (target, weights);
    }

    /// <summary>Held-out scenes: cPSNR (intensities back in [0, 1]) of the stage's output, the challenge baseline and the clearest bicubic.</summary>
    private string Validate()
    {
        _trained.Eval();
        double ours = 0, baseline = 0, clearest = 0, score = 0;
        int scenes = _config.ValidationScenes;
        try
        {
            using var noGrad = Autograd.NoGrad();
            for (int s = 0; s < scenes; s++)
            {
                using var scope = new TensorScope();
                var sim = _heldOut.Scene(-1 - s, 0);
                var scene = sim.Scene;
                var b = _heldOut.BatchOf([sim]); // the same scene, simulated once
                var hr = scene.HighRes!;
                int side = scene.HrWidth, scale = scene.Scale;
                double cb = ClearPsnr.Compute(ProbaVBaseline.ChallengeBaseline(scene, scale), hr, scene.Status!, side, side).CPsnr;
                double cc = ClearPsnr.Compute(ProbaVBaseline.ClearestBicubic(scene, scale), hr, scene.Status!, side, side).CPsnr;
                double co = _config.Stage == MisrStage.Reg ? FilterAccuracy(b) : ClearPsnr.Compute(Output(b), hr, scene.Status!, side, side).CPsnr;
                ours += co;
                baseline += cb;
                clearest += cc;
                score += _config.Stage == MisrStage.Reg ? 0 : ClearPsnr.Score(co, cb);
            }
        }
        finally { _trained.Train(); }
        _validation.Append([_step, score / scenes, ours / scenes, baseline / scenes, clearest / scenes]);
        return _config.Stage == MisrStage.Reg
            ? $"{_step}: validation: filters at the true shift {100 * ours / scenes:F1}% (baseline cPSNR {baseline / scenes:F2} dB)"
            : $"{_step}: validation: cPSNR {ours / scenes:F2} dB, baseline {baseline / scenes:F2}, clearest bicubic {clearest / scenes:F2}, score {score / scenes:F4}";
    }

    // The stage's SR of a one-scene batch, de-standardised to [0, 1]: SISRNet's of the clearest frame, or DeepSUM's.
    private float[] Output(MisrBatch b)
    {
        var frames = Tensor.FromArray(b.Frames, b.FramesShape, _backend);
        Tensor sr = _config.Stage == MisrStage.Sisr
            ? _pretrainer!.Forward(F.Reshape(F.Narrow(frames, 1, 0, 1), 1, 1, b.Side, b.Side))
            : _net.Forward(frames, Tensor.FromArray(b.Masks, b.FramesShape, _backend)).Sr;
        var m = _config.Model;
        return sr.ToArray().Select(v => v * m.Std + m.Mean).ToArray();
    }

    private double FilterAccuracy(MisrBatch b)
    {
        int t = b.FrameCount, k = _config.Model.FilterSize;
        var logits = _net.Reg.Logits(_net.Features(Tensor.FromArray(b.Frames, b.FramesShape, _backend))).ToArray();
        var (target, weights) = IdealFilters(b);
        int hit = 0, count = 0;
        for (int j = 0; j < t - 1; j++)
        {
            if (weights[j] == 0) continue;
            count++;
            int arg = 0;
            for (int q = 1; q < k * k; q++) if (logits[j * k * k + q] > logits[j * k * k + arg]) arg = q;
            if (target[j * k * k + arg] == 1f) hit++;
        }
        return count == 0 ? 0 : (double)hit / count;
    }

    private void Checkpoint()
    {
        var state = new TrainingState
        {
            Step = _step, Eta = 0, SchedulerEpoch = 0, LearningRate = (float)_config.Lr, DataBatches = _step, BadFiles = [],
            MetricRows = _metrics.Rows.Count, ValidationRows = _validation.Rows.Count, IntervalSums = [_sum], IntervalSteps = _summed,
        };
        _store.Write(_step, path => SaveWeights(path), path => _optimizer.SaveState(path, _named), state, _config.KeepLast);
    }

    // The whole DeepSUM state dict (sisr.*, reg.*, fusion.*) plus the SISRNet stage's head, so each stage's
    // checkpoint can start the next one.
    private void SaveWeights(string path)
    {
        var state = new Dictionary<string, Tensor>(_net.StateDict());
        if (_pretrainer is not null)
            foreach (var (name, t) in _pretrainer.Head.StateDict()) state[DeepSumFile.HeadPrefix + name] = t;
        var metadata = new Dictionary<string, string>
        {
            [ModelFile.ModelKey] = DeepSumFile.ModelName, [DeepSumFile.StageKey] = _config.Stage.ToString(), ["step"] = _step.ToString(CultureInfo.InvariantCulture),
            [ModelFile.ConfigKey] = DeepSumFile.ConfigJson(_config.Model),
            [DeepSumFile.ScaleKey] = _config.Simulator.Scale.ToString(CultureInfo.InvariantCulture),
            [DeepSumFile.SimulatorKey] = JsonSerializer.Serialize(_config.Simulator, MisrTrainConfig.JsonOptions),
        };
        Engine.IO.SafeTensors.Save(path, state, metadata);
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _pretrainer?.Head.Dispose();
        _net.Dispose();
    }
}
