using ILGpuSat.Training.Runs;
using Spectre.Console;

namespace ILGpuSat.Tools.Cli;

/// <summary>
/// Runs a trainer that reports lines (DeepSUM's stages, the GAN colorizer): its lines printed, Ctrl-C or SIGTERM
/// finishing the step and checkpointing (exit 130, with the resume command), a diverged run exit 2.
/// </summary>
public static class TrainerRun
{
    public static int Run(string runFolder, string? device, Func<Kernels.Backend, Action<string>, CancellationToken, long> train)
    {
        using var stop = new StopSignal();
        try
        {
            using var backend = CommonOptions.CreateBackend(device ?? "auto");
            long step = train(backend, line => AnsiConsole.MarkupLine(Markup.Escape(line)), stop.Token);
            if (stop.Token.IsCancellationRequested)
            {
                AnsiConsole.MarkupLine($"stopped at step {step} and checkpointed; continue with [bold]ilgpusat train --resume {Markup.Escape(runFolder)}[/]");
                return 130;
            }
            AnsiConsole.MarkupLine($"done: {step} steps in {Markup.Escape(runFolder)}");
            return 0;
        }
        catch (TrainingDivergedException e)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
    }
}
