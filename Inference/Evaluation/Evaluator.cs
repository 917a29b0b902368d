using System.Diagnostics;
using ILGpuSat.Common;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference.Evaluation;

public sealed record EvaluationOptions
{
    public int Scale { get; init; } = 4;

    /// <summary>Rows of the picture grid: the first N images (path order).</summary>
    public int GridImages { get; init; } = 4;

    /// <summary>The image of the PSNR-map figure: a file name (with or without extension) or null for the first image.</summary>
    public string? MapImage { get; init; }

    /// <summary>Side of the PSNR map's tiles in HR pixels.</summary>
    public int MapTileSize { get; init; } = 16;
}

/// <summary>What an evaluation found and where it wrote it.</summary>
public sealed record EvaluationReport(IReadOnlyList<ImageScores> Scores, IReadOnlyList<MethodSummary> Summaries, IReadOnlyList<string> Files);

/// <summary>
/// Runs every method on every case (one untimed warm-up run per method first, so the milliseconds exclude JIT and
/// first-touch allocation), scores them and writes the tables and the two figures. Everything is computed before
/// anything is written, and every file is written atomically, so a failure leaves no partial result set.
/// </summary>
public static class Evaluator
{
    public const string SummaryMarkdown = "summary.md", SummaryCsv = "summary.csv", PerImageCsv = "per_image.csv",
                        GridPng = "grid.png", MapPng = "psnr-map.png";

    public static EvaluationReport Run(IReadOnlyList<EvaluationCase> cases, IReadOnlyList<IEvaluatedMethod> methods,
        string outputFolder, EvaluationOptions? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(outputFolder);
        options ??= new EvaluationOptions();
        if (cases.Count == 0) throw new ArgumentException("evaluation: no images.");
        if (methods.Count == 0) throw new ArgumentException("evaluation: no methods.");
        var duplicate = methods.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"evaluation: method '{duplicate.Key}' is given twice; each row needs its own name.");

        var mapCase = PickMapCase(cases, options.MapImage);
        var gridCases = cases.Take(options.GridImages).ToList();
        var kept = new Dictionary<(string Method, EvaluationCase Case), MethodOutput>();
        var scores = new List<ImageScores>();
        foreach (var method in methods)
        {
            progress?.Report($"{method.Name}: warm-up");
            method.Run(cases[0].LowResolution, options.Scale);
            for (int i = 0; i < cases.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var c = cases[i];
                progress?.Report($"{method.Name}: {i + 1}/{cases.Count} {c.Name}");
                var clock = Stopwatch.StartNew();
                var output = method.Run(c.LowResolution, options.Scale);
                double ms = clock.Elapsed.TotalMilliseconds;
                scores.Add(ImageScores.Compute(method.Name, c, output, ms));
                if (gridCases.Contains(c) || c == mapCase) kept[(method.Name, c)] = output;
            }
        }

        var summaries = MethodSummary.Aggregate(scores, methods.Select(m => (m.Name, m.Parameters)).ToList());
        var grid = PictureGrid.Compose(gridCases.Select(c => GridRow(c, methods, kept, options.Scale)).ToList());
        var maps = PsnrMapFigure.Compute(mapCase, methods.Select(m => (m.Name, kept[(m.Name, mapCase)].Grey)).ToList(), options.MapTileSize);
        var mapImage = PsnrMapFigure.Render(mapCase, maps);
        var (lo, hi) = PsnrMapFigure.Range(maps);

        var markdown = TableWriter.Markdown(summaries, $"Evaluation of {cases.Count} images, {options.Scale}x")
            + Legend(methods, gridCases, mapCase, maps, lo, hi, options);

        Directory.CreateDirectory(outputFolder);
        var files = new List<string>();
        void Text(string name, string text) { var p = Path.Combine(outputFolder, name); AtomicFile.WriteAllText(p, text); files.Add(p); }
        void Png(string name, RasterImage image)
        {
            var p = Path.Combine(outputFolder, name);
            ImageWriter.Write(p, image, new WriteOptions { Format = ImageFileFormat.Png });
            files.Add(p);
        }
        Text(SummaryCsv, TableWriter.Csv(summaries));
        Text(PerImageCsv, TableWriter.PerImageCsv(scores));
        Png(GridPng, grid);
        Png(MapPng, mapImage);
        Text(SummaryMarkdown, markdown);
        return new EvaluationReport(scores, summaries, files);
    }

    static EvaluationCase PickMapCase(IReadOnlyList<EvaluationCase> cases, string? name)
    {
        if (name is null) return cases[0];
        return cases.FirstOrDefault(c => Path.GetFileName(c.File) == name || c.Name == name)
            ?? throw new ArgumentException($"evaluation: the PSNR-map image '{name}' is not among the {cases.Count} evaluated images.");
    }

    /// <summary>LR (nearest x scale), then each method's grey result, then each colouring method's colour, then the truth.</summary>
    static IReadOnlyList<RasterImage> GridRow(EvaluationCase c, IReadOnlyList<IEvaluatedMethod> methods,
        Dictionary<(string, EvaluationCase), MethodOutput> kept, int scale)
    {
        var row = new List<RasterImage> { PictureGrid.Nearest(c.LowResolution, scale) };
        row.AddRange(methods.Select(m => PictureGrid.Grey(kept[(m.Name, c)].Grey, c.Width, c.Height)));
        row.AddRange(methods.Where(m => m.Colours).Select(m => kept[(m.Name, c)].Colour!));
        row.Add(c.Truth);
        return row;
    }

    static string Legend(IReadOnlyList<IEvaluatedMethod> methods, List<EvaluationCase> gridCases, EvaluationCase mapCase,
        IReadOnlyList<PsnrMapFigure.Map> maps, double lo, double hi, EvaluationOptions options)
    {
        var columns = new List<string> { $"LR input (nearest x{options.Scale})" };
        columns.AddRange(methods.Select(m => $"{m.Name} (grey)"));
        columns.AddRange(methods.Where(m => m.Colours).Select(m => $"{m.Name} (colour)"));
        columns.Add("ground truth");
        var means = string.Join(", ", maps.Select(m => $"{m.Method} {m.Values.Values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average():F2}"));
        return $"## Figures\n\n`{GridPng}`: rows {string.Join(", ", gridCases.Select(c => c.Name))}; columns {string.Join(" | ", columns)}.\n\n"
            + $"`{MapPng}`: {mapCase.Name}: grey truth, then the Y-PSNR of each {options.MapTileSize}x{options.MapTileSize} tile of "
            + $"{string.Join(", ", maps.Select(m => m.Method))}; jet colours from {lo:F0} dB (blue) to {hi:F0} dB (red), colour bar on the right. "
            + $"Mean tile PSNR: {means} dB.\n\n"
            + "Conventions: grey = the sRGB grey of the truth's CIE L*; LR = MATLAB-style antialiased bicubic /4 of it; Y = BT.601 luma "
            + "(range 255), PSNR and SSIM after cutting 4 pixels from each side; colour PSNR on RGB (range 1); ratio = mean colourfulness "
            + "over the truth's; ab AuC over thresholds 0..150; params as fp32 MB; ms per image after one warm-up run, pre- and post-processing included.\n";
    }
}
