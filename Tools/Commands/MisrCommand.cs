using System.CommandLine;
using System.Diagnostics;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Misr;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat misr SCENE... -o OUT [--model FILE]`: multi-image SR, thin over <see cref="MisrEnhancer"/>. A SCENE is a
/// PROBA-V scene folder (imgsetXXXX/LRnnn.png, QMnnn.png), written to OUT/NAME.png as 16-bit (the archive's
/// encoding: value / 65535), or a folder of co-registered looks of one area (NAME.tif with optional NAME_mask.tif,
/// <see cref="CoRegisteredLooks"/>), written to OUT/NAME.tif at the looks' depth with their georeference (pixel size
/// / scale) and nodata where no look is clear. A folder that holds such folders is searched one level down. A scene
/// that fails is named with the reason and skipped; the exit code is 1 when any failed. Existing outputs are kept
/// unless --overwrite.
/// </summary>
public static class MisrCommand
{
    public static Command Create()
    {
        var scenes = new Argument<string[]>("SCENE") { Description = "PROBA-V scene folders (LR000.png, QM000.png, ...) or folders of co-registered GeoTIFF looks (NAME.tif, optional NAME_mask.tif), or folders of them", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "output folder (NAME.png per PROBA-V scene, NAME.tif per folder of looks)", Required = true };
        var model = new Option<string?>("--model") { Description = "DeepSUM weights (ilgpusat train --model deepsum); default: the bundled DeepSUM (x3)" };
        var band = new Option<int>("--band") { Description = "band of each GeoTIFF look to fuse (1-based)", DefaultValueFactory = _ => 1 };
        var tile = new Option<int>("--tile") { Description = "LR pixels per tile side; larger scenes run in blended tiles", DefaultValueFactory = _ => MisrOptions.Default.TileSize };
        var overlap = new Option<int>("--overlap") { Description = "LR pixels shared by neighbouring tiles (blended)", DefaultValueFactory = _ => MisrOptions.Default.Overlap };
        var windows = new Option<int>("--windows") { Description = "most windows of looks fused and averaged when a scene has more looks than the model fuses (sliding window)", DefaultValueFactory = _ => MisrOptions.Default.MaxWindows };
        var modelConstants = new Option<bool>("--model-constants") { Description = "standardise with the model's training constants instead of each scene's clearest look (the default suits any units: docs/misr.md)" };
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "replace existing outputs (default: keep them and skip the scene)" };
        var cmd = new Command("misr", "Multi-image super-resolution of unregistered looks (DeepSUM): PROBA-V scenes or folders of co-registered GeoTIFF looks")
        {
            scenes, output, model, band, tile, overlap, windows, modelConstants, device, overwrite,
        };
        cmd.SetAction(pr =>
        {
            var options = new MisrOptions { TileSize = pr.GetValue(tile), Overlap = pr.GetValue(overlap), MaxWindows = pr.GetValue(windows), NormaliseScene = !pr.GetValue(modelConstants) };
            return Run(pr.GetValue(scenes)!, pr.GetValue(output)!, pr.GetValue(model), pr.GetValue(band), options, pr.GetValue(device)!, pr.GetValue(overwrite));
        });
        return cmd;
    }

    private static bool IsProbaV(string folder) => Directory.EnumerateFiles(folder, "LR*.png").Any();

    private static bool IsScene(string folder) => IsProbaV(folder) || CoRegisteredLooks.IsLookFolder(folder);

    private static IEnumerable<string> SceneFolders(string input)
    {
        if (!Directory.Exists(input)) throw new DirectoryNotFoundException($"'{input}': no such scene folder.");
        if (IsScene(input)) return [input];
        var inner = Directory.GetDirectories(input).Order(StringComparer.Ordinal).Where(IsScene).ToList();
        return inner.Count > 0 ? inner : [input]; // the scene reader names what is missing
    }

    private static int Run(string[] inputs, string output, string? modelPath, int band, MisrOptions options, string device, bool overwrite)
    {
        var folders = inputs.SelectMany(SceneFolders).ToList();
        using var backend = CommonOptions.CreateBackend(device);
        using var enhancer = modelPath is null ? MisrEnhancer.LoadDefault(backend) : MisrEnhancer.Load(modelPath, backend);
        Directory.CreateDirectory(output);
        int failed = 0, done = 0, kept = 0;
        var clock = Stopwatch.StartNew();
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("scenes", maxValue: folders.Count);
            var passes = ctx.AddTask("tiles", maxValue: 1);
            foreach (var folder in folders)
            {
                string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
                bool probaV = IsProbaV(folder);
                string target = Path.Combine(output, name + (probaV ? ".png" : ".tif"));
                task.Description = Markup.Escape(name);
                try
                {
                    if (ExistingOutput.Kept(target, overwrite))
                    {
                        kept++;
                        continue;
                    }
                    int need = enhancer.IsSingleImage ? 1 : enhancer.Config.Frames;
                    var looks = probaV ? null : CoRegisteredLooks.Load(folder, band, need);
                    var scene = looks?.Scene ?? ProbaVScene.Load(folder, need);
                    var progress = new Progress<MisrProgress>(p => { passes.MaxValue = p.PassesTotal; passes.Value = p.PassesDone; });
                    var sr = enhancer.SuperResolve(scene, options, progress);
                    int w = scene.LrWidth * enhancer.Scale, h = scene.LrHeight * enhancer.Scale;
                    var image = new RasterImage(w, h, [sr]);
                    if (looks is null) ImageWriter.Write(target, image, new WriteOptions { BitDepth = 16 });
                    else
                    {
                        if (looks.HasNoData) image.Valid = AnyClear(scene, enhancer.Scale);
                        ImageWriter.Write(target, image, new WriteOptions { BitDepth = looks.BitDepth, Geo = looks.Geo?.ScaledBy(enhancer.Scale) });
                    }
                    done++;
                }
                catch (Exception e) when (e is ImageFormatException or IOException or ArgumentException or InvalidDataException or UnauthorizedAccessException)
                {
                    failed++;
                    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(name)}: {Markup.Escape(e.Message)}");
                }
                finally { task.Increment(1); }
            }
        });
        AnsiConsole.MarkupLine($"super-resolved {done} scene(s), kept {kept}, failed {failed}, in {clock.Elapsed.TotalSeconds:F1} s with DeepSUM on {Markup.Escape(backend.Name)}");
        return failed > 0 ? 1 : 0;
    }

    // HR pixels where at least one look is clear (nearest-upsampled): the rest stays nodata in the output.
    private static bool[] AnyClear(ProbaVScene scene, int scale)
    {
        int lrW = scene.LrWidth, w = lrW * scale, h = scene.LrHeight * scale;
        var valid = new bool[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y / scale * lrW + x / scale;
                valid[y * w + x] = scene.Frames.Any(f => f.Clear[i]);
            }
        return valid;
    }
}
