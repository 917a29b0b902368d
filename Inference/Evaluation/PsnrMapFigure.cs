using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// The paper's Fig. 3 for one image: the grey truth, then per method the Y-PSNR of each tile of its grey result
/// (jet colours, blue = low), all maps on one dB scale (the lowest and highest finite tile over all maps) so
/// they compare at a glance; the last map carries the colour bar.
/// </summary>
public static class PsnrMapFigure
{
    public sealed record Map(string Method, PsnrMap Values);

    public static IReadOnlyList<Map> Compute(EvaluationCase c, IReadOnlyList<(string Method, float[] Grey)> results, int tileSize)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(results);
        var truthY = ImageScores.GreyLuma(c.TruthGrey);
        return results.Select(r => new Map(r.Method, PsnrMap.Compute(truthY, ImageScores.GreyLuma(r.Grey), c.Width, c.Height, tileSize, 255))).ToList();
    }

    /// <summary>The common dB range of the maps (finite tiles); a flat range is widened by 1 dB so it renders.</summary>
    public static (double MinDb, double MaxDb) Range(IReadOnlyList<Map> maps)
    {
        var finite = maps.SelectMany(m => m.Values.Values).Where(double.IsFinite).ToList();
        if (finite.Count == 0) return (0, 100);
        double lo = Math.Floor(finite.Min()), hi = Math.Ceiling(finite.Max());
        return hi > lo ? (lo, hi) : (lo, lo + 1);
    }

    public static RasterImage Render(EvaluationCase c, IReadOnlyList<Map> maps, int legendWidth = 16)
    {
        if (maps.Count == 0) throw new ArgumentException("PSNR map figure: no method to map.");
        var (lo, hi) = Range(maps);
        var pictures = new List<RasterImage> { PictureGrid.Grey(c.TruthGrey, c.Width, c.Height) };
        for (int i = 0; i < maps.Count; i++) pictures.Add(maps[i].Values.Render(lo, hi, i == maps.Count - 1 ? legendWidth : 0));
        return PictureGrid.Compose([pictures]);
    }
}
