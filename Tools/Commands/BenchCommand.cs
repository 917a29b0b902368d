using System.CommandLine;
using System.Text.Json;
using ILGpuSat.Tools.Bench;
using ILGpuSat.Common;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>`ilgpusat bench ops`: each op at a realistic size, timed here and by PyTorch in the same run.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var batch = new Option<int>("--batch") { Description = "batch size N of every case", DefaultValueFactory = _ => 4 };
        var size = new Option<int>("--size") { Description = "image side of the full-resolution cases (the 1/4 cases use size/4)", DefaultValueFactory = _ => 96 };
        var budget = new Option<double>("--seconds") { Description = "time budget per row (at least 5 runs each)", DefaultValueFactory = _ => 1.5 };
        var json = new Option<string?>("--json") { Description = "also write the rows to this JSON file" };
        var noTorch = new Option<bool>("--no-pytorch") { Description = "skip the PyTorch reference run" };
        var only = new Option<string?>("--only") { Description = "time only the rows whose name contains this text" };

        var ops = new Command("ops", "Time every op forward and forward+backward, with PyTorch on the same machine as the reference")
        {
            device, batch, size, budget, json, noTorch, only,
        };
        ops.SetAction(pr => Run(pr.GetValue(device)!, pr.GetValue(batch), pr.GetValue(size), pr.GetValue(budget),
            pr.GetValue(json), pr.GetValue(noTorch), pr.GetValue(only)));
        return new Command("bench", "Benchmarks") { ops, TrainBenchCommand.Create(), EnhanceBenchCommand.Create() };
    }

    private static int Run(string device, int batch, int size, double seconds, string? jsonPath, bool noTorch, string? only)
    {
        if (batch <= 0 || size < 8 || size % 4 != 0) throw new UserError("--batch must be positive and --size a multiple of 4, at least 8.");
        using var backend = CommonOptions.CreateBackend(device);
        bool onCpu = backend.Name == "cpu";
        AnsiConsole.MarkupLine($"[bold]bench ops[/] on [green]{Markup.Escape(backend.Name)}[/]{(onCpu ? $" ({PyTorchReference.DotNetIsa})" : "")}, batch {batch}, size {size}");

        List<BenchRow> rows = null!;
        AnsiConsole.Status().Start("timing", ctx =>
            rows = OpBenchmarks.Run(backend, batch, size, seconds, name => ctx.Status($"timing {Markup.Escape(name)}"), only));

        // PyTorch references: on the CPU with the same thread count; on CUDA with TF32 off and on.
        var refs = new List<(string Label, PyTorchReference.Result Result)>();
        if (!noTorch)
        {
            bool cuda = backend.Name.StartsWith("cuda", StringComparison.Ordinal);
            var runs = cuda ? new[] { ("PyTorch fp32", false), ("PyTorch tf32", true) } : new[] { ("PyTorch", false) };
            foreach (var (label, tf32) in runs)
            {
                PyTorchReference.Result? r = null;
                string? why = null;
                AnsiConsole.Status().Start($"timing {label}", _ =>
                    r = PyTorchReference.TryRun(cuda ? "cuda" : "cpu", cuda ? 0 : Environment.ProcessorCount, batch, size, tf32, out why, only));
                if (r is null) { AnsiConsole.MarkupLine($"[yellow]no PyTorch reference:[/] {Markup.Escape(why ?? "?")}"); break; }
                refs.Add(($"{label} {r.TorchVersion}", r));
                if (r.AtenIsa is not null)
                    AnsiConsole.MarkupLine($"{label}: ATen {Markup.Escape(r.AtenIsa)}, oneDNN {Markup.Escape(r.OneDnnIsa ?? "?")}");
            }
        }

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("op");
        table.AddColumn(new TableColumn("median ms").RightAligned());
        table.AddColumn(new TableColumn("GFLOP/s").RightAligned());
        table.AddColumn(new TableColumn("GB/s").RightAligned());
        foreach (var (label, _) in refs)
        {
            table.AddColumn(new TableColumn($"{Markup.Escape(label)} ms").RightAligned());
            table.AddColumn(new TableColumn("ours/theirs throughput").RightAligned());
        }
        foreach (var row in rows)
        {
            var cells = new List<string>
            {
                Markup.Escape(row.Name), $"{row.MedianMs:F3}",
                row.GFlops > 0 ? $"{row.GFlops:F1}" : "", row.GBps > 0 ? $"{row.GBps:F1}" : "",
            };
            foreach (var (_, r) in refs)
            {
                if (r.Rows.TryGetValue(row.Name, out var t))
                {
                    cells.Add($"{t.Ms:F3}{(t.Form is null or "conv_transpose2d" ? "" : "*")}");
                    double ratio = t.Ms / row.MedianMs;
                    cells.Add(ratio >= 1 ? $"[green]{ratio:F2}x[/]" : ratio >= 0.4 ? $"{ratio:F2}x" : $"[red]{ratio:F2}x[/]");
                }
                else { cells.Add("-"); cells.Add("-"); }
            }
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        if (refs.Count > 0)
            AnsiConsole.MarkupLine("Ratio = PyTorch time / our time (above 1: faster than PyTorch). * PyTorch's fastest form was an equivalent conv2d (zero-inserted input, or sub-pixel phases for stride 2), not its ConvTranspose2d.");

        if (jsonPath is not null)
        {
            var primary = refs.Count > 0 ? refs[0].Result : null;
            var doc = new
            {
                device = backend.Name,
                isa = onCpu ? PyTorchReference.DotNetIsa : null,
                pytorch_aten_isa = primary?.AtenIsa,
                pytorch_onednn_isa = primary?.OneDnnIsa,
                batch,
                size,
                rows = rows.Select(r => new Dictionary<string, object?>
                {
                    ["name"] = r.Name,
                    ["median_ms"] = r.MedianMs,
                    ["gflops"] = r.GFlops > 0 ? r.GFlops : null,
                    ["gbps"] = r.GBps > 0 ? r.GBps : null,
                    ["pytorch_median_ms"] = primary is not null && primary.Rows.TryGetValue(r.Name, out var t) ? t.Ms : null,
                    ["pytorch_form"] = primary is not null && primary.Rows.TryGetValue(r.Name, out var tf) ? tf.Form : null,
                    ["pytorch_tf32_median_ms"] = refs.Count > 1 && refs[1].Result.Rows.TryGetValue(r.Name, out var t2) ? t2.Ms : null,
                }).ToList(),
            };
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(jsonPath)}");
        }
        return 0;
    }
}
