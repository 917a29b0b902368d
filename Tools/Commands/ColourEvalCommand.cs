using ILGpuSat.Common;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Colorization;
using ILGpuSat.Inference.Evaluation;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat eval --colour DIR --models NAME|FILE... [--grey DIR]`: colour methods at the same resolution on a folder of
/// colour images (class subfolders allowed), thin over <see cref="ColourEvaluation"/>: OUT/colour_summary.md and .csv.
/// The word "default" stands for liu2018-color (the bundled liu2018's colour).
/// </summary>
public static class ColourEvalCommand
{
    public static int Run(string data, string[] modelNames, string output, string device, int perClass, string? greyFolder)
    {
        if (!Directory.Exists(data)) throw new UserError($"--colour {data}: no such folder.");
        if (greyFolder is not null && !Directory.Exists(greyFolder)) throw new UserError($"--grey {greyFolder}: no such folder.");
        var names = modelNames.Select(m => m == EvalCommand.DefaultModelWord ? ColourModels.Liu2018Color : m).ToArray();
        if (names.Length == 0) throw new UserError("--colour needs --models: colour model names or weights files.");
        foreach (var m in names)
            if (!ColourModels.Exists(m)) throw new UserError($"--models {m}: no such file, and not a bundled colour model ({string.Join(", ", ColourModels.BundledNames)}).");
        // Read every image (and its grey partner) before any model runs or any file is written.
        var images = EvaluationSet.List(data, perClass).Select(fc => (fc.File, ImageReader.Read(fc.File))).ToList();
        var greys = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (greyFolder is not null)
            foreach (var (file, image) in images)
            {
                string partner = Path.Combine(greyFolder, Path.GetFileName(file));
                if (!File.Exists(partner)) throw new UserError($"--grey: no grey image {partner} pairs with {file}.");
                var g = ImageReader.Read(partner, new ReadOptions { Stretch = StretchMode.FullRange, Bands = [1] });
                if (g.Width != image.Width || g.Height != image.Height)
                    throw new UserError($"--grey: {partner} is {g.Width}x{g.Height}, but {file} is {image.Width}x{image.Height}.");
                greys[file] = g.Planes[0];
            }
        using var backend = CommonOptions.CreateBackend(device);
        var models = new List<IColorizer>();
        try
        {
            foreach (var name in names) models.Add(ColourModels.Open(name, backend));
            var methods = models.Select(m => new ColourMethod(m.Name, (g, w, h) => m.Colorize(g, w, h),
                m is IHypothesisColorizer d ? (g, w, h) => d.Hypotheses(g, w, h, d.MaxHypotheses).Select(x => x.Rgb).ToList() : null)).ToList();
            IReadOnlyList<ColourSummaryRow> rows = null!;
            AnsiConsole.Status().Start("evaluating", ctx => rows = ColourEvaluation.Run(images, methods, f => ctx.Status(Markup.Escape(f)),
                greyFolder is null ? null : (file, _) => greys[file]));
            string markdown = ColourEvaluation.Markdown(rows);
            AnsiConsole.WriteLine(markdown);
            Directory.CreateDirectory(output);
            AtomicFile.WriteAllText(Path.Combine(output, "colour_summary.md"), markdown);
            AtomicFile.WriteAllText(Path.Combine(output, "colour_summary.csv"), ColourEvaluation.Csv(rows));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(Path.Combine(output, "colour_summary.md"))} and colour_summary.csv");
            return 0;
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }
}
