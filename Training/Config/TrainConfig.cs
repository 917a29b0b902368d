using System.Text.Json;
using System.Text.Json.Serialization;

namespace ILGpuSat.Training.Config;

/// <summary>
/// Everything a training run is: one record, written as JSON into the run folder before the first step
/// (<c>config.json</c>) so a run can be resumed and reread. Defaults are the paper's recipe
/// (docs/training.md lists every key; ../shared/docs/liu2018-reference.md is the reading of the paper).
/// </summary>
public sealed record TrainConfig
{
    /// <summary>Model name in the catalog (liu2018, liu2018-sr, liu2018-color, srcnn, recurrent-residual, regression-ed).</summary>
    public string Model { get; init; } = "liu2018";

    /// <summary>The model's own settings as the catalog parses them; null = the model's defaults.</summary>
    public JsonElement? ModelConfig { get; init; }

    public DataConfig Data { get; init; } = new();

    public OptimizerConfig Optimizer { get; init; } = new();

    public ScheduleConfig Schedule { get; init; } = new();

    public LossConfig Loss { get; init; } = new();

    /// <summary>Patches per step (the paper: 32).</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Optimizer steps of the whole run (the paper ran about 1.3M).</summary>
    public long Steps { get; init; } = 1_300_000;

    public IntervalConfig Intervals { get; init; } = new();

    /// <summary>Checkpoints kept; older ones are deleted once the pointer names a newer one.</summary>
    public int KeepLast { get; init; } = 3;

    /// <summary>Seeds the weights (LayerFactory) and the data stream.</summary>
    public int Seed { get; init; }

    /// <summary>cpu, cuda or auto.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>
    /// Weights the run starts from instead of the seeded initialisation: a checkpoint's weights file or an ilgpusat
    /// model file of the same model and config (every tensor must fit; batch-norm statistics included). The optimizer
    /// state, the schedule and the step start fresh; null = the seeded He initialisation. BasicSR's pretrain_network.
    /// </summary>
    public string? Init { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first key whose value cannot work.</summary>
    public TrainConfig Validate()
    {
        static void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ArgumentException($"config: {key} {problem}");
        }
        Check(!string.IsNullOrWhiteSpace(Model), "model", "must name a model of the catalog.");
        Check(Data.Satellite.Count + Data.Natural.Count > 0, "data.satellite / data.natural", "give no training folder (use --data and --natural).");
        Check(Data.Patch >= 4 && Data.Patch % 4 == 0, "data.patch", $"must be a positive multiple of 4, got {Data.Patch}.");
        Check(Data.Stride >= 1, "data.stride", $"must be positive, got {Data.Stride}.");
        Check(Data.SatelliteFraction is >= 0 and <= 1, "data.satelliteFraction", $"must lie in [0, 1], got {Data.SatelliteFraction}.");
        Check(Data.Workers >= 0, "data.workers", $"must be >= 0 (0 = one per core but one), got {Data.Workers}.");
        Check(Data.MaxPatchesPerImage >= 0, "data.maxPatchesPerImage", $"must be >= 0, got {Data.MaxPatchesPerImage}.");
        Check(Data.ShuffleBuffer >= 1, "data.shuffleBuffer", $"must be positive, got {Data.ShuffleBuffer}.");
        Check(Data.ValidationImages >= 1, "data.validationImages", $"must be positive, got {Data.ValidationImages}.");
        Check(Data.ValidationSize >= 8 && Data.ValidationSize % 4 == 0, "data.validationSize", $"must be a multiple of 4 of at least 8, got {Data.ValidationSize}.");
        Check(Optimizer.Lr > 0 && double.IsFinite(Optimizer.Lr), "optimizer.lr", $"must be positive, got {Optimizer.Lr}.");
        Check(Optimizer.Beta1 is >= 0 and < 1 && Optimizer.Beta2 is >= 0 and < 1, "optimizer.beta1/beta2", $"must lie in [0, 1), got {Optimizer.Beta1}, {Optimizer.Beta2}.");
        Check(Optimizer.Eps >= 0, "optimizer.eps", $"must be >= 0, got {Optimizer.Eps}.");
        Check(Optimizer.WeightDecay >= 0, "optimizer.weightDecay", $"must be >= 0, got {Optimizer.WeightDecay}.");
        Check(Schedule.StepSize >= 1, "schedule.stepSize", $"must be positive, got {Schedule.StepSize}.");
        Check(Schedule.Gamma > 0, "schedule.gamma", $"must be positive, got {Schedule.Gamma}.");
        Check(Loss.Eta >= 0 && Loss.RaisedEta >= 0, "loss.eta/raisedEta", $"must be >= 0, got {Loss.Eta}, {Loss.RaisedEta}.");
        Check(Loss.RaiseEtaAtStep >= 0, "loss.raiseEtaAtStep", $"must be >= 0, got {Loss.RaiseEtaAtStep}.");
        Check(Batch >= 1, "batch", $"must be positive, got {Batch}.");
        Check(Steps >= 1, "steps", $"must be positive, got {Steps}.");
        Check(Intervals.Log >= 1, "intervals.log", $"must be positive, got {Intervals.Log}.");
        Check(Intervals.Validate >= 0, "intervals.validate", $"must be >= 0 (0 = never), got {Intervals.Validate}.");
        Check(Intervals.Checkpoint >= 1, "intervals.checkpoint", $"must be positive, got {Intervals.Checkpoint}.");
        Check(KeepLast >= 1, "keepLast", $"must be positive, got {KeepLast}.");
        Check(Device is "cpu" or "cuda" or "auto", "device", $"must be cpu, cuda or auto, got '{Device}'.");
        Check(Init is null || File.Exists(Init), "init", $"names a weights file that does not exist: {Init}.");
        Check(Data.RebalancingWeights is null || File.Exists(Data.RebalancingWeights), "data.rebalancingWeights",
              $"names a file that does not exist: {Data.RebalancingWeights}.");
        return this;
    }

