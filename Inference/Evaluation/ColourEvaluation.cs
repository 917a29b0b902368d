using System.Diagnostics;
using System.Globalization;
using System.Text;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>One colour method's mean over a folder: RGB PSNR (range 1), colourfulness (result and truth), ab-error AuC, ms per image.</summary>
public sealed record ColourSummaryRow(string Method, int Images, double ColourPsnr, double Colourfulness, double TruthColourfulness, double AbAuc, double Milliseconds)
{
    public double ColourfulnessRatio => TruthColourfulness > 0 ? Colourfulness / TruthColourfulness : 0;
}

/// <summary>
/// Colour methods compared at the same resolution on HR colour images (<c>eval --colour</c>): each image's grey is its
/// L* / 100 (the lightness every colorizer here reads), each method colours it, and the result is scored against the
/// image as <see cref="ImageScores"/> scores colour (RGB PSNR without a border, Hasler-Süsstrunk colourfulness,
/// Zhang's ab AuC). The first row is the grey itself shown as RGB: no colour at all, the floor every method must beat.
/// </summary>
public static class ColourEvaluation
{
    public const string GreyRow = "grey (no colour)";

    public static IReadOnlyList<ColourSummaryRow> Run(IReadOnlyList<(string File, RasterImage Image)> images,
        IReadOnlyList<(string Name, Func<float[], int, int, float[][]> Colorize)> methods, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(methods);
        if (images.Count == 0) throw new ArgumentException("eval --colour: no image.");
        var all = new List<(string Name, Func<float[], int, int, float[][]> Colorize)> { (GreyRow, (g, w, h) => [g, g, g]) };
        all.AddRange(methods);
        var sums = all.ToDictionary(m => m.Name, _ => new double[5]);
        foreach (var (file, image) in images)
        {
            progress?.Invoke(Path.GetFileName(file));
            if (image.Bands < 3) throw new ImageFormatException(file, $"has {image.Bands} band(s); colour evaluation needs RGB ground truth");
            int w = image.Width, h = image.Height;
            var truth = image.Planes[..3];
            var grey = Lab.UnitLightness(truth[0], truth[1], truth[2]);
            var (_, ta, tb) = ImageScores.ToLab(truth);
            double truthColourfulness = ColorMetrics.Colourfulness(truth[0], truth[1], truth[2]);
            foreach (var (name, colorize) in all)
            {
                var clock = Stopwatch.StartNew();
                var rgb = colorize(grey, w, h);
                double ms = clock.Elapsed.TotalMilliseconds;
                var (_, pa, pb) = ImageScores.ToLab(rgb);
                var s = sums[name];
                s[0] += ImageMetrics.Psnr(truth, rgb, w, h, 1.0);
                s[1] += ColorMetrics.Colourfulness(rgb[0], rgb[1], rgb[2]);
                s[2] += truthColourfulness;
                s[3] += ColorMetrics.AbAuc(pa, pb, ta, tb);
                s[4] += ms;
            }
        }
        int n = images.Count;
        return all.Select(m => { var s = sums[m.Name]; return new ColourSummaryRow(m.Name, n, s[0] / n, s[1] / n, s[2] / n, s[3] / n, s[4] / n); }).ToList();
    }

    public static string Markdown(IReadOnlyList<ColourSummaryRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| method ({rows[0].Images} images) | colour PSNR dB | colourfulness | truth | ratio | ab AuC | ms / image |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Method} | {r.ColourPsnr:F2} | {r.Colourfulness:F1} | {r.TruthColourfulness:F1} | {r.ColourfulnessRatio:F3} | {r.AbAuc:F4} | {r.Milliseconds:F1} |"));
        return sb.ToString();
    }

    public static string Csv(IReadOnlyList<ColourSummaryRow> rows)
    {
        var sb = new StringBuilder().AppendLine("method,images,colour_psnr_db,colourfulness,colourfulness_truth,colourfulness_ratio,ab_auc,ms_per_image");
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"\"{r.Method.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{r.Images},{r.ColourPsnr:R},{r.Colourfulness:R},{r.TruthColourfulness:R},{r.ColourfulnessRatio:R},{r.AbAuc:R},{r.Milliseconds:R}"));
        return sb.ToString();
    }
}
