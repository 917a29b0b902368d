using System.CommandLine;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Runs;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat train`: a training run (Training/Runs/Trainer) with a progress display; Ctrl-C checkpoints and stops.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "catalog model: " + string.Join(", ", Networks.ModelCatalog.All.Select(s => s.Name)) + ", deepsum (multi-image SR; docs/misr.md), gan-colorizer or divcolor (docs/colorizers.md)" };
        var stage = new Option<string>("--stage") { Description = "deepsum only: sisr, reg or joint (the three stages, in order)" };
        var init = new Option<string>("--init") { Description = "deepsum only: weights to start from (the previous stage's checkpoint)" };
        var data = new Option<string[]>("--data") { Description = "satellite image folders (recursive)", AllowMultipleArgumentsPerToken = true };
        var natural = new Option<string[]>("--natural") { Description = "natural image folders", AllowMultipleArgumentsPerToken = true };
        var validation = new Option<string>("--validation") { Description = "held-out folder of HR colour images" };
        var config = new Option<string>("--config") { Description = "run configuration (JSON; keys in docs/training.md); the other options override it" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto (default: the config's, auto)" };
        var steps = new Option<long?>("--steps") { Description = "total optimizer steps" };
        var batch = new Option<int?>("--batch") { Description = "patches per step" };
        var output = new Option<string>("--out") { Description = "run folder (config.json, metrics.csv, plots, checkpoints/)", DefaultValueFactory = _ => "run" };
        var grey = new Option<string>("--grey") { Description = "gan-colorizer and divcolor only: folder of grey inputs paired with --data by file name (SAR); default: each target's L*" };
        var resume = new Option<string>("--resume") { Description = "continue the run in this folder from its latest checkpoint" };
        var cmd = new Command("train", "Train a catalog model; exact resume from the latest checkpoint with --resume RUN")
        {
            model, data, natural, validation, config, device, steps, batch, output, resume, stage, init, grey,
        };
        cmd.SetAction(pr =>
        {
            string? resumeRun = pr.GetValue(resume);
            string? deviceValue = pr.GetValue(device);
            if (resumeRun is not null)
                return MisrTrainCommand.IsMisrRun(resumeRun) ? MisrTrainCommand.Resume(resumeRun, deviceValue)
                     : GanTrainCommand.IsGanRun(resumeRun) ? GanTrainCommand.Resume(resumeRun, deviceValue)
                     : DivColorTrainCommand.IsDivColorRun(resumeRun) ? DivColorTrainCommand.Resume(resumeRun, deviceValue)
                     : Run(null, resumeRun, deviceValue);
            if (pr.GetValue(model) == GanTrainCommand.ModelName)
                return GanTrainCommand.Start(pr.GetValue(config), pr.GetValue(data), pr.GetValue(grey), pr.GetValue(steps), pr.GetValue(batch), pr.GetValue(output)!, deviceValue);
            if (pr.GetValue(model) == DivColorTrainCommand.ModelName)
                return DivColorTrainCommand.Start(pr.GetValue(config), pr.GetValue(data), pr.GetValue(grey), pr.GetValue(steps), pr.GetValue(batch), pr.GetValue(output)!, deviceValue);
            if (pr.GetValue(grey) is not null) throw new ArgumentException("--grey is for --model gan-colorizer and divcolor.");
            if (pr.GetValue(model) == MisrTrainCommand.ModelName)
                return MisrTrainCommand.Start(pr.GetValue(config), pr.GetValue(stage), pr.GetValue(data), pr.GetValue(init), pr.GetValue(steps),
                                              pr.GetValue(batch), pr.GetValue(output)!, deviceValue);
            if (pr.GetValue(stage) is not null || pr.GetValue(init) is not null)
                throw new ArgumentException("--stage and --init are for --model deepsum; a catalog model starts from config.init.");
            var file = pr.GetValue(config) is { } path ? TrainConfig.Load(path) : new TrainConfig();
            var overrides = new TrainOverrides
            {
                Model = pr.GetValue(model), Satellite = pr.GetValue(data), Natural = pr.GetValue(natural), Validation = pr.GetValue(validation),
                Device = deviceValue, Steps = pr.GetValue(steps), Batch = pr.GetValue(batch),
            };
            return Run(overrides.ApplyTo(file).Validate(), pr.GetValue(output)!, deviceValue);
        });
        return cmd;
    }

    private static int Run(TrainConfig? config, string runFolder, string? device)
    {
        using var stop = new StopSignal(); // Ctrl-C or SIGTERM: finish the step, checkpoint, exit
        try
        {
            TrainingResult result = null!;
            var events = new List<string>();
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("starting", maxValue: config?.Steps ?? 1);
                    var hooks = new TrainerHooks
                    {
                        Progress = new Reporter(p =>
                        {
                            task.MaxValue = p.TotalSteps;
                            task.Value = p.Step;
                            if (p.Event is not null)
                            {
                                ctx.Refresh();
                                AnsiConsole.MarkupLine($"[grey]{p.Step}:[/] {Markup.Escape(p.Event)}");
                                return;
                            }
                            string terms = string.Join("  ", p.Terms.Select(t => $"{t.Name} {t.Value:G4}"));
                            task.Description = Markup.Escape($"step {p.Step}/{p.TotalSteps}  loss {p.Loss:G4}  {terms}  lr {p.LearningRate:G3}  eta {p.Eta:G3}  {p.SamplesPerSecond:F1} samples/s");
                        }),
                    };
                    result = config is null
                        ? Trainer.Resume(runFolder, new CatalogModelSource(), c => CommonOptions.CreateBackend(device ?? c.Device), hooks, stop.Token)
                        : Trainer.Start(config, runFolder, new CatalogModelSource(), CommonOptions.CreateBackend(config.Device), hooks, stop.Token);
                });
            AnsiConsole.MarkupLine(result.Outcome == TrainingOutcome.Cancelled
                ? $"stopped at step {result.Step} and checkpointed; continue with [bold]ilgpusat train --resume {Markup.Escape(runFolder)}[/]"
                : $"done: {result.Step} steps in {Markup.Escape(runFolder)}");
            return result.Outcome == TrainingOutcome.Cancelled ? 130 : 0;
        }
        catch (TrainingDivergedException e)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
    }

    // Reports on the trainer's thread (Progress<T> would post to the thread pool, out of order).
    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
