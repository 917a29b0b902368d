using System.CommandLine;
using System.Diagnostics;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Colorization;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat colorize INPUT... -o OUT [--model NAME|FILE]`: colour at the same resolution with a bundled or trained GAN colorizer
/// (<see cref="GanColorizerModel"/>), thin over it. Inputs are files or folders (recursive); a colour input is reduced
/// to its lightness and recoloured. Each goes to OUT/NAME.png (OUT/NAME.tif with the georeference for GeoTIFF). A bad
/// file is named and skipped (exit code 1); existing outputs are kept unless --overwrite.
/// </summary>
public static class ColorizeCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT") { Description = "grey or colour images, or folders of them (recursive)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "output folder", Required = true };
        var model = new Option<string>("--model") { Description = "a bundled colour model (gan-colorizer, gan-colorizer-sar) or a gan-colorizer weights file (ilgpusat train --model gan-colorizer)", DefaultValueFactory = _ => "gan-colorizer" };
        var tile = new Option<int>("--tile") { Description = "pixels per tile side (larger images run in blended tiles)", DefaultValueFactory = _ => 512 };
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "replace existing outputs" };
        var cmd = new Command("colorize", "Colour grey images at the same resolution with a GAN colorizer (docs/colorizers.md)")
        {
            inputs, output, model, tile, device, overwrite,
        };
        cmd.SetAction(pr => Run(pr.GetValue(inputs)!, pr.GetValue(output)!, pr.GetValue(model)!, pr.GetValue(tile), pr.GetValue(device)!, pr.GetValue(overwrite)));
        return cmd;
    }

    private static int Run(string[] inputs, string output, string modelPath, int tile, string device, bool overwrite)
    {
        if (!GanColorizerModel.BundledNames.Contains(modelPath) && !File.Exists(modelPath))
            throw new UserError($"--model {modelPath}: no such file, and not a bundled colour model ({string.Join(", ", GanColorizerModel.BundledNames)}).");
        foreach (var input in inputs)
            if (!File.Exists(input) && !Directory.Exists(input)) throw new UserError($"colorize: input '{input}' does not exist.");
        var files = Training.Data.ImageCatalog.ListImageFiles(inputs);
        using var backend = CommonOptions.CreateBackend(device);
        using var colorizer = GanColorizerModel.Open(modelPath, backend);
        Directory.CreateDirectory(output);
        int done = 0, kept = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("images", maxValue: files.Count);
            foreach (var file in files)
            {
                string name = Path.GetFileNameWithoutExtension(file);
                task.Description = Markup.Escape(name);
                try
                {
                    var image = ImageReader.Read(file, new ReadOptions { Stretch = StretchMode.Auto });
                    bool geo = image.Geo is { HasGeoTransform: true };
                    string target = Path.Combine(output, name + (geo ? ".tif" : ".png"));
                    if (ExistingOutput.Kept(target, overwrite))
                    {
                        kept++;
                        continue;
                    }
                    var rgb = colorizer.Colorize(colorizer.GreyOf(image), image.Width, image.Height, tile);
                    ImageWriter.Write(target, new RasterImage(image.Width, image.Height, rgb, image.Valid), new WriteOptions { Geo = geo ? image.Geo : null });
                    done++;
                }
                catch (Exception e) when (e is ImageFormatException or IOException or ArgumentException or UnauthorizedAccessException)
                {
                    failed++;
                    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(file)}: {Markup.Escape(e.Message)}");
                }
                finally { task.Increment(1); }
            }
        });
        AnsiConsole.MarkupLine($"colorized {done} image(s), kept {kept}, failed {failed}, in {clock.Elapsed.TotalSeconds:F1} s on {Markup.Escape(backend.Name)}");
        return failed > 0 ? 1 : 0;
    }
}
