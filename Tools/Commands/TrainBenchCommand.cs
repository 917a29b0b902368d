using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ILGpuSat.Common;
using ILGpuSat.Networks;
using ILGpuSat.Tools.Bench;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat bench train`: one training step of a catalog model (forward, backward, optimizer, data upload)
/// and its peak memory, beside PyTorch's step for the same architecture and batch in the same run, as ratios.
/// </summary>
public static class TrainBenchCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var model = new Option<string>("--model") { Description = "catalog model (see `ilgpusat models`)", DefaultValueFactory = _ => "liu2018" };
        var config = new Option<string?>("--config") { Description = "model config JSON, e.g. {\"trunkWidth\":0.5,\"srWidth\":0.25}" };
        var width = new Option<double?>("--width") { Description = "set every width multiplier of the model to this" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 4 };
        var size = new Option<int>("--size") { Description = "HR patch side", DefaultValueFactory = _ => 96 };
        var steps = new Option<int>("--steps") { Description = "timed steps (the median is reported)", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 2 };
        var json = new Option<string?>("--json") { Description = "also write the result to this JSON file" };
        var noTorch = new Option<bool>("--no-pytorch") { Description = "skip the PyTorch reference" };
        var cmd = new Command("train", "Time one training step of a model (forward, backward, optimizer, data) and its peak memory, against PyTorch")
        {
            model, config, width, device, batch, size, steps, warmup, json, noTorch,
        };
        cmd.SetAction(pr => Run(pr.GetValue(model)!, pr.GetValue(config), pr.GetValue(width), pr.GetValue(device)!, pr.GetValue(batch),
            pr.GetValue(size), pr.GetValue(steps), pr.GetValue(warmup), pr.GetValue(json), pr.GetValue(noTorch)));
        return cmd;
    }

    // DeepSUM (multi-image): its own step (Tools/Bench/MisrTrainBenchmark.cs) beside pytorch_deepsum_train.py's.
    private static int RunDeepSum(string? configJson, string device, int batch, int size, int steps, int warmup, string? jsonPath, bool noTorch)
    {
        var config = configJson is null ? new Networks.Misr.DeepSumConfig() : Networks.Misr.DeepSumFile.ParseConfig(configJson);
        config.Validate();
        using var backend = CommonOptions.CreateBackend(device);
        string cfg = Networks.Misr.DeepSumFile.ConfigJson(config);
        AnsiConsole.MarkupLine($"[bold]bench train[/] deepsum {Markup.Escape(cfg)} on [green]{Markup.Escape(backend.Name)}[/] ({Markup.Escape(PyTorchReference.DotNetIsa)}), batch {batch}, {config.Frames} frames of {size}x{size}");
        MisrTrainBenchResult ours = null!;
        AnsiConsole.Status().Start("timing", ctx => ours = MisrTrainBenchmark.Run(backend, config, batch, size, warmup, steps, s => ctx.Status(Markup.Escape(s))));
        JsonDocument? torch = null;
        string? why = null;
        bool cuda = backend.Name.StartsWith("cuda", StringComparison.Ordinal);
        if (!noTorch)
        {
            var args = new List<string> { "--config", cfg, "--batch", Str(batch), "--size", Str(size), "--steps", Str(steps), "--warmup", Str(warmup), "--device", cuda ? "cuda" : "cpu" };
            if (!cuda) args.AddRange(["--threads", Str(Environment.ProcessorCount)]);
            AnsiConsole.Status().Start("timing PyTorch", _ => torch = PyTorchScript.TryRun("pytorch_deepsum_train.py", args, cuda ? "cuda" : "cpu", out why));
            if (torch is null) AnsiConsole.MarkupLine($"[yellow]no PyTorch reference:[/] {Markup.Escape(why ?? "?")}");
        }
        var t = torch?.RootElement;
        double? T(string key) => t is { } e && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("phase").AddColumn(new TableColumn("ours ms").RightAligned());
        if (t is not null)
        {
            table.AddColumn(new TableColumn($"PyTorch {Markup.Escape(t.Value.GetProperty("torch").GetString() ?? "?")} ms").RightAligned());
            table.AddColumn(new TableColumn("PyTorch / ours").RightAligned());
        }
        foreach (var (name, ms, key) in new[] { ("forward + loss", ours.ForwardMs, "forward_ms"), ("backward", ours.BackwardMs, "backward_ms"),
                                                ("optimizer", ours.OptimizerMs, "optimizer_ms"), ("step", ours.StepMs, "step_ms") })
        {
            var cells = new List<string> { name, Fmt(ms) };
            if (t is not null) { cells.Add(T(key) is { } x ? Fmt(x) : "-"); cells.Add(Ratio(T(key), ms)); }
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"parameters {ours.Parameters:N0}; peak (process RSS growth or pool) ours {Mb(ours.PeakBytes)}" +
                               (t is not null ? $", PyTorch {Mb((long?)T("peak_bytes"))}" : "") + $"; live tensors at peak {Mb(ours.PeakLiveBytes)}");
        if (jsonPath is not null)
        {
            var doc = new Dictionary<string, object?>
            {
                ["model"] = Networks.Misr.DeepSumFile.ModelName, ["config"] = JsonDocument.Parse(cfg).RootElement, ["batch"] = batch, ["size"] = size, ["device"] = backend.Name,
                ["isa"] = cuda ? null : PyTorchReference.DotNetIsa, ["parameters"] = ours.Parameters, ["step_ms"] = ours.StepMs,
                ["forward_ms"] = ours.ForwardMs, ["backward_ms"] = ours.BackwardMs, ["optimizer_ms"] = ours.OptimizerMs,
                ["peak_bytes"] = ours.PeakBytes, ["peak_live_bytes"] = ours.PeakLiveBytes,
                ["pytorch_step_ms"] = T("step_ms"), ["pytorch_forward_ms"] = T("forward_ms"), ["pytorch_backward_ms"] = T("backward_ms"),
                ["pytorch_optimizer_ms"] = T("optimizer_ms"), ["pytorch_peak_bytes"] = T("peak_bytes") is { } pb ? (long)pb : null,
                ["pytorch_unavailable"] = torch is null && !noTorch ? why : null,
            };
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
        }
        torch?.Dispose();
        return 0;
    }

    private static int Run(string modelName, string? configJson, double? width, string device, int batch, int size, int steps, int warmup,
        string? jsonPath, bool noTorch)
    {
        if (batch <= 0 || steps <= 0 || warmup < 0) throw new UserError("--batch and --steps must be positive and --warmup non-negative.");
        if (modelName == MisrTrainCommand.ModelName) return RunDeepSum(configJson, device, batch, size, steps, warmup, jsonPath, noTorch);
        var config = ModelConfigOptions.Resolve(modelName, configJson, width);
        using var backend = CommonOptions.CreateBackend(device);
        AnsiConsole.MarkupLine($"[bold]bench train[/] {Markup.Escape(modelName)} {Markup.Escape(ModelCatalog.ConfigJson(config))} on [green]{Markup.Escape(backend.Name)}[/] " +
                               $"({Markup.Escape(PyTorchReference.DotNetIsa)}), batch {batch}, {size}x{size}");

        TrainBenchResult ours = null!;
        AnsiConsole.Status().Start("timing", ctx =>
            ours = TrainBenchmark.Run(backend, modelName, config, batch, size, warmup, steps, s => ctx.Status(Markup.Escape(s))));

        JsonDocument? torch = null;
        string? why = null;
        bool cuda = backend.Name.StartsWith("cuda", StringComparison.Ordinal);
        if (!noTorch)
        {
            var args = new List<string>
            {
                "--model", modelName, "--config", ModelCatalog.ConfigJson(config), "--batch", Str(batch), "--size", Str(size),
                "--steps", Str(steps), "--warmup", Str(warmup), "--device", cuda ? "cuda" : "cpu",
            };
            if (!cuda) args.AddRange(["--threads", Str(Environment.ProcessorCount)]);
            AnsiConsole.Status().Start("timing PyTorch", _ => torch = PyTorchScript.TryRun("pytorch_train.py", args, cuda ? "cuda" : "cpu", out why));
            if (torch is null) AnsiConsole.MarkupLine($"[yellow]no PyTorch reference:[/] {Markup.Escape(why ?? "?")}");
        }
        var t = torch?.RootElement;
        double? T(string key) => t is { } e && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

        var table = new Table().Border(TableBorder.Rounded).AddColumn("phase").AddColumn(new TableColumn("ours ms").RightAligned());
        if (t is not null)
        {
            string isa = t.Value.TryGetProperty("cpu_capability", out var c) && c.ValueKind == JsonValueKind.String ? $", {c.GetString()}" : "";
            table.AddColumn(new TableColumn($"PyTorch {Markup.Escape(t.Value.GetProperty("torch").GetString() ?? "?")}{Markup.Escape(isa)} ms").RightAligned());
            table.AddColumn(new TableColumn("PyTorch / ours").RightAligned());
        }
        void Row(string name, double ms, double? theirs, bool bold = false)
        {
            var cells = new List<string> { bold ? $"[bold]{name}[/]" : name, Fmt(ms) };
            if (t is not null) { cells.Add(theirs is { } x ? Fmt(x) : "-"); cells.Add(Ratio(theirs, ms)); }
            table.AddRow(cells.ToArray());
        }
        Row("data (upload)", ours.Median.DataMs, T("data_ms"));
        Row("forward + loss", ours.Median.ForwardMs, T("forward_ms"));
        Row("backward", ours.Median.BackwardMs, T("backward_ms"));
        Row("optimizer", ours.Median.OptimizerMs, T("optimizer_ms"));
        Row("step", ours.StepMs, T("step_ms"), bold: true);
        AnsiConsole.Write(table);

        double? theirPeak = T("peak_bytes");
        AnsiConsole.MarkupLine($"parameters {ours.Parameters:N0}; {batch / (ours.StepMs / 1e3):F1} samples/s; last loss {ours.LastLoss:G5}");
        AnsiConsole.MarkupLine($"peak memory ({Markup.Escape(ours.PeakKind)}): ours {Mb(ours.PeakBytes)}" +
                               (t is not null ? $", PyTorch {Mb((long?)theirPeak)}, ratio PyTorch / ours {Ratio(theirPeak, ours.PeakBytes)}" : "") +
                               $"; live tensors at peak {Mb(ours.PeakLiveBytes)}" +
                               (T("peak_allocated_bytes") is { } pa ? $" (PyTorch {Mb((long)pa)})" : ""));
        if (t is not null && t.Value.TryGetProperty("form", out var form))
            AnsiConsole.MarkupLine($"PyTorch's faster form: {Markup.Escape(form.GetString() ?? "?")} (native: every transposed convolution as ConvTranspose2d; " +
                                   "conv: the stride-1 ones as the equivalent conv2d). Ratios above 1: we are faster / use less.");

        if (jsonPath is not null)
        {
            var doc = new Dictionary<string, object?>
            {
                ["model"] = modelName, ["config"] = JsonDocument.Parse(ours.ConfigJson).RootElement, ["batch"] = batch, ["size"] = size,
                ["device"] = backend.Name, ["isa"] = cuda ? null : PyTorchReference.DotNetIsa, ["parameters"] = ours.Parameters,
                ["step_ms"] = ours.StepMs, ["forward_ms"] = ours.Median.ForwardMs, ["backward_ms"] = ours.Median.BackwardMs,
                ["optimizer_ms"] = ours.Median.OptimizerMs, ["data_ms"] = ours.Median.DataMs,
                ["peak_bytes"] = ours.PeakBytes, ["peak_kind"] = ours.PeakKind, ["peak_live_bytes"] = ours.PeakLiveBytes,
                ["pytorch_step_ms"] = T("step_ms"), ["pytorch_forward_ms"] = T("forward_ms"), ["pytorch_backward_ms"] = T("backward_ms"),
                ["pytorch_optimizer_ms"] = T("optimizer_ms"), ["pytorch_data_ms"] = T("data_ms"),
                ["pytorch_peak_bytes"] = theirPeak is { } p ? (long)p : null,
                ["pytorch_form"] = t is { } e && e.TryGetProperty("form", out var f) ? f.GetString() : null,
                ["pytorch_cpu_capability"] = t is { } e2 && e2.TryGetProperty("cpu_capability", out var cc) && cc.ValueKind == JsonValueKind.String ? cc.GetString() : null,
                ["pytorch_unavailable"] = torch is null && !noTorch ? why : null,
            };
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
        }
        torch?.Dispose();
        return 0;
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Fmt(double ms) => ms.ToString(ms >= 100 ? "F1" : "F2", CultureInfo.InvariantCulture);

    private static string Mb(long? bytes) => bytes is { } b ? $"{b / (double)(1 << 20):F1} MiB" : "n/a";

    private static string Ratio(double? theirs, double? ours)
    {
        if (theirs is not { } a || ours is not { } b || b <= 0) return "-";
        double r = a / b;
        return r >= 1 ? $"[green]{r:F2}x[/]" : r >= 0.5 ? $"{r:F2}x" : $"[red]{r:F2}x[/]";
    }
}
