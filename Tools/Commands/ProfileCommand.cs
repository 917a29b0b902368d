using System.CommandLine;
using System.Diagnostics;
using ILGpuSat.Tools.Bench;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Tools.Profiling;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat profile`: runs real training steps of any catalog model (Tools/Bench/SyntheticTrainingStep.cs:
/// forward, the model's loss, backward, Adam) with every kernel launch timed, prints a per-kernel table
/// and writes a Chrome trace (Perfetto / chrome://tracing).
/// </summary>
public static class ProfileCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var model = new Option<string>("--model") { Description = "catalog model to train (see `ilgpusat models`)", DefaultValueFactory = _ => "liu2018" };
        var config = new Option<string?>("--config") { Description = "model config JSON, e.g. {\"trunkWidth\":0.5,\"srWidth\":0.25}" };
        var width = new Option<double?>("--width") { Description = "set every width multiplier of the model to this" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "profiled training steps", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "unprofiled steps first (kernel compilation, pool warm-up)", DefaultValueFactory = _ => 1 };
        var size = new Option<int>("--size") { Description = "HR patch side", DefaultValueFactory = _ => 96 };
        var trace = new Option<string>("--trace") { Description = "Chrome trace JSON to write", DefaultValueFactory = _ => "profile-trace.json" };
        var cmd = new Command("profile", "Profile training steps of a model kernel by kernel: table plus Chrome trace")
        {
            model, config, width, device, batch, steps, warmup, size, trace,
        };
        cmd.SetAction(pr => Run(pr.GetValue(model)!, pr.GetValue(config), pr.GetValue(width), pr.GetValue(device)!, pr.GetValue(batch),
            pr.GetValue(steps), pr.GetValue(warmup), pr.GetValue(size), pr.GetValue(trace)!));
        return cmd;
    }

    private static int Run(string modelName, string? configJson, double? width, string device, int batch, int steps, int warmup, int size, string tracePath)
    {
        if (batch <= 0 || steps <= 0 || warmup < 0)
            throw new UserError("--batch and --steps must be positive and --warmup non-negative.");
        var modelConfig = ModelConfigOptions.Resolve(modelName, configJson, width);
        using var backend = CommonOptions.CreateBackend(device);
        using var step = new SyntheticTrainingStep(backend, modelName, modelConfig, batch, size);
        float Step() => step.Run().Loss;

        AnsiConsole.MarkupLine($"[bold]profile[/] {Markup.Escape(modelName)} {Markup.Escape(ModelCatalog.ConfigJson(modelConfig))} " +
                               $"({step.ParameterCount:N0} parameters) on [green]{Markup.Escape(backend.Name)}[/], batch {batch}, {size}x{size}, " +
                               $"{steps} steps after {warmup} warm-up");
        for (int i = 0; i < warmup; i++) Step();

        var profiler = new KernelProfiler();
        var stepTimes = new List<(double StartUs, double DurationUs)>();
        backend.Profiler = profiler;
        float lastLoss = 0;
        try
        {
            for (int i = 0; i < steps; i++)
            {
                double start = profiler.Now.TotalMicroseconds;
                var sw = Stopwatch.StartNew();
                lastLoss = Step();
                stepTimes.Add((start, sw.Elapsed.TotalMicroseconds));
            }
        }
        finally
        {
            backend.Profiler = null;
        }

        double wallMs = stepTimes.Sum(s => s.DurationUs) / 1e3;
        var rows = ProfileReport.Summarise(profiler.Launches, wallMs);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("kernel");
        foreach (var c in new[] { "launches", "total ms", "mean us", "GFLOP/s", "GB/s", "share of step" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Kernel), r.Launches.ToString(), $"{r.TotalMs:F2}", $"{r.MeanUs:F1}",
                r.GFlops > 0 ? $"{r.GFlops:F1}" : "", r.GBps > 0 ? $"{r.GBps:F1}" : "", $"{100 * r.Share:F1}%");
        double kernelMs = rows.Sum(r => r.TotalMs);
        table.AddRow("[bold]all kernels[/]", profiler.Launches.Count.ToString(), $"{kernelMs:F2}", "", "", "", $"{100 * kernelMs / wallMs:F1}%");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{steps} steps: {wallMs / steps:F2} ms per step (profiled: each launch is synchronised), last loss {lastLoss:G5}");
        ProfileReport.WriteChromeTrace(tracePath, backend.Name, profiler.Launches, stepTimes);
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(tracePath)} (open in https://ui.perfetto.dev or chrome://tracing)");
        return 0;
    }
}
