using System.CommandLine;
using System.Globalization;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat models`: the model catalog as a table: each architecture's summary, parameters (count and MB in
/// fp32) and GFLOP of one forward per output sample, counted by the CPU kernels (<see cref="ModelCost"/>).
/// </summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var width = new Option<double?>("--width") { Description = "set every width multiplier of every model to this (default: each model's default config)" };
        var size = new Option<int>("--size") { Description = "output side of the sample the FLOPs are counted for", DefaultValueFactory = _ => 96 };
        var cmd = new Command("models", "List the model catalog: summary, parameters, MB (fp32) and GFLOP per forward of one sample") { width, size };
        cmd.SetAction(pr => Run(pr.GetValue(width), pr.GetValue(size)));
        return cmd;
    }

    private static int Run(double? width, int size)
    {
        if (size < 16 || size > 1024) throw new UserError($"--size must be 16..1024, got {size}.");
        using var cpu = new CpuBackend();
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("model");
        table.AddColumn("summary");
        table.AddColumn("config");
        foreach (var c in new[] { "parameters", "MB fp32", $"GFLOP / {size}x{size}" }) table.AddColumn(new TableColumn(c).RightAligned());
        var scaled = new List<string>();
        AnsiConsole.Status().Start("building each model and counting one forward", ctx =>
        {
            foreach (var spec in ModelCatalog.All)
            {
                ctx.Status($"{spec.Name}: building and counting one forward");
                ModelConfig config = spec.DefaultConfig;
                if (width is { } w)
                {
                    config = config.WithWidth(w);
                    try { config.Validate(); }
                    catch (ArgumentException e) { throw new UserError($"--width {w.ToString(CultureInfo.InvariantCulture)}: {e.Message}"); }
                }
                using var net = ModelCatalog.Create(spec.Name, new LayerFactory(cpu, 0), config);
                var cost = ModelCost.Measure(net, size);
                if (cost.MeasuredSide != size) scaled.Add($"{spec.Name} ran at {cost.MeasuredSide}x{cost.MeasuredSide} (its sides must be multiples of {net.SizeMultiple * (net.Input == NetworkInput.LowResolution ? net.Scale : 1)})");
                table.AddRow(Markup.Escape(spec.Name), Markup.Escape(spec.Summary), Markup.Escape(ModelCatalog.ConfigJson(config)),
                    cost.Parameters.ToString("N0", CultureInfo.InvariantCulture),
                    (cost.ParameterBytes / 1e6).ToString("F1", CultureInfo.InvariantCulture),
                    (cost.Flops / 1e9).ToString("F2", CultureInfo.InvariantCulture));
            }
        });
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"GFLOP: the FLOPs the CPU kernels report for one eval-mode forward of one sample with a {size}x{size} output "
            + "(regression-ed reads the LR input, a quarter of that side); a multiply-add counts 2, a transposed convolution as its dense adjoint. MB = 10^6 bytes.");
        foreach (var s in scaled) AnsiConsole.MarkupLine(Markup.Escape($"{s}; its count is scaled by the ratio of output areas."));
        return 0;
    }
}
