using System.CommandLine;
using System.Globalization;
using ILGpuSat.Inference;
using ILGpuSat.Inference.Evaluation;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat eval --data DIR [--models ...]`: the paper's Tables 2 and 3 and Fig. 3 for a folder of HR colour images
/// (Inference/Evaluation does the work; docs/evaluation.md says how every number is made).
/// </summary>
public static class EvalCommand
{
    public const string DefaultModelWord = "default";

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "folder of HR colour images, optionally in class subfolders" };
        var misr = new Option<string>("--misr") { Description = "multi-image SR instead: PROBA-V scene folders with an HR (norm.csv beside them), or source images with --simulate (docs/misr.md)" };
        var colour = new Option<string>("--colour") { Description = "colour methods instead: HR colour images, each coloured from its L* (or --grey's image) by every --models colour model (docs/colorizers.md)" };
        var grey = new Option<string>("--grey") { Description = "with --colour: folder of the grey inputs (SAR) paired with the colour images by file name, read as band 1" };
        var simulate = new Option<int>("--simulate") { Description = "with --misr: evaluate N held-out scenes simulated from the source images in that folder", DefaultValueFactory = _ => 0 };
        var modelConstants = new Option<bool>("--model-constants") { Description = "with --misr: standardise scenes with the model's training constants instead of each scene's clearest look (docs/misr.md)" };
        var seed = new Option<int>("--seed") { Description = "with --misr --simulate: the scenes' seed", DefaultValueFactory = _ => 2019 };
        var models = new Option<string[]>("--models")
        {
            Description = "weights files (each names its architecture in its metadata) and/or the word 'default'; bicubic is always the first row",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [DefaultModelWord],
        };
        var output = new Option<string>("--out") { Description = "folder for summary.md, summary.csv, per_image.csv, grid.png, psnr-map.png", DefaultValueFactory = _ => "eval" };
        var device = CommonOptions.Device();
        var perClass = new Option<int>("--per-class") { Description = "evaluate only the first N images of each class (0 = all)", DefaultValueFactory = _ => 0 };
        var grid = new Option<int>("--grid") { Description = "rows of the picture grid (the first N images)", DefaultValueFactory = _ => 4 };
        var mapImage = new Option<string?>("--map-image") { Description = "the image of the PSNR-map figure (file name; default the first image)" };
        var tile = new Option<int>("--map-tile") { Description = "PSNR-map tile side in HR pixels", DefaultValueFactory = _ => 16 };
        var cmd = new Command("eval", "Evaluate bicubic and trained models on HR colour images: Y-PSNR, SSIM, colour PSNR, colourfulness, ab AuC, size, speed; per class and overall")
        {
            data, models, output, device, perClass, grid, mapImage, tile, misr, simulate, seed, modelConstants, colour, grey,
        };
        cmd.SetAction(pr => pr.GetValue(colour) is { } colourData
            ? ColourEvalCommand.Run(colourData, pr.GetValue(models)!, pr.GetValue(output)!, pr.GetValue(device)!, pr.GetValue(perClass), pr.GetValue(grey))
            : pr.GetValue(misr) is { } misrData
            ? MisrEvalCommand.Run(misrData, pr.GetValue(models)!, pr.GetValue(output)!, pr.GetValue(device)!, pr.GetValue(simulate), pr.GetValue(seed), !pr.GetValue(modelConstants))
            : pr.GetValue(data) is null ? throw new UserError("eval needs --data DIR (or --misr DIR for multi-image SR).")
            : Run(pr.GetValue(data)!, pr.GetValue(models)!, pr.GetValue(output)!, pr.GetValue(device)!, pr.GetValue(perClass),
            pr.GetValue(grid), pr.GetValue(mapImage), pr.GetValue(tile)));
        return cmd;
    }

    private static int Run(string data, string[] modelArgs, string output, string device, int perClass, int gridRows, string? mapImage, int mapTile)
    {
        if (perClass < 0 || gridRows < 1 || mapTile < 1) throw new UserError("--per-class must be 0 or more, --grid and --map-tile positive.");
        if (!Directory.Exists(data)) throw new UserError($"--data {data}: no such folder.");
        foreach (var m in modelArgs)
            if (m != DefaultModelWord && !File.Exists(m)) throw new UserError($"--models {m}: no such file (give weights files or the word '{DefaultModelWord}').");

        // Read and check every image before any model runs or any file is written.
        IReadOnlyList<EvaluationCase> cases = null!;
        AnsiConsole.Status().Start("reading images", _ => cases = EvaluationSet.Load(data, perClass: perClass));
        using var backend = CommonOptions.CreateBackend(device);
        var methods = new List<IEvaluatedMethod> { new BicubicMethod() };
        try
        {
            foreach (var m in modelArgs)
            {
                var enhancer = m == DefaultModelWord ? Enhancer.LoadDefault(backend) : Enhancer.Load(m, backend);
                string name = enhancer.Model.ModelName;
                if (methods.Any(x => x.Name == name)) name = $"{name} ({(m == DefaultModelWord ? DefaultModelWord : Path.GetFileNameWithoutExtension(m))})";
                methods.Add(new EnhancerMethod(enhancer, name));
            }
            AnsiConsole.MarkupLine($"[bold]eval[/] {cases.Count} images in {cases.Select(c => c.Class).Distinct().Count()} class(es), "
                + $"{string.Join(", ", methods.Select(m => Markup.Escape(m.Name)))} on [green]{Markup.Escape(backend.Name)}[/]");
            EvaluationReport report = null!;
            var options = new EvaluationOptions { GridImages = gridRows, MapImage = mapImage, MapTileSize = mapTile };
            AnsiConsole.Status().Start("evaluating", ctx =>
                report = Evaluator.Run(cases, methods, output, options, new Progress<string>(s => ctx.Status(Markup.Escape(s)))));

            var table = new Table().Border(TableBorder.Rounded).AddColumn("method");
            foreach (var h in new[] { "Y-PSNR dB", "SSIM", "colour PSNR dB", "colourfulness (truth)", "ab AuC", "params MB", "ms / image" })
                table.AddColumn(new TableColumn(h).RightAligned());
            foreach (var s in report.Summaries.Where(s => s.Class == MethodSummary.AllClasses))
                table.AddRow(Markup.Escape(s.Method), F(s.YPsnr, 2), F(s.Ssim, 4), F(s.ColourPsnr, 2),
                    s.Colourfulness is { } c ? $"{F(c, 1)} ({F(s.TruthColourfulness, 1)})" : "", F(s.AbAuc, 4), F(s.ParameterMegabytes, 3), F(s.Milliseconds, 1));
            AnsiConsole.Write(table);
            foreach (var f in report.Files) AnsiConsole.MarkupLine($"wrote {Markup.Escape(f)}");
            return 0;
        }
        finally
        {
            foreach (var m in methods) m.Dispose();
        }
    }

    private static string F(double? v, int digits) => v is { } x ? x.ToString("F" + digits, CultureInfo.InvariantCulture) : "";
}
