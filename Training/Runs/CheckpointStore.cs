using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using ILGpuSat.Common;

namespace ILGpuSat.Training.Runs;

/// <summary>What the pointer file says: the step and the files of the latest complete checkpoint, with their SHA-256.</summary>
public sealed record CheckpointPointer(long Step, IReadOnlyList<CheckpointFile> Files);

public sealed record CheckpointFile(string Name, long Bytes, string Sha256);

/// <summary>
/// The checkpoints of a run folder: per checkpoint <c>step-NNNNNNN.safetensors</c> (the weights, what inference
/// loads), <c>step-NNNNNNN.optim.safetensors</c> (optimizer moments by parameter name) and
/// <c>step-NNNNNNN.state.json</c> (the rest of the training state); then <c>latest.json</c>, written last and
/// atomically, names them with sizes and checksums. Every file is written atomically, so a kill at any
/// instant leaves the pointer naming a complete, checked set; files of a set the pointer never named are
/// leftovers and are removed. Only the last K sets are kept, older ones deleted after the pointer moved.
/// </summary>
public sealed partial class CheckpointStore
{
    public const string PointerName = "latest.json";

    public CheckpointStore(string runFolder) => Folder = Path.Combine(runFolder, "checkpoints");

    public string Folder { get; }

    public string PointerPath => Path.Combine(Folder, PointerName);

    public static string WeightsName(long step) => $"step-{step.ToString("D7", CultureInfo.InvariantCulture)}.safetensors";

    public static string OptimizerName(long step) => $"step-{step.ToString("D7", CultureInfo.InvariantCulture)}.optim.safetensors";

    /// <summary>The optimizer file of one of several networks trained together (the GAN's generator and discriminator).</summary>
    public static string OptimizerName(long step, string part) => $"step-{step.ToString("D7", CultureInfo.InvariantCulture)}.optim-{part}.safetensors";

    public static string StateName(long step) => $"step-{step.ToString("D7", CultureInfo.InvariantCulture)}.state.json";

    /// <summary>Called between the phases of a write (tests kill the process there): "weights", "optimizer", "state", "pointer".</summary>
    public Action<string>? PhaseWritten { get; set; }

    /// <summary>
    /// Writes one checkpoint: <paramref name="writeWeights"/> and <paramref name="writeOptimizer"/> get the target
    /// paths (they write atomically), the state goes to JSON, then the pointer moves, then old sets go.
    /// </summary>
    public CheckpointPointer Write(long step, Action<string> writeWeights, Action<string> writeOptimizer, TrainingState state, int keepLast)
        => Write(step, writeWeights, [(null, writeOptimizer)], state, keepLast);

    /// <summary>
    /// <see cref="Write(long, Action{string}, Action{string}, TrainingState, int)"/> for several optimizers, each
    /// with its own file (<see cref="OptimizerName(long, string)"/>; a null part is the single optimizer's name).
    /// </summary>
    public CheckpointPointer Write(long step, Action<string> writeWeights, IReadOnlyList<(string? Part, Action<string> Write)> optimizers,
                                   TrainingState state, int keepLast)
    {
        ArgumentNullException.ThrowIfNull(optimizers);
        if (optimizers.Count == 0) throw new ArgumentException("checkpoint: no optimizer to save.");
        Directory.CreateDirectory(Folder);
        string weights = Path.Combine(Folder, WeightsName(step)), stateFile = Path.Combine(Folder, StateName(step));
        writeWeights(weights);
        PhaseWritten?.Invoke("weights");
        var optimizerFiles = new List<string>();
        foreach (var (part, write) in optimizers)
        {
            string path = Path.Combine(Folder, part is null ? OptimizerName(step) : OptimizerName(step, part));
            write(path);
            optimizerFiles.Add(path);
        }
        PhaseWritten?.Invoke("optimizer");
        AtomicFile.WriteAllText(stateFile, JsonSerializer.Serialize(state, TrainingState.JsonOptions));
        PhaseWritten?.Invoke("state");
        var pointer = new CheckpointPointer(step, [Describe(weights), .. optimizerFiles.Select(Describe), Describe(stateFile)]);
        AtomicFile.WriteAllText(PointerPath, JsonSerializer.Serialize(pointer, TrainingState.JsonOptions));
        PhaseWritten?.Invoke("pointer");
        Prune(step, keepLast);
        return pointer;
    }

    /// <summary>The steps of the checkpoint sets present (complete or not), ascending.</summary>
    public IReadOnlyList<long> StepsOnDisk()
    {
        if (!Directory.Exists(Folder)) return [];
        return Directory.EnumerateFiles(Folder, "step-*")
            .Select(f => StepPattern().Match(Path.GetFileName(f)))
            .Where(m => m.Success)
            .Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Distinct().Order().ToList();
    }

