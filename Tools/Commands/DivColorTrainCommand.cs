using ILGpuSat.Tools.Cli;
using ILGpuSat.Training.Runs;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat train --model divcolor`: the VAE, then the MDN (Training/Runs/DivColorTrainer) on colour fields.</summary>
public static class DivColorTrainCommand
{
    public const string ModelName = DivColorTrainer.ModelName;

    /// <summary>Whether a run folder holds a divcolor run (its config.json has the VAE's step count).</summary>
    public static bool IsDivColorRun(string runFolder) => GanTrainCommand.IsRunWith(runFolder, "vaeSteps");

    /// <summary>--steps sets the VAE's steps (the MDN's stay the config's).</summary>
    public static int Start(string? configPath, string[]? data, string? grey, long? steps, int? batch, string runFolder, string? device)
    {
        var config = GanTrainCommand.ReadConfig<DivColorTrainConfig>(configPath, DivColorTrainConfig.JsonOptions);
        if (data is { Length: > 0 }) config = config with { Data = data };
        if (grey is not null) config = config with { Grey = grey };
        if (steps is not null) config = config with { VaeSteps = steps.Value };
        if (batch is not null) config = config with { Batch = batch.Value };
        config.Validate();
        return TrainerRun.Run(runFolder, device, (backend, report, ct) => DivColorTrainer.Start(config, runFolder, backend, report, ct));
    }

    public static int Resume(string runFolder, string? device) =>
        TrainerRun.Run(runFolder, device, (backend, report, ct) => DivColorTrainer.Resume(runFolder, backend, report, ct));
}
