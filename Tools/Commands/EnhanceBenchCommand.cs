using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ILGpuSat.Common;
using ILGpuSat.Engine.IO;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Inference;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Tools.Bench;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat bench enhance`: enhancing a 400x400 and a 2048x2048 grey input with the default model (or --model),
/// on the CPU and on CUDA when present, beside PyTorch running the same weights through the same pipeline in the
/// same run (Tools/Bench/pytorch_enhance.py), as a ratio (PyTorch ms / ours; the target is >= 1).
/// </summary>
public static class EnhanceBenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "weights file (default: the model built into ILGpuSat.Inference)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda, or all (the CPU, and CUDA when a device is present)", DefaultValueFactory = _ => "all" };
        var sizes = new Option<string>("--sizes") { Description = "comma-separated LR input sides", DefaultValueFactory = _ => "400,2048" };
        var seconds = new Option<double>("--seconds") { Description = "time budget per row (at least one run)", DefaultValueFactory = _ => 3 };
        var runs = new Option<int>("--runs") { Description = "most timed runs per row (the median is reported)", DefaultValueFactory = _ => 5 };
        var tile = new Option<int>("--pytorch-tile") { Description = "PyTorch's LR tile core for inputs larger than it (0 = whole image); default: the Enhancer's own plan for each input (its core and measured context)", DefaultValueFactory = _ => -1 };
        var json = new Option<string?>("--json") { Description = "also write {\"rows\":[{name, device, ms, pytorch_ms, peak_bytes}]} to this file" };
        var noTorch = new Option<bool>("--no-pytorch") { Description = "skip the PyTorch reference" };
        var cmd = new Command("enhance", "Time enhancing 400x400 and 2048x2048 inputs with the default model, against PyTorch on the same weights")
        {
            model, device, sizes, seconds, runs, tile, json, noTorch,
        };
        cmd.SetAction(pr => Run(pr.GetValue(model), pr.GetValue(device)!, pr.GetValue(sizes)!, pr.GetValue(seconds), pr.GetValue(runs),
            pr.GetValue(tile), pr.GetValue(json), pr.GetValue(noTorch)));
        return cmd;
    }

    private static int Run(string? modelPath, string device, string sizeList, double seconds, int maxRuns, int pytorchTile, string? jsonPath, bool noTorch)
    {
        if (device is not ("cpu" or "cuda" or "all")) throw new UserError($"--device must be cpu, cuda or all, not '{device}'.");
        if (maxRuns <= 0 || !(seconds >= 0)) throw new UserError("--runs must be positive and --seconds non-negative.");
        if (pytorchTile < -1) throw new UserError("--pytorch-tile must be 0 or positive (or -1: the Enhancer's plan).");
        var sides = ParseSizes(sizeList);
        if (modelPath is not null && !File.Exists(modelPath)) throw new UserError($"--model {modelPath}: no such file.");

        var work = Directory.CreateTempSubdirectory("ilgpusat-bench-enhance-");
        try
        {
            string weights = modelPath ?? ExtractDefaultModel(work.FullName);
            var inputs = sides.Select(EnhanceBenchmark.SyntheticInput).ToList();
            var devices = device == "all" ? (CudaPresent() ? new[] { "cpu", "cuda" } : ["cpu"]) : new[] { device };
            var results = new List<(EnhanceBenchRow Ours, double? TheirMs, long? TheirPeak)>();
            string? torchVersion = null;
            foreach (var d in devices)
            {
                using var backend = Backends.Create(d);
                using var enhancer = modelPath is null ? Enhancer.LoadDefault(backend) : Enhancer.Load(modelPath, backend);
                if (d == devices[0]) Describe(weights, modelPath is null, enhancer.Model);
                if (d == "cpu") AnsiConsole.MarkupLine($"CPU path: {Markup.Escape(PyTorchReference.DotNetIsa)} (PyTorch is run on the matching one)");
                IReadOnlyList<EnhanceBenchRow> rows = null!;
                AnsiConsole.Status().Start("timing", ctx => rows = EnhanceBenchmark.Run(enhancer, backend, inputs, seconds, maxRuns, s => ctx.Status(Markup.Escape(s))));

                JsonDocument? torch = null;
                if (!noTorch)
                {
                    var args = new List<string> { "--weights", weights, "--bins", WriteBins(work.FullName), "--device", d };
                    if (d == "cpu") args.AddRange(["--threads", Str(Environment.ProcessorCount)]);
                    for (int i = 0; i < inputs.Count; i++)
                    {
                        string npy = Path.Combine(work.FullName, $"input-{sides[i]}.npy");
                        if (!File.Exists(npy)) Npy.Write(npy, inputs[i].Planes[0], [sides[i], sides[i]]);
                        // PyTorch cuts each input as the Enhancer did (one tile = whole), without the overlap's blend.
                        var plan = enhancer.PlanTiling(sides[i], sides[i]);
                        int tileCore = pytorchTile >= 0 ? pytorchTile : plan.TilesX * plan.TilesY == 1 ? 0 : plan.Core;
                        int context = pytorchTile >= 0 ? 32 : plan.Context;
                        AnsiConsole.MarkupLine(Markup.Escape($"{sides[i]}x{sides[i]}: ours {plan.TilesX} x {plan.TilesY} tiles of {plan.Core} LR px, context {plan.Context}, overlap {plan.Overlap}; "
                            + $"PyTorch {(tileCore == 0 ? "whole" : $"tiles of {tileCore}, context {context}, no overlap")}"));
                        args.AddRange(["--input", $"{npy}:{rows[i].RunsMs.Count}:{tileCore}:{context}"]);
                    }
                    string? why = null;
                    AnsiConsole.Status().Start($"timing PyTorch on {d}", _ => torch = PyTorchScript.TryRun("pytorch_enhance.py", args, d, out why));
                    if (torch is null) AnsiConsole.MarkupLine($"[yellow]no PyTorch reference on {d}:[/] {Markup.Escape(why ?? "?")}");
                    else
                    {
                        var root = torch.RootElement;
                        torchVersion = root.GetProperty("torch").GetString();
                        AnsiConsole.MarkupLine($"PyTorch {Markup.Escape(torchVersion ?? "?")} on {d}, {root.GetProperty("threads").GetInt32()} threads, weights {Markup.Escape(string.Join("/", root.GetProperty("dtype").EnumerateArray().Select(e => e.GetString())))}");
                    }
                }
                for (int i = 0; i < rows.Count; i++)
                {
                    JsonElement? t = torch?.RootElement.GetProperty("rows")[i];
                    results.Add((rows[i], t?.GetProperty("ms").GetDouble(), t is { } e ? (long)e.GetProperty("peak_bytes").GetDouble() : null));
                }
                torch?.Dispose();
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumn("case").AddColumn("device")
                .AddColumn(new TableColumn("runs").RightAligned()).AddColumn(new TableColumn("ours ms").RightAligned())
                .AddColumn(new TableColumn("PyTorch ms").RightAligned()).AddColumn(new TableColumn("PyTorch / ours").RightAligned())
                .AddColumn(new TableColumn("peak (ours, tensors)").RightAligned()).AddColumn(new TableColumn("peak (PyTorch)").RightAligned());
            foreach (var (o, ms, peak) in results)
                table.AddRow(Markup.Escape(o.Name), Markup.Escape(o.Device), Str(o.RunsMs.Count), Fmt(o.Ms), ms is { } m ? Fmt(m) : "-",
                    Ratio(ms, o.Ms), Mb(o.PeakBytes), Mb(peak));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("Ratios above 1: we are faster. Ours: Enhancer.Enhance end to end on an in-memory grey image; peak = the backend's tensor storage. "
                + "PyTorch (CPU): growth of the process's peak resident set; (CUDA): max_memory_allocated.");

            if (jsonPath is not null)
            {
                var doc = new
                {
                    model = weights == modelPath ? modelPath : "(default)",
                    pytorch = torchVersion,
                    rows = results.Select(r => new Dictionary<string, object?>
                    {
                        ["name"] = r.Ours.Name, ["device"] = r.Ours.Device, ["isa"] = r.Ours.Device == "cpu" ? PyTorchReference.DotNetIsa : null, ["ms"] = r.Ours.Ms, ["pytorch_ms"] = r.TheirMs, ["peak_bytes"] = r.Ours.PeakBytes,
                        ["pytorch_peak_bytes"] = r.TheirPeak, ["runs"] = r.Ours.RunsMs.Count,
                    }).ToList(),
                };
                AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
            }
            return 0;
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Which weights are being timed, and whether they look trained (the trainer writes its step into the metadata).</summary>
    private static void Describe(string weights, bool isDefault, LoadedModel model)
    {
        string step = model.Metadata.TryGetValue("step", out var s) ? $"trained {s} steps" : "no training step in its metadata (untrained or not from the trainer)";
        AnsiConsole.MarkupLine($"[bold]bench enhance[/] model {(isDefault ? "(default, built in)" : Markup.Escape(weights))}: {Markup.Escape(model.ModelName)} "
            + $"{Markup.Escape(ModelCatalog.ConfigJson(model.Config))}, {model.Network.Parameters().Sum(p => (long)p.Length):N0} parameters, {Markup.Escape(step)}");
    }

    private static string ExtractDefaultModel(string folder)
    {
        using var resource = typeof(Enhancer).Assembly.GetManifestResourceStream(Enhancer.DefaultModelResource)
            ?? throw new UserError("this build has no default model (Inference/DefaultModel/default.safetensors is not committed yet); pass --model PATH.");
        string path = Path.Combine(folder, "default.safetensors");
        using var file = File.Create(path);
        resource.CopyTo(file);
        return path;
    }

    private static string WriteBins(string folder)
    {
        string path = Path.Combine(folder, "ab-bins.npy");
        if (File.Exists(path)) return path;
        var bins = AbBins.Default;
        var data = new float[AbBins.Count * 2];
        for (int q = 0; q < AbBins.Count; q++) { data[2 * q] = bins.A[q]; data[2 * q + 1] = bins.B[q]; }
        Npy.Write(path, data, [AbBins.Count, 2]);
        return path;
    }

    private static bool CudaPresent()
    {
        try
        {
            using var b = Backends.Create("auto");
            return b.Name.StartsWith("cuda", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or DllNotFoundException) { return false; }
    }

    private static int[] ParseSizes(string list)
    {
        var parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sides = new List<int>();
        foreach (var p in parts)
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 8 || v > 8192)
                throw new UserError($"--sizes: '{p}' is not a side between 8 and 8192.");
            else sides.Add(v);
        if (sides.Count == 0) throw new UserError("--sizes: give at least one side.");
        return sides.Order().ToArray();
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Fmt(double ms) => ms.ToString(ms >= 100 ? "F0" : "F1", CultureInfo.InvariantCulture);

    private static string Mb(long? bytes) => bytes is { } b ? $"{b / (double)(1 << 20):F0} MiB" : "-";

    private static string Ratio(double? theirs, double ours)
    {
        if (theirs is not { } a || ours <= 0) return "-";
        double r = a / ours;
        return r >= 1 ? $"[green]{r:F2}x[/]" : r >= 0.5 ? $"{r:F2}x" : $"[red]{r:F2}x[/]";
    }
}