    // Keeps the newest keepLast sets up to the pointer's step; deletes older sets and leftovers of sets never named.
    private void Prune(long pointerStep, int keepLast)
    {
        var steps = StepsOnDisk();
        var keep = steps.Where(s => s <= pointerStep).TakeLast(keepLast).ToHashSet();
        foreach (long s in steps)
        {
            if (keep.Contains(s)) continue;
            string prefix = $"step-{s.ToString("D7", CultureInfo.InvariantCulture)}.";
            foreach (var path in Directory.EnumerateFiles(Folder, prefix + "*").Where(f => StepPattern().IsMatch(Path.GetFileName(f))).ToList())
            {
                try { File.Delete(path); }
                catch (IOException) { } // pruning again at the next checkpoint is enough
            }
        }
    }

    /// <summary>
    /// Reads the pointer and checks every file it names (present, same size, same SHA-256); any problem is an
    /// <see cref="InvalidDataException"/> that names the file and what is wrong.
    /// </summary>
    public (CheckpointPointer Pointer, TrainingState State) ReadLatest()
    {
        if (!File.Exists(PointerPath))
            throw new InvalidDataException($"resume: {PointerPath} does not exist: the run has no complete checkpoint to resume from.");
        CheckpointPointer? pointer;
        try
        {
            pointer = JsonSerializer.Deserialize<CheckpointPointer>(File.ReadAllText(PointerPath), TrainingState.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"resume: {PointerPath} is not a checkpoint pointer: {e.Message}", e);
        }
        if (pointer is null || pointer.Files.Count < 3)
            throw new InvalidDataException($"resume: {PointerPath} does not name the files of a checkpoint (weights, optimizer, state).");
        foreach (var f in pointer.Files)
        {
            string path = Path.Combine(Folder, f.Name);
            if (!File.Exists(path))
                throw new InvalidDataException($"resume: {path}, named by {PointerName} (step {pointer.Step}), is missing.");
            var actual = Describe(path);
            if (actual.Bytes != f.Bytes || actual.Sha256 != f.Sha256)
                throw new InvalidDataException(
                    $"resume: {path} is damaged: {actual.Bytes} bytes with SHA-256 {actual.Sha256[..12]}..., the checkpoint wrote {f.Bytes} bytes with {f.Sha256[..12]}....");
        }
        string statePath = Path.Combine(Folder, StateName(pointer.Step));
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath), TrainingState.JsonOptions)
                    ?? throw new InvalidDataException($"resume: {statePath} holds no training state.");
        if (state.Step != pointer.Step)
            throw new InvalidDataException($"resume: {statePath} is the state of step {state.Step}, the pointer names step {pointer.Step}.");
        return (pointer, state);
    }

    private static CheckpointFile Describe(string path)
    {
        using var stream = File.OpenRead(path);
        string sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new CheckpointFile(Path.GetFileName(path), stream.Length, sha);
    }

    [GeneratedRegex(@"^step-(\d{7,})\.(?:safetensors|optim(?:-[a-z]+)?\.safetensors|state\.json)$")]
    private static partial Regex StepPattern();
}

/// <summary>
/// The training state beside the weights: everything that, with the weights and the optimizer file, makes the
/// next step the one an uninterrupted run would take.
/// </summary>
public sealed record TrainingState
{
    /// <summary>Optimizer steps taken.</summary>
    public required long Step { get; init; }

    /// <summary>The colour-term weight in force (from the config's schedule; kept to check it).</summary>
    public required double Eta { get; init; }

    /// <summary>StepLR's last epoch (steps taken, as the schedule counts them).</summary>
    public required int SchedulerEpoch { get; init; }

    /// <summary>The learning rate of the next step.</summary>
    public required float LearningRate { get; init; }

    /// <summary>Data position: batches consumed from the seeded stream (the next one is this index).</summary>
    public required long DataBatches { get; init; }

    /// <summary>Files the data stream had found unusable (the replay must know them).</summary>
    public required IReadOnlyList<string> BadFiles { get; init; }

    /// <summary>Rows of metrics.csv and validation.csv up to this step (rows after it are dropped on resume).</summary>
    public required int MetricRows { get; init; }

    public required int ValidationRows { get; init; }

    /// <summary>Sums of [total, term...] over the steps of the log interval in progress, and how many steps they hold,
    /// so the next metrics row averages the same steps as an uninterrupted run's.</summary>
    public required IReadOnlyList<double> IntervalSums { get; init; }

    public required int IntervalSteps { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };
}
