using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Colorization;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat colorize INPUT... -o OUT [--model NAME|FILE] [--samples N]`: colour at the same resolution with any colour
/// model (<see cref="ColourModels"/>), thin over it. Inputs are files or folders (recursive); a colour input is reduced
/// to the grey its model reads and recoloured. Each goes to OUT/NAME.png (OUT/NAME.tif with the georeference for
/// GeoTIFF); with --samples N (divcolor), the N most probable colourings go to OUT/NAME_1 .. NAME_N and a contact sheet
/// (input, --target's and --optical's files of the same name, the samples with their weights) to OUT/NAME_sheet.png.
/// A bad file is named and skipped (exit code 1); existing outputs are kept unless --overwrite.
/// </summary>
public static class ColorizeCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT") { Description = "grey or colour images, or folders of them (recursive)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "output folder", Required = true };
        var model = new Option<string>("--model")
        {
            Description = $"a bundled colour model ({string.Join(", ", ColourModels.BundledNames)}) or a weights file (gan-colorizer, divcolor, liu2018, liu2018-color, regression-ed)",
            DefaultValueFactory = _ => "gan-colorizer",
        };
        var samples = new Option<int>("--samples") { Description = "divcolor: write the N most probable colourings and a contact sheet (0: the most probable alone)" };
        var target = new Option<string>("--target") { Description = "with --samples: folder of target images (fused SAR) shown on the sheet, paired by file name" };
        var optical = new Option<string>("--optical") { Description = "with --samples: folder of optical images shown on the sheet, paired by file name" };
        var tile = new Option<int>("--tile") { Description = "gan-colorizer: pixels per tile side (larger images run in blended tiles)", DefaultValueFactory = _ => 512 };
        var device = CommonOptions.Device();
        var overwrite = new Option<bool>("--overwrite") { Description = "replace existing outputs" };
        var cmd = new Command("colorize", "Colour grey images at the same resolution with any colour model (docs/colorizers.md)")
        {
            inputs, output, model, samples, target, optical, tile, device, overwrite,
        };
        cmd.SetAction(pr => Run(pr.GetValue(inputs)!, pr.GetValue(output)!, pr.GetValue(model)!, pr.GetValue(samples), pr.GetValue(target), pr.GetValue(optical),
                                pr.GetValue(tile), pr.GetValue(device)!, pr.GetValue(overwrite)));
        return cmd;
    }

    private static int Run(string[] inputs, string output, string modelName, int samples, string? targets, string? opticals, int tile, string device, bool overwrite)
    {
        if (!ColourModels.Exists(modelName))
            throw new UserError($"--model {modelName}: no such file, and not a bundled colour model ({string.Join(", ", ColourModels.BundledNames)}).");
        if (samples < 0) throw new UserError($"--samples {samples}: must be 0 or more.");
        if (samples == 0 && (targets is not null || opticals is not null)) throw new UserError("--target and --optical go with --samples (the contact sheet).");
        foreach (var folder in new[] { targets, opticals })
            if (folder is not null && !Directory.Exists(folder)) throw new UserError($"'{folder}': no such folder.");
        foreach (var input in inputs)
            if (!File.Exists(input) && !Directory.Exists(input)) throw new UserError($"colorize: input '{input}' does not exist.");
        var files = Training.Data.ImageCatalog.ListImageFiles(inputs);
        using var backend = CommonOptions.CreateBackend(device);
        using var colorizer = ColourModels.Open(modelName, backend);
        var diverse = colorizer as IHypothesisColorizer;
        if (samples > 0 && (diverse is null || samples > diverse.MaxHypotheses))
            throw new UserError(diverse is null ? $"--samples: {colorizer.Name} draws one colouring; divcolor draws several."
                                                : $"--samples {samples}: {colorizer.Name} draws at most {diverse.MaxHypotheses}.");
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
                    string extension = geo ? ".tif" : ".png";
                    var write = new WriteOptions { Geo = geo ? image.Geo : null };
                    string first = Path.Combine(output, name + (samples > 0 ? "_sheet.png" : extension));
                    if (ExistingOutput.Kept(first, overwrite))
                    {
                        kept++;
                        continue;
                    }
                    var grey = colorizer.GreyOf(image);
                    if (samples == 0)
                    {
                        var rgb = colorizer is GanColorizerModel gan ? gan.Colorize(grey, image.Width, image.Height, tile) : colorizer.Colorize(grey, image.Width, image.Height);
                        ImageWriter.Write(first, new RasterImage(image.Width, image.Height, rgb, image.Valid), write);
                    }
                    else
                    {
                        var hypotheses = diverse!.Hypotheses(grey, image.Width, image.Height, samples);
                        var shown = new List<(string, RasterImage)>();
                        for (int k = 0; k < hypotheses.Count; k++)
                        {
                            var picture = new RasterImage(image.Width, image.Height, hypotheses[k].Rgb, image.Valid);
                            ImageWriter.Write(Path.Combine(output, $"{name}_{k + 1}{extension}"), picture, write);
                            shown.Add(($"{k + 1}: {hypotheses[k].Weight.ToString("F2", CultureInfo.InvariantCulture)}", picture));
                        }
                        var references = new List<(string, RasterImage)> { ("input", new RasterImage(image.Width, image.Height, [grey])) };
                        foreach (var (caption, folder) in new[] { ("target", targets), ("optical", opticals) })
                            if (folder is not null && Partner(folder, file) is { } partner) references.Add((caption, ImageReader.Read(partner)));
                        ImageWriter.Write(first, ContactSheet.Compose(references, shown));
                    }
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
        AnsiConsole.MarkupLine($"colorized {done} image(s) with {Markup.Escape(colorizer.Name)}, kept {kept}, failed {failed}, in {clock.Elapsed.TotalSeconds:F1} s on {Markup.Escape(backend.Name)}");
        return failed > 0 ? 1 : 0;
    }

    /// <summary>The file of the same name (any image extension) in a folder, or null.</summary>
    private static string? Partner(string folder, string file)
    {
        string exact = Path.Combine(folder, Path.GetFileName(file));
        if (File.Exists(exact)) return exact;
        string stem = Path.GetFileNameWithoutExtension(file);
        return Directory.EnumerateFiles(folder).FirstOrDefault(f => Path.GetFileNameWithoutExtension(f) == stem);
    }
}
