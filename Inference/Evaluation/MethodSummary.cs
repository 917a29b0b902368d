namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// The mean scores of one method over a group of images (one class, or all). Colour means are null when the
/// method does not colour. The colourfulness ratio is mean colourfulness over mean truth colourfulness (the
/// paper's reading: how much of the real colour the method brings back), not a mean of per-image ratios, which
/// a nearly grey truth image would dominate.
/// </summary>
public sealed record MethodSummary(string Method, string Class, int Images, double YPsnr, double Ssim, double? ColourPsnr,
                                   double? Colourfulness, double TruthColourfulness, double? AbAuc, double ParameterMegabytes, double Milliseconds)
{
    /// <summary>The label of the rows over every image.</summary>
    public const string AllClasses = "(all)";

    public double? ColourfulnessRatio => Colourfulness is { } c && TruthColourfulness > 0 ? c / TruthColourfulness : null;

    /// <summary>fp32 MB (10^6 bytes) of <paramref name="parameters"/> values, as the paper's "131.6 MB".</summary>
    public static double Megabytes(long parameters) => parameters * 4 / 1e6;

    /// <summary>Per class (ordinal order) then <see cref="AllClasses"/>, each with the methods in <paramref name="methodOrder"/>.</summary>
    public static IReadOnlyList<MethodSummary> Aggregate(IReadOnlyList<ImageScores> scores, IReadOnlyList<(string Name, long Parameters)> methodOrder)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(methodOrder);
        var result = new List<MethodSummary>();
        var classes = scores.Select(s => s.Class).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var group in classes.Select(c => (c, scores.Where(s => s.Class == c).ToList())).Append((AllClasses, scores.ToList())))
            foreach (var (name, parameters) in methodOrder)
            {
                var rows = group.Item2.Where(s => s.Method == name).ToList();
                if (rows.Count == 0) continue;
                result.Add(new MethodSummary(name, group.Item1, rows.Count, rows.Average(r => r.YPsnr), rows.Average(r => r.Ssim),
                    MeanOrNull(rows, r => r.ColourPsnr), MeanOrNull(rows, r => r.Colourfulness), rows.Average(r => r.TruthColourfulness),
                    MeanOrNull(rows, r => r.AbAuc), Megabytes(parameters), rows.Average(r => r.Milliseconds)));
            }
        return result;
    }

    static double? MeanOrNull(List<ImageScores> rows, Func<ImageScores, double?> value)
        => rows.All(r => value(r).HasValue) ? rows.Average(r => value(r)!.Value) : null;
}