    /// <summary>The strict reader: unknown keys, wrong types and trailing data are errors that name the key.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
        RespectNullableAnnotations = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
    };

    public static TrainConfig Parse(string json, string source = "config")
    {
        TrainConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<TrainConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            // System.Text.Json names the key in its message ("The JSON property 'x' could not be mapped ...") and the path.
            throw new ArgumentException($"{source}: {e.Message}", e);
        }
        return config ?? throw new ArgumentException($"{source}: the file holds null, not a configuration object.");
    }

    public static TrainConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"config: '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}

public sealed record DataConfig
{
    /// <summary>Folders (recursive) or files of satellite images.</summary>
    public IReadOnlyList<string> Satellite { get; init; } = [];

    /// <summary>Folders or files of natural images.</summary>
    public IReadOnlyList<string> Natural { get; init; } = [];

    /// <summary>Held-out folder of HR colour images; null = no validation.</summary>
    public string? Validation { get; init; }

    public int Patch { get; init; } = 96;

    public int Stride { get; init; } = 27;

    public double SatelliteFraction { get; init; } = 0.5;

    /// <summary>Data threads; 0 = one per core but one. Batches do not depend on it.</summary>
    public int Workers { get; init; }

    public int MaxPatchesPerImage { get; init; } = 32;

    public int ShuffleBuffer { get; init; } = 1024;

    public Data.Augmentation Augmentation { get; init; } = Data.Augmentation.RandomOne;

    /// <summary>Validation images used (the first ones in path order).</summary>
    public int ValidationImages { get; init; } = 8;

    /// <summary>Side of the centred HR crop of each validation image.</summary>
    public int ValidationSize { get; init; } = 192;

    /// <summary>
    /// The 313 rebalancing weights of the colour loss (.npy or .txt, as the <c>prior</c> command writes P_weights):
    /// the fused satellite + ImageNet prior of the reference. Null = Zhang's ImageNet prior (lambda 0.5).
    /// Training and validation use the same weights.
    /// </summary>
    public string? RebalancingWeights { get; init; }
}

public enum OptimizerKind { Adam, AdamW }

public sealed record OptimizerConfig
{
    public OptimizerKind Kind { get; init; } = OptimizerKind.Adam;

    public double Lr { get; init; } = 1e-3;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Eps { get; init; } = 1e-8;

    /// <summary>L2 penalty for Adam (Caffe's weight_decay, the paper's), decoupled for AdamW.</summary>
    public double WeightDecay { get; init; } = 1e-4;
}

/// <summary>StepLR: lr x gamma every stepSize steps.</summary>
public sealed record ScheduleConfig
{
    public int StepSize { get; init; } = 100_000;

    public double Gamma { get; init; } = 0.316;
}

/// <summary>Weight eta of the colour term (Eq. 7): eta until raiseEtaAtStep, raisedEta from there on.</summary>
public sealed record LossConfig
{
    public double Eta { get; init; } = 1.0;

    public double RaisedEta { get; init; } = 1.5;

    /// <summary>The paper raises eta "once the gradients become small" without a step; 500k is this project's reading.</summary>
    public long RaiseEtaAtStep { get; init; } = 500_000;

    public double EtaAt(long step) => step >= RaiseEtaAtStep ? RaisedEta : Eta;
}

public sealed record IntervalConfig
{
    /// <summary>Steps between rows of metrics.csv.</summary>
    public int Log { get; init; } = 100;

    /// <summary>Steps between validations (0 = never).</summary>
    public int Validate { get; init; } = 5_000;

    public int Checkpoint { get; init; } = 5_000;
}

/// <summary>Values given on the command line; each non-null one replaces the file's.</summary>
public sealed record TrainOverrides
{
    public string? Model { get; init; }
    public IReadOnlyList<string>? Satellite { get; init; }
    public IReadOnlyList<string>? Natural { get; init; }
    public string? Validation { get; init; }
    public string? Device { get; init; }
    public long? Steps { get; init; }
    public int? Batch { get; init; }

    public TrainConfig ApplyTo(TrainConfig config) => config with
    {
        Model = Model ?? config.Model,
        // A different model's settings would not parse: a model named here starts from its defaults.
        ModelConfig = Model is not null && Model != config.Model ? null : config.ModelConfig,
        Device = Device ?? config.Device,
        Steps = Steps ?? config.Steps,
        Batch = Batch ?? config.Batch,
        Data = config.Data with
        {
            Satellite = Satellite is { Count: > 0 } ? Satellite : config.Data.Satellite,
            Natural = Natural is { Count: > 0 } ? Natural : config.Data.Natural,
            Validation = Validation ?? config.Data.Validation,
        },
    };
}
