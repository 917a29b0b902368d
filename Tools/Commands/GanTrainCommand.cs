using System.Text.Json;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Training.Runs;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat train --model gan-colorizer`: the SpaceNet GAN colorizer (Training/Runs/GanColorizerTrainer) on colour windows.</summary>
public static class GanTrainCommand
{
    public const string ModelName = GanColorizerTrainer.ModelName;

    /// <summary>Whether a run folder holds a GAN colorizer run (its config.json has the discriminator's learning rate).</summary>
    public static bool IsGanRun(string runFolder)
    {
        string path = Path.Combine(runFolder, GanColorizerTrainer.ConfigName);
        if (!File.Exists(path)) return false;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("discriminatorLr", out _);
    }

    public static int Start(string? configPath, string[]? data, string? grey, long? steps, int? batch, string runFolder, string? device)
    {
        var config = configPath is null
            ? new GanTrainConfig()
            : JsonSerializer.Deserialize<GanTrainConfig>(File.ReadAllText(configPath), GanTrainConfig.JsonOptions)
              ?? throw new ArgumentException($"{configPath}: empty configuration.");
        if (data is { Length: > 0 }) config = config with { Data = data };
        if (grey is not null) config = config with { Grey = grey };
        if (steps is not null) config = config with { Steps = steps.Value };
        if (batch is not null) config = config with { Batch = batch.Value };
        config.Validate();
        return TrainerRun.Run(runFolder, device, (backend, report, ct) => GanColorizerTrainer.Start(config, runFolder, backend, report, ct));
    }

    public static int Resume(string runFolder, string? device) =>
        TrainerRun.Run(runFolder, device, (backend, report, ct) => GanColorizerTrainer.Resume(runFolder, backend, report, ct));
}
