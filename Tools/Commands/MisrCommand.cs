using System.CommandLine;
using System.Diagnostics;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Misr;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat misr SCENE... -o OUT --model FILE`: multi-image SR of PROBA-V scene folders (imgsetXXXX/LRnnn.png,
/// QMnnn.png), thin over <see cref="MisrEnhancer"/>. A folder that holds scene folders is searched one level down.
/// Each scene's SR goes to OUT/NAME.png as 16-bit (the archive's encoding: value / 65535). A scene that fails is
/// named with the reason and skipped; the exit code is 1 when any failed. Existing outputs are kept unless --overwrite.
/// </summary>
public static class MisrCommand
{
    public static Command Create()
    {
        var scenes = new Argument<string[]>("SCENE") { Description = "PROBA-V scene folders (imgsetXXXX with LR000.png, QM000.png, ...), or folders of them", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "output folder (NAME.png per scene, 16-bit)", Required = true };
        var model = new Option<string?>("--model") { Description = "DeepSUM weights (ilgpusat train --model deepsum); default: the bundled DeepSUM (x3)" };
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "replace existing outputs (default: keep them and skip the scene)" };
        var cmd = new Command("misr", "Multi-image super-resolution of unregistered frames (DeepSUM) for scenes in the PROBA-V layout")
        {
            scenes, output, model, device, overwrite,
        };
        cmd.SetAction(pr => Run(pr.GetValue(scenes)!, pr.GetValue(output)!, pr.GetValue(model), pr.GetValue(device)!, pr.GetValue(overwrite)));
        return cmd;
    }

    private static IEnumerable<string> SceneFolders(string input)
    {
        if (!Directory.Exists(input)) throw new DirectoryNotFoundException($"'{input}': no such scene folder.");
        bool isScene = Directory.EnumerateFiles(input, "LR*.png").Any();
        if (isScene) return [input];
        var inner = Directory.GetDirectories(input).Order(StringComparer.Ordinal).Where(d => Directory.EnumerateFiles(d, "LR*.png").Any()).ToList();
        return inner.Count > 0 ? inner : [input]; // the scene reader names what is missing
    }

    private static int Run(string[] inputs, string output, string? modelPath, string device, bool overwrite)
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
            foreach (var folder in folders)
            {
                string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
                string target = Path.Combine(output, name + ".png");
                task.Description = Markup.Escape(name);
                try
                {
                    if (File.Exists(target) && !overwrite)
                    {
                        kept++;
                        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(target)} exists; kept (use --overwrite to replace it)[/]");
                        continue;
                    }
                    var scene = ProbaVScene.Load(folder, enhancer.Config.Frames);
                    var sr = enhancer.SuperResolve(scene);
                    ImageWriter.Write(target, new RasterImage(scene.LrWidth * enhancer.Scale, scene.LrHeight * enhancer.Scale, [sr]), new WriteOptions { BitDepth = 16 });
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
}
