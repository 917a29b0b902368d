using ILGpuSat.Common;
using ScottPlot;

namespace ILGpuSat.Training.Runs;

/// <summary>Loss and PSNR curves of a run (ScottPlot 5, rendered headless through SkiaSharp), written atomically.</summary>
public static class Plots
{
    public const string LossName = "loss.png";
    public const string PsnrName = "psnr.png";

    public static void Write(string runFolder, MetricsLog metrics, MetricsLog? validation)
    {
        if (metrics.Rows.Count > 0)
        {
            var plot = new Plot();
            var steps = metrics.Column("step");
            foreach (var name in metrics.Columns.Skip(4).SkipLast(1))
                plot.Add.ScatterLine(steps, metrics.Column(name)).LegendText = name;
            plot.Add.ScatterLine(steps, metrics.Column("loss")).LegendText = "total";
            Finish(plot, "training loss (mean per log interval)", "loss", Path.Combine(runFolder, LossName));
        }
        if (validation is { Rows.Count: > 0 })
        {
            var plot = new Plot();
            var steps = validation.Column("step");
            plot.Add.ScatterLine(steps, validation.Column("psnr_sr")).LegendText = "network";
            plot.Add.ScatterLine(steps, validation.Column("psnr_bicubic")).LegendText = "bicubic";
            Finish(plot, "validation Y-PSNR", "dB", Path.Combine(runFolder, PsnrName));
        }
    }

    /// <summary>Named curves over the steps in one figure (the GAN's losses, its discriminator's accuracy).</summary>
    public static void Curves(string path, string title, string unit, double[] steps, IReadOnlyList<(string Name, double[] Values)> curves)
    {
        if (steps.Length == 0) return;
        var plot = new Plot();
        foreach (var (name, values) in curves) plot.Add.ScatterLine(steps, values).LegendText = name;
        Finish(plot, title, unit, path);
    }

    private static void Finish(Plot plot, string title, string unit, string path)
    {
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(unit);
        plot.ShowLegend();
        byte[] png = plot.GetImageBytes(900, 500, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(png));
    }
}
