using System.Globalization;
using System.Text;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// The evaluation tables as Markdown (for reading: the overall table, then the paper's Table 2 layout of Y-PSNR
/// per class, SSIM per class, and the colour columns per class) and CSV (for tools: one row per class and method,
/// invariant culture, empty cells where a method has no colour).
/// </summary>
public static class TableWriter
{
    public static readonly string[] CsvColumns =
    [
        "class", "method", "images", "y_psnr_db", "ssim", "colour_psnr_db", "colourfulness", "colourfulness_truth",
        "colourfulness_ratio", "ab_auc", "params_mb", "ms_per_image",
    ];

    public static readonly string[] PerImageCsvColumns =
    [
        "file", "class", "method", "y_psnr_db", "ssim", "colour_psnr_db", "colourfulness", "colourfulness_truth", "ab_auc", "ms",
    ];

    public static string Csv(IReadOnlyList<MethodSummary> summaries)
    {
        var sb = new StringBuilder().AppendLine(string.Join(',', CsvColumns));
        foreach (var s in summaries)
            sb.AppendLine(string.Join(',', CsvField(s.Class), CsvField(s.Method), s.Images.ToString(CultureInfo.InvariantCulture),
                Num(s.YPsnr), Num(s.Ssim), Num(s.ColourPsnr), Num(s.Colourfulness), Num(s.TruthColourfulness),
                Num(s.ColourfulnessRatio), Num(s.AbAuc), Num(s.ParameterMegabytes), Num(s.Milliseconds)));
        return sb.ToString();
    }

    public static string PerImageCsv(IReadOnlyList<ImageScores> scores)
    {
        var sb = new StringBuilder().AppendLine(string.Join(',', PerImageCsvColumns));
        foreach (var s in scores)
            sb.AppendLine(string.Join(',', CsvField(s.File), CsvField(s.Class), CsvField(s.Method), Num(s.YPsnr), Num(s.Ssim),
                Num(s.ColourPsnr), Num(s.Colourfulness), Num(s.TruthColourfulness), Num(s.AbAuc), Num(s.Milliseconds)));
        return sb.ToString();
    }

    public static string Markdown(IReadOnlyList<MethodSummary> summaries, string title)
    {
        var sb = new StringBuilder().AppendLine($"# {title}").AppendLine();
        var methods = summaries.Select(s => s.Method).Distinct().ToList();
        var classes = summaries.Select(s => s.Class).Distinct().ToList();
        var overall = summaries.Where(s => s.Class == MethodSummary.AllClasses).ToList();
        int images = overall.Count == 0 ? 0 : overall.Max(s => s.Images);

        sb.AppendLine($"## All images ({images})").AppendLine();
        Table(sb, ["method", "Y-PSNR (dB)", "SSIM", "colour PSNR (dB)", "colourfulness", "truth colourfulness", "ratio", "ab AuC", "params (MB)", "ms / image"],
            overall.Select(s => new[]
            {
                s.Method, F(s.YPsnr, 2), F(s.Ssim, 4), F(s.ColourPsnr, 2), F(s.Colourfulness, 2), F(s.TruthColourfulness, 2),
                F(s.ColourfulnessRatio, 3), F(s.AbAuc, 4), F(s.ParameterMegabytes, 3), F(s.Milliseconds, 1),
            }));

        void PerClass(string heading, Func<MethodSummary, string> cell, IReadOnlyList<string> columns)
        {
            sb.AppendLine($"## {heading}").AppendLine();
            Table(sb, ["class", .. columns], classes.Select(c => new[] { c }.Concat(columns.Select(m =>
                summaries.FirstOrDefault(s => s.Class == c && s.Method == m) is { } s ? cell(s) : "")).ToArray()));
        }
        PerClass("Y-PSNR (dB) per class (border 4)", s => F(s.YPsnr, 2), methods);
        PerClass("SSIM per class (border 4)", s => F(s.Ssim, 4), methods);
        var colouring = methods.Where(m => summaries.Any(s => s.Method == m && s.ColourPsnr.HasValue)).ToList();
        if (colouring.Count > 0)
        {
            PerClass("Colour PSNR (dB) per class", s => F(s.ColourPsnr, 2), colouring);
            PerClass("Colourfulness ratio (result / truth) per class", s => F(s.ColourfulnessRatio, 3), colouring);
            PerClass("ab-error AuC per class (thresholds 0..150)", s => F(s.AbAuc, 4), colouring);
        }
        return sb.ToString();
    }

    static void Table(StringBuilder sb, IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        sb.AppendLine("| " + string.Join(" | ", header.Select(Md)) + " |");
        sb.AppendLine("|" + string.Join("|", header.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
        foreach (var r in rows) sb.AppendLine("| " + string.Join(" | ", r.Select(Md)) + " |");
        sb.AppendLine();
    }

    static string Md(string s) => s.Replace("|", "\\|");

    static string F(double? v, int digits) => v is { } x ? (double.IsPositiveInfinity(x) ? "inf" : x.ToString("F" + digits, CultureInfo.InvariantCulture)) : "";

    static string Num(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>RFC 4180: quote fields holding a comma, quote or line break.</summary>
    static string CsvField(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
