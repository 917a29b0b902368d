using System.Globalization;
using System.Text.Json;
using ILGpuSat.Common;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Misr;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Training.Data;
using ILGpuSat.Training.Runs;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat eval --misr DIR --models FILE...`: the slides' Table I (Inference/Misr/MisrEvaluation) on PROBA-V scene
/// folders with an HR (norm.csv beside them gives each scene's N), or, with --simulate N, on N held-out scenes simulated
/// from the source images in DIR with the first model's simulator settings (the files held out by name, as in training).
/// Writes misr_summary.md and misr_per_scene.csv to --out.
/// </summary>
public static class MisrEvalCommand
{
    public static int Run(string data, string[] modelPaths, string output, string device, int simulate, int seed, bool normaliseScene)
    {
        if (!Directory.Exists(data)) throw new UserError($"--misr {data}: no such folder.");
        if (modelPaths.Length == 0) throw new UserError("--misr needs --models: DeepSUM weights files and/or the word 'default' (the bundled DeepSUM).");
        using var backend = CommonOptions.CreateBackend(device);
        var models = new List<(string, MisrEnhancer)>();
        try
        {
            foreach (var path in modelPaths)
            {
                if (path != EvalCommand.DefaultModelWord && !File.Exists(path)) throw new UserError($"--models {path}: no such file.");
                var m = path == EvalCommand.DefaultModelWord ? MisrEnhancer.LoadDefault(backend) : MisrEnhancer.Load(path, backend);
                string name = m.IsSingleImage ? "single-image SR (SISRNet, clearest look)" : m.Config.UseRegNet ? "DeepSUM" : "DeepSUM without RegNet";
                if (models.Any(x => x.Item1 == name)) name += $" ({Path.GetFileNameWithoutExtension(path)})";
                models.Add((name, m));
            }
            var scenes = simulate > 0 ? Simulated(data, models[0].Item2, simulate, seed) : Folders(data);
            string norm = Path.Combine(data, "norm.csv");
            var norms = simulate == 0 && File.Exists(norm) ? ProbaVScene.ReadBaselines(norm) : null;
            IReadOnlyList<MisrSummaryRow> summary = null!;
            IReadOnlyList<MisrSceneRow> rows = null!;
            AnsiConsole.Status().Start("evaluating", ctx =>
                (summary, rows) = MisrEvaluation.Run(scenes, models, norms, s => ctx.Status(Markup.Escape(s)), new MisrOptions { NormaliseScene = normaliseScene }));
            var table = new Table().Border(TableBorder.Rounded).AddColumn($"method ({scenes.Count} scenes)");
            foreach (var h in new[] { "cPSNR dB", "score", "ms / scene" }) table.AddColumn(new TableColumn(h).RightAligned());
            foreach (var r in summary)
                table.AddRow(Markup.Escape(r.Method), r.CPsnr.ToString("F2", CultureInfo.InvariantCulture), r.Score.ToString("F4", CultureInfo.InvariantCulture),
                             r.MsPerScene.ToString("F1", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            Directory.CreateDirectory(output);
            AtomicFile.WriteAllText(Path.Combine(output, "misr_summary.md"), MisrEvaluation.Markdown(summary, scenes.Count));
            AtomicFile.WriteAllText(Path.Combine(output, "misr_per_scene.csv"), MisrEvaluation.Csv(rows));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(Path.Combine(output, "misr_summary.md"))} and misr_per_scene.csv");
            return 0;
        }
        finally
        {
            foreach (var (_, m) in models) m.Dispose();
        }
    }

    private static List<ProbaVScene> Folders(string root)
    {
        var folders = Directory.EnumerateFiles(root, "LR*.png").Any() ? [root]
            : Directory.GetDirectories(root).Order(StringComparer.Ordinal).Where(d => File.Exists(Path.Combine(d, "HR.png"))).ToList();
        if (folders.Count == 0) throw new UserError($"--misr {root}: no scene folder with an HR.png (imgsetXXXX/LR000.png, QM000.png, HR.png, SM.png).");
        return folders.Select(f => ProbaVScene.Load(f)).ToList();
    }

    private static List<ProbaVScene> Simulated(string sources, MisrEnhancer model, int count, int seed)
    {
        if (!model.Metadata.TryGetValue(Networks.Misr.DeepSumFile.SimulatorKey, out var json))
            throw new UserError("--simulate: the first model's metadata does not say which simulator settings it was trained with.");
        var options = JsonSerializer.Deserialize<MisrSimulatorOptions>(json, MisrTrainConfig.JsonOptions)!;
        var (_, heldOut) = MisrBatches.Split(Training.Data.ImageCatalog.ListImageFiles([sources]));
        if (heldOut.Count == 0) throw new UserError($"--misr {sources}: too few source images to hold any out.");
        var batches = new MisrBatches(heldOut, options, seed, model.Config.Mean, model.Config.Std);
        return Enumerable.Range(0, count).Select(i => batches.Scene(-1 - i, 0).Scene).ToList();
    }
}
