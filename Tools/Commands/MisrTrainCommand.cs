using System.Text.Json;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Training.Runs;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat train --model deepsum --stage sisr|reg|joint`: DeepSUM's stages (Training/Runs/MisrTrainer) on simulated scenes.</summary>
public static class MisrTrainCommand
{
    public const string ModelName = Networks.Misr.DeepSumFile.ModelName;

    /// <summary>Whether a run folder holds a DeepSUM run (its config.json has a stage).</summary>
    public static bool IsMisrRun(string runFolder)
    {
        string path = Path.Combine(runFolder, MisrTrainer.ConfigName);
        if (!File.Exists(path)) return false;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("stage", out _);
    }

    public static int Start(string? configPath, string? stage, string[]? data, string? init, long? steps, int? batch, string runFolder, string? device)
    {
        var config = configPath is null
            ? new MisrTrainConfig()
            : JsonSerializer.Deserialize<MisrTrainConfig>(File.ReadAllText(configPath), MisrTrainConfig.JsonOptions)
              ?? throw new ArgumentException($"{configPath}: empty configuration.");
        if (stage is not null)
            config = config with { Stage = Enum.TryParse<MisrStage>(stage, ignoreCase: true, out var s) ? s : throw new ArgumentException($"--stage must be sisr, reg or joint, got '{stage}'.") };
        if (data is { Length: > 0 }) config = config with { Data = data };
        if (init is not null) config = config with { Init = init };
        if (steps is not null) config = config with { Steps = steps.Value };
        if (batch is not null) config = config with { Batch = batch.Value };
        config.Validate();
        return TrainerRun.Run(runFolder, device, (backend, report, ct) => MisrTrainer.Start(config, runFolder, backend, report, ct));
    }

    public static int Resume(string runFolder, string? device) =>
        TrainerRun.Run(runFolder, device, (backend, report, ct) => MisrTrainer.Resume(runFolder, backend, report, ct));
}
