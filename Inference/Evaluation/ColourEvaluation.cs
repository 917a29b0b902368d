using System.Diagnostics;
using System.Globalization;
using System.Text;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// One colour method's mean over a folder: RGB PSNR (range 1), colourfulness (result and truth), ab-error AuC, ms per
/// image; for a method with several hypotheses, their diversity (mean over pairs of the mean per-pixel ab distance) and
/// the colour PSNR of the best of them per image (null otherwise).
/// </summary>
public sealed record ColourSummaryRow(string Method, int Images, double ColourPsnr, double Colourfulness, double TruthColourfulness, double AbAuc, double Milliseconds,
                                      double? Diversity = null, double? BestPsnr = null, int Hypotheses = 0)
{
    public double ColourfulnessRatio => TruthColourfulness > 0 ? Colourfulness / TruthColourfulness : 0;
}

/// <summary>
/// Colour methods compared at the same resolution on HR colour images (<c>eval --colour</c>): each image's grey is its
/// L* / 100 (the lightness every colorizer here reads), each method colours it, and the result is scored against the
/// image as <see cref="ImageScores"/> scores colour (RGB PSNR without a border, Hasler-Süsstrunk colourfulness,
/// Zhang's ab AuC). The first row is the grey itself as colour: L* = 100 grey, a* = b* = 0 (the truth with its colour
/// removed, for colour images), the floor every method must beat.
/// A method with hypotheses (divcolor) is scored by its most probable one, and also by the diversity of its
/// hypotheses and the best of them (the paper's best-of-K error, as PSNR).
/// </summary>
/// <param name="Hypotheses">Null, or the method's hypotheses for a grey image, most probable first.</param>
public sealed record ColourMethod(string Name, Func<float[], int, int, float[][]> Colorize, Func<float[], int, int, IReadOnlyList<float[][]>>? Hypotheses = null);

public static class ColourEvaluation
{
    public const string GreyRow = "grey (no colour)";

    /// <param name="greyOf">The grey each method reads for an image (file, truth); null = the truth's L* / 100.</param>
    public static IReadOnlyList<ColourSummaryRow> Run(IReadOnlyList<(string File, RasterImage Image)> images, IReadOnlyList<ColourMethod> methods,
        Action<string>? progress = null, Func<string, RasterImage, float[]>? greyOf = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(methods);
        if (images.Count == 0) throw new ArgumentException("eval --colour: no image.");
        var all = new List<ColourMethod> { new(GreyRow, (g, w, h) => Colorization.Colorizers.RgbOf(g, new float[g.Length], new float[g.Length])) };
        all.AddRange(methods);
        var sums = all.ToDictionary(m => m.Name, _ => new double[7]);
        var counts = all.ToDictionary(m => m.Name, _ => 0);
        foreach (var (file, image) in images)
        {
            progress?.Invoke(Path.GetFileName(file));
            if (image.Bands < 3) throw new ImageFormatException(file, $"has {image.Bands} band(s); colour evaluation needs RGB ground truth");
            int w = image.Width, h = image.Height;
            var truth = image.Planes[..3];
            var grey = greyOf is null ? Lab.UnitLightness(truth[0], truth[1], truth[2]) : greyOf(file, image);
            if (grey.Length != w * h) throw new ImageFormatException(file, $"its grey input has {grey.Length} pixels, the truth {w}x{h}");
            var (_, ta, tb) = ImageScores.ToLab(truth);
            double truthColourfulness = ColorMetrics.Colourfulness(truth[0], truth[1], truth[2]);
            foreach (var (name, colorize, hypothesesOf) in all)
            {
                var clock = Stopwatch.StartNew();
                var hypotheses = hypothesesOf?.Invoke(grey, w, h);
                var rgb = hypotheses is null ? colorize(grey, w, h) : hypotheses[0];
                double ms = clock.Elapsed.TotalMilliseconds;
                // A method with hypotheses: every one's a*b* once, the first's also for the AuC.
                var abs = (hypotheses ?? [rgb]).Select(x => { var (_, a, b) = ImageScores.ToLab(x); return (a, b); }).ToList();
                var (pa, pb) = abs[0];
                var s = sums[name];
                s[0] += ImageMetrics.Psnr(truth, rgb, w, h, 1.0);
                s[1] += ColorMetrics.Colourfulness(rgb[0], rgb[1], rgb[2]);
                s[2] += truthColourfulness;
                s[3] += ColorMetrics.AbAuc(pa, pb, ta, tb);
                s[4] += ms;
                if (hypotheses is null) continue;
                s[5] += ColorMetrics.MeanPairwiseAbDistance(abs);
                s[6] += hypotheses.Max(hyp => ImageMetrics.Psnr(truth, hyp, w, h, 1.0));
                counts[name] = hypotheses.Count;
            }
        }
        int n = images.Count;
        return all.Select(m =>
        {
            var s = sums[m.Name];
            bool several = m.Hypotheses is not null;
            return new ColourSummaryRow(m.Name, n, s[0] / n, s[1] / n, s[2] / n, s[3] / n, s[4] / n,
                                        several ? s[5] / n : null, several ? s[6] / n : null, counts[m.Name]);
        }).ToList();
    }

    public static string Markdown(IReadOnlyList<ColourSummaryRow> rows)
    {
        var sb = new StringBuilder();
        bool several = rows.Any(r => r.Diversity is not null);
        sb.AppendLine($"| method ({rows[0].Images} images) | colour PSNR dB | colourfulness | truth | ratio | ab AuC | ms / image |" + (several ? " diversity (ab) | best-of-K PSNR dB |" : ""));
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|" + (several ? "---:|---:|" : ""));
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Method} | {r.ColourPsnr:F2} | {r.Colourfulness:F1} | {r.TruthColourfulness:F1} | {r.ColourfulnessRatio:F3} | {r.AbAuc:F4} | {r.Milliseconds:F1} |")
                + (several ? (r.Diversity is { } d ? string.Create(CultureInfo.InvariantCulture, $" {d:F2} | {r.BestPsnr:F2} (K = {r.Hypotheses}) |") : " | |") : ""));
        return sb.ToString();
    }

    public static string Csv(IReadOnlyList<ColourSummaryRow> rows)
    {
        var sb = new StringBuilder().AppendLine("method,images,colour_psnr_db,colourfulness,colourfulness_truth,colourfulness_ratio,ab_auc,ms_per_image,diversity_ab,best_of_k_psnr_db,k");
        foreach (var r in rows)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"\"{r.Method.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{r.Images},{r.ColourPsnr:R},{r.Colourfulness:R},{r.TruthColourfulness:R},{r.ColourfulnessRatio:R},{r.AbAuc:R},{r.Milliseconds:R},{r.Diversity?.ToString("R", CultureInfo.InvariantCulture)},{r.BestPsnr?.ToString("R", CultureInfo.InvariantCulture)},{r.Hypotheses}"));
        return sb.ToString();
    }
}
