using ILGpuSat.Common;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Colorization;
using ILGpuSat.Inference.Evaluation;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat eval --colour DIR --models FILE...`: colour methods at the same resolution on a folder of HR colour
/// images (class subfolders allowed), thin over <see cref="ColourEvaluation"/>: OUT/colour_summary.md and .csv.
/// </summary>
public static class ColourEvalCommand
{
    public static int Run(string data, string[] modelPaths, string output, string device, int perClass)
    {
        if (!Directory.Exists(data)) throw new UserError($"--colour {data}: no such folder.");
        if (modelPaths.Length == 0) throw new UserError("--colour needs --models: gan-colorizer weights files.");
        foreach (var m in modelPaths)
            if (!GanColorizerModel.BundledNames.Contains(m) && !File.Exists(m)) throw new UserError($"--models {m}: no such file, and not a bundled colour model.");
        // Read every image before any model runs or any file is written.
        var images = EvaluationSet.List(data, perClass).Select(fc => (fc.File, ImageReader.Read(fc.File))).ToList();
        using var backend = CommonOptions.CreateBackend(device);
        var models = modelPaths.Select(p => (Name: GanColorizerModel.BundledNames.Contains(p) ? $"{p} (bundled)" : $"gan-colorizer ({Path.GetFileNameWithoutExtension(p)})",
                                             Model: GanColorizerModel.Open(p, backend))).ToList();
        try
        {
            IReadOnlyList<ColourSummaryRow> rows = null!;
            AnsiConsole.Status().Start("evaluating", ctx => rows = ColourEvaluation.Run(images,
                models.Select(m => (m.Name, (Func<float[], int, int, float[][]>)((g, w, h) => m.Model.Colorize(g, w, h)))).ToList(),
                f => ctx.Status(Markup.Escape(f))));
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
            foreach (var m in models) m.Model.Dispose();
        }
    }
}
