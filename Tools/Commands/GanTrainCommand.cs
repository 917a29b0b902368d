using System.Text.Json;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Training.Runs;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat train --model gan-colorizer`: the SpaceNet GAN colorizer (Training/Runs/GanColorizerTrainer) on colour windows.</summary>
public static class GanTrainCommand
{
    public const string ModelName = GanColorizerTrainer.ModelName;

    /// <summary>Whether a run folder holds a GAN colorizer run (its config.json has the discriminator's learning rate).</summary>
    public static bool IsGanRun(string runFolder) => IsRunWith(runFolder, "discriminatorLr");

    /// <summary>Whether a run folder's config.json is an object with this key (how a resume tells the trainers' runs apart).</summary>
    public static bool IsRunWith(string runFolder, string key)
    {
        string path = Path.Combine(runFolder, RunFolder.ConfigName);
        if (!File.Exists(path)) return false;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out _);
    }

    /// <summary>A trainer's typed config from a JSON file, or its defaults without one.</summary>
    public static T ReadConfig<T>(string? configPath, JsonSerializerOptions options) where T : new()
        => configPath is null ? new T()
         : JsonSerializer.Deserialize<T>(File.ReadAllText(configPath), options) ?? throw new ArgumentException($"{configPath}: empty configuration.");

    public static int Start(string? configPath, string[]? data, string? grey, long? steps, int? batch, string runFolder, string? device)
    {
        var config = ReadConfig<GanTrainConfig>(configPath, GanTrainConfig.JsonOptions);
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
