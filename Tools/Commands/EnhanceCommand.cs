using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ILGpuSat.Common;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Inference;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat enhance INPUT... -o OUT`: the 4x colour image of every input file (folders recursively), thin over
/// <see cref="Enhancer"/>. TIFF outputs are streamed in strips (any size, georeference and nodata kept); PNG and
/// JPEG are written whole and refuse outputs over <see cref="MaxWholeOutputPixels"/>. A file that fails is named
/// with the reason and skipped; the exit code is 1 when any failed. Existing outputs are kept unless --overwrite.
/// </summary>
public static class EnhanceCommand
{
    /// <summary>Outputs written whole (PNG, JPEG, side-by-side) above this many pixels would need several GB.</summary>
    public const long MaxWholeOutputPixels = 100_000_000;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".tif", ".tiff"];

    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT") { Description = "image files or folders (recursive): PNG, JPEG, TIFF, GeoTIFF", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "output folder (or, for one input file, the output file)", Required = true };
        var model = new Option<string?>("--model") { Description = "weights file (ilgpusat train output); default: the bundled model" };
        var device = CommonOptions.Device();
        var tile = new Option<int>("--tile") { Description = "LR pixels per tile side; 0 = chosen from the device's memory", DefaultValueFactory = _ => 0 };
        var overlap = new Option<int>("--overlap") { Description = "LR pixels shared by neighbouring tiles (blended)", DefaultValueFactory = _ => 16 };
        var context = new Option<int?>("--context") { Description = "LR pixels each tile reads beyond its core; default: measured on the model (the least at which outputs stop changing)" };
        var greySr = new Option<bool>("--grey-sr") { Description = "also write the 4x grey SR image (NAME_x4_grey)" };
        var sideBySide = new Option<bool>("--side-by-side") { Description = "also write bicubic x4 | enhanced side by side (NAME_x4_compare)" };
        var bands = new Option<string?>("--bands") { Description = "1-based bands to read, e.g. 3,2,1 (one band = grey, three = RGB)" };
        var bitDepth = new Option<string>("--bit-depth") { Description = "auto (16 for 16-bit input to PNG/TIFF), 8 or 16", DefaultValueFactory = _ => "auto" };
        var temperature = new Option<float>("--temperature") { Description = "annealed-mean temperature of the colour head", DefaultValueFactory = _ => EnhanceOptions.Default.Temperature };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace existing outputs (default: keep them and skip the file)" };
        var cmd = new Command("enhance", "4x super-resolution and colorization of images of any size (tiled, GeoTIFF kept)")
        {
            inputs, output, model, device, tile, overlap, context, greySr, sideBySide, bands, bitDepth, temperature, overwrite,
        };
        cmd.SetAction(pr => Run(new Settings(pr.GetValue(inputs)!, pr.GetValue(output)!, pr.GetValue(model), pr.GetValue(device)!,
            new EnhanceOptions { TileSize = pr.GetValue(tile), Overlap = pr.GetValue(overlap), Context = pr.GetValue(context), GreySr = pr.GetValue(greySr), Temperature = pr.GetValue(temperature) },
            pr.GetValue(sideBySide), ParseBands(pr.GetValue(bands)), ParseBitDepth(pr.GetValue(bitDepth)!), pr.GetValue(overwrite))));
        return cmd;
    }

    private sealed record Settings(string[] Inputs, string Output, string? Model, string Device, EnhanceOptions Options,
                                   bool SideBySide, int[]? Bands, int? BitDepth, bool Overwrite);

    /// <summary>One input file and where its outputs go.</summary>
    private sealed record Job(string Input, string Output)
    {
        public string Grey => Suffixed(Output, "_grey");
        public string Compare => Suffixed(Output, "_compare");

        private static string Suffixed(string path, string suffix) =>
            Path.Combine(Path.GetDirectoryName(path) ?? ".", Path.GetFileNameWithoutExtension(path) + suffix + Path.GetExtension(path));
    }

    private static int Run(Settings s)
    {
        if (s.Options.TileSize < 0) throw new UserError($"--tile must be 0 (automatic) or positive, got {s.Options.TileSize}.");
        if (s.Options.Overlap < 0) throw new UserError($"--overlap must be 0 or more, got {s.Options.Overlap}.");
        if (s.Options.Context < 0) throw new UserError($"--context must be 0 or more, got {s.Options.Context}.");
        if (s.Options.TileSize > 0 && s.Options.Overlap >= s.Options.TileSize)
            throw new UserError($"--overlap ({s.Options.Overlap}) must be smaller than --tile ({s.Options.TileSize}).");
        if (!(s.Options.Temperature > 0)) throw new UserError($"--temperature must be positive, got {s.Options.Temperature}.");
        var jobs = PlanJobs(s.Inputs, s.Output);
        if (jobs.Count == 0) throw new UserError($"no PNG, JPEG or TIFF files in {string.Join(", ", s.Inputs)}.");

        using var backend = CommonOptions.CreateBackend(s.Device);
        using var enhancer = s.Model is null ? Enhancer.LoadDefault(backend) : Enhancer.Load(s.Model, backend);
        var clock = Stopwatch.StartNew();
        var failures = new List<(string File, string Why)>();
        int done = 0, skipped = 0;
        double inMp = 0, outMp = 0;
        AnsiConsole.Progress().AutoClear(false).Start(ctx =>
        {
            var files = ctx.AddTask("files", maxValue: jobs.Count);
            var tiles = ctx.AddTask("tiles", maxValue: 1);
            foreach (var job in jobs)
            {
                files.Description = Markup.Escape(Path.GetFileName(job.Input));
                if (!s.Overwrite && Outputs(job, s).FirstOrDefault(File.Exists) is { } existing)
                {
                    AnsiConsole.MarkupLine($"[yellow]skipped[/] {Markup.Escape(job.Input)}: {Markup.Escape(existing)} exists (--overwrite replaces it)");
                    skipped++;
                    files.Increment(1);
                    continue;
                }
                try
                {
                    var (w, h) = EnhanceOne(enhancer, job, s, new SynchronousProgress(p => { tiles.MaxValue = p.TilesTotal; tiles.Value = p.TilesDone; }));
                    inMp += w * (double)h / 1e6;
                    outMp += w * (double)h * 16 / 1e6;
                    done++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Add((job.Input, Reason(e)));
                    AnsiConsole.MarkupLine($"[red]failed[/] {Markup.Escape(job.Input)}: {Markup.Escape(Reason(e))}");
                }
                files.Increment(1);
            }
        });
        double seconds = clock.Elapsed.TotalSeconds;
        string extra = (skipped > 0 ? $"; {skipped} skipped (output exists)" : "") + (failures.Count > 0 ? $"; {failures.Count} failed" : "");
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"enhanced {done} file(s): {inMp:F2} MP in, {outMp:F2} MP out, in {seconds:F1} s with {enhancer.Model.ModelName} on {backend.Name}{extra}")));
        foreach (var (file, why) in failures) AnsiConsole.MarkupLine($"[red]failed[/] {Markup.Escape(file)}: {Markup.Escape(why)}");
        return failures.Count > 0 ? 1 : 0;
    }

    /// <summary>Reports on the calling thread at once (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<EnhanceProgress> report) : IProgress<EnhanceProgress>
    {
        public void Report(EnhanceProgress value) => report(value);
    }

    private static string Reason(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Reason(a.InnerExceptions[0]) : e.Message;

    private static IEnumerable<string> Outputs(Job job, Settings s)
    {
        yield return job.Output;
        if (s.Options.GreySr) yield return job.Grey;
        if (s.SideBySide) yield return job.Compare;
    }

    /// <summary>Reads one file, enhances it and writes its outputs; returns the input size.</summary>
    private static (int W, int H) EnhanceOne(Enhancer enhancer, Job job, Settings s, IProgress<EnhanceProgress> progress)
    {
        var image = ImageReader.Read(job.Input, new ReadOptions { Bands = s.Bands });
        if (image.Bands == 2 || image.Bands > 4 || (s.Bands is null && image.Bands > 3 && image.Bands != 4))
            throw new UserError($"{image.Bands} bands; choose grey or RGB bands with --bands (e.g. --bands 3,2,1)");
        int w = image.Width, h = image.Height, scale = enhancer.Model.Network.Scale;
        var plan = enhancer.PlanTiling(w, h, s.Options);
        if (plan.TilesX * plan.TilesY > 1)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(job.Input)}: {plan.TilesX} x {plan.TilesY} tiles of {plan.Core} LR px, context {plan.Context} (receptive field {plan.ReceptiveField}), "
                + $"overlap {plan.Overlap}; about {plan.TileBytes / 1e6:F0} MB per tile of a {plan.BudgetBytes / 1e6:F0} MB budget")));
        long outPixels = (long)w * scale * h * scale;
        var format = ImageWriter.FormatFromExtension(job.Output);
        bool tiff = format == ImageFileFormat.Tiff, jpeg = format == ImageFileFormat.Jpeg;
        int bitDepth = s.BitDepth ?? (image.SourceBitDepth >= 16 && !jpeg ? 16 : 8);
        if (bitDepth == 16 && jpeg) throw new UserError("JPEG output is 8-bit; use .png or .tif for 16-bit output");

        if (!tiff || s.SideBySide)
        {
            if (outPixels > MaxWholeOutputPixels)
            {
                string what = tiff ? "--side-by-side" : Path.GetExtension(job.Output) + " output";
                throw new UserError(string.Create(CultureInfo.InvariantCulture,
                    $"the {w * scale}x{h * scale} output ({outPixels / 1e6:F0} MP) is over the {MaxWholeOutputPixels / 1e6:F0} MP that {what} holds in memory; write a .tif (streamed in strips) instead"));
            }
            var result = enhancer.Enhance(image, s.Options, progress);
            var write = new WriteOptions { BitDepth = bitDepth };
            ImageWriter.Write(job.Output, result.Color, write);
            if (result.GreySr is { } grey) ImageWriter.Write(job.Grey, grey, write);
            if (s.SideBySide) ImageWriter.Write(job.Compare, SideBySide(image, result.Color, scale), write with { Geo = null });
            return (w, h);
        }

        // TIFF: streamed top to bottom into temporaries that replace the targets only when complete.
        var geo = image.Geo?.ScaledBy(scale);
        bool masked = image.Valid is { } v && Array.IndexOf(v, false) >= 0;
        AtomicFile.Write(job.Output, colourStream =>
        {
            if (!s.Options.GreySr)
            {
                using var colour = new TiffStripWriter(colourStream, job.Output, w * scale, h * scale, 3, bitDepth, geo, masked);
                enhancer.EnhanceRows(image, new TiffSink(colour, null), s.Options, progress);
                colour.Finish();
                return;
            }
            AtomicFile.Write(job.Grey, greyStream =>
            {
                using var colour = new TiffStripWriter(colourStream, job.Output, w * scale, h * scale, 3, bitDepth, geo, masked);
                using var grey = new TiffStripWriter(greyStream, job.Grey, w * scale, h * scale, 1, bitDepth, geo, masked);
                enhancer.EnhanceRows(image, new TiffSink(colour, grey), s.Options, progress);
                grey.Finish();
                colour.Finish();
            });
        });
        return (w, h);
    }

    private sealed class TiffSink(TiffStripWriter colour, TiffStripWriter? grey) : IEnhancedRowSink
    {
        public void WriteRows(EnhancedRows rows)
        {
            colour.WriteRows(rows.Rows, [rows.Red, rows.Green, rows.Blue], rows.Valid);
            grey?.WriteRows(rows.Rows, [rows.Grey!], rows.Valid);
        }
    }

    /// <summary>Bicubic x4 of the input (as it was read: grey or colour) left, the enhanced image right.</summary>
    private static RasterImage SideBySide(RasterImage input, RasterImage enhanced, int scale)
    {
        var bicubic = Resampler.Scale(input, scale);
        int w = enhanced.Width, h = enhanced.Height;
        var left = bicubic.RgbPlanes();
        var planes = new float[3][];
        for (int b = 0; b < 3; b++)
        {
            var p = planes[b] = new float[2L * w * h];
            for (int y = 0; y < h; y++)
            {
                Array.Copy(left[b], (long)y * w, p, 2L * y * w, w);
                Array.Copy(enhanced.Planes[b], (long)y * w, p, 2L * y * w + w, w);
            }
        }
        return new RasterImage(2 * w, h, planes, sourceBitDepth: enhanced.SourceBitDepth);
    }

    /// <summary>Input files (folders recursively, sorted) and their outputs under OUT, keeping each folder's relative layout.</summary>
    private static List<Job> PlanJobs(string[] inputs, string output)
    {
        var jobs = new List<Job>();
        bool outputIsFile = inputs.Length == 1 && File.Exists(inputs[0]) && IsImage(output);
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                jobs.Add(new Job(input, outputIsFile ? output : Path.Combine(output, OutputName(input))));
            }
            else if (Directory.Exists(input))
            {
                foreach (var f in Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(IsImage).Order(StringComparer.Ordinal))
                {
                    string rel = Path.GetRelativePath(input, f);
                    jobs.Add(new Job(f, Path.Combine(output, Path.GetDirectoryName(rel) ?? "", OutputName(f))));
                }
            }
            else throw new UserError($"'{input}': no such file or folder.");
        }
        return jobs;
    }

    private static string OutputName(string input) => Path.GetFileNameWithoutExtension(input) + "_x4" + Path.GetExtension(input).ToLowerInvariant();

    private static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    private static int[]? ParseBands(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var bands = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out bands[i]) || bands[i] < 1)
                throw new UserError($"--bands must be 1-based band numbers separated by commas (e.g. 3,2,1), got '{text}'.");
        if (bands.Length is not (1 or 3)) throw new UserError($"--bands selects 1 (grey) or 3 (RGB) bands, got {bands.Length}.");
        return bands;
    }

    private static int? ParseBitDepth(string text) => text switch
    {
        "auto" => null,
        "8" => 8,
        "16" => 16,
        _ => throw new UserError($"--bit-depth must be auto, 8 or 16, got '{text}'."),
    };
}
