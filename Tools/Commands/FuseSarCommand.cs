using System.CommandLine;
using System.Globalization;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat fuse-sar SAR OPTICAL -o OUT`: the Lab fusion of co-registered SAR / optical pairs (<see cref="SarFusion"/>),
/// the colour targets of SAR colorization. SAR and OPTICAL are two files, or two folders whose images pair by file name
/// (the sar-optical data set's sar/NNN.png and optical/NNN.png). OUT is a folder: each pair goes to OUT/NAME.png, or
/// OUT/NAME.tif with the SAR's georeference when the SAR is a GeoTIFF. A bad pair is named and skipped (exit code 1);
/// existing outputs are kept unless --overwrite.
/// </summary>
public static class FuseSarCommand
{
    public static Command Create()
    {
        var sar = new Argument<string>("SAR") { Description = "SAR image (band 1: sigma0), or a folder of them" };
        var optical = new Argument<string>("OPTICAL") { Description = "co-registered optical RGB image, or a folder of them paired by file name" };
        var output = new Option<string>("--output", "-o") { Description = "output folder (NAME.png, or NAME.tif for GeoTIFF SAR)", Required = true };
        var units = new Option<SarUnits>("--sar-units") { Description = "how SAR samples are read: auto (whole numbers are scaled display values, fractions are linear power, or dB when negative), scaled, linear, db", DefaultValueFactory = _ => SarUnits.Auto };
        var dbRange = new Option<string>("--db-range") { Description = "dB mapped to 0 and 1 (linear and dB SAR)", DefaultValueFactory = _ => "-25,0" };
        var bands = new Option<string>("--optical-bands") { Description = "optical bands as R,G,B (1-based)", DefaultValueFactory = _ => "1,2,3" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace existing outputs" };
        var cmd = new Command("fuse-sar", "Lab fusion of co-registered SAR and optical images (L* = 100 x scaled sigma0, a*b* from the optical): targets for SAR colorization")
        {
            sar, optical, output, units, dbRange, bands, overwrite,
        };
        cmd.SetAction(pr =>
        {
            var range = ParseList(pr.GetValue(dbRange)!, "--db-range", 2, s => double.Parse(s, CultureInfo.InvariantCulture));
            var rgb = ParseList(pr.GetValue(bands)!, "--optical-bands", 3, s => int.Parse(s, CultureInfo.InvariantCulture));
            var options = new SarFusionOptions { Units = pr.GetValue(units), DbMin = range[0], DbMax = range[1] };
            return Run(pr.GetValue(sar)!, pr.GetValue(optical)!, pr.GetValue(output)!, options, rgb, pr.GetValue(overwrite));
        });
        return cmd;
    }

    private static T[] ParseList<T>(string text, string option, int count, Func<string, T> parse)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        try
        {
            if (parts.Length == count) return parts.Select(parse).ToArray();
        }
        catch (FormatException) { }
        throw new UserError($"{option} '{text}': expected {count} comma-separated numbers.");
    }

    private static List<(string Sar, string Optical)> Pairs(string sar, string optical)
    {
        if (File.Exists(sar) && File.Exists(optical)) return [(sar, optical)];
        if (!Directory.Exists(sar) || !Directory.Exists(optical))
            throw new UserError($"fuse-sar: give two image files or two folders ('{sar}', '{optical}').");
        string[] images = [".png", ".tif", ".tiff", ".jpg", ".jpeg"];
        var pairs = Directory.GetFiles(sar).Where(p => images.Contains(Path.GetExtension(p).ToLowerInvariant())).Order(StringComparer.Ordinal)
            .Select(p => (p, Path.Combine(optical, Path.GetFileName(p)))).ToList();
        if (pairs.Count == 0) throw new UserError($"fuse-sar: '{sar}' holds no image.");
        return pairs;
    }

    private static int Run(string sarInput, string opticalInput, string output, SarFusionOptions options, int[] rgb, bool overwrite)
    {
        var pairs = Pairs(sarInput, opticalInput);
        Directory.CreateDirectory(output);
        int done = 0, kept = 0, failed = 0;
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("pairs", maxValue: pairs.Count);
            foreach (var (sarPath, opticalPath) in pairs)
            {
                string name = Path.GetFileNameWithoutExtension(sarPath);
                try
                {
                    var sar = ImageReader.Read(sarPath, new ReadOptions { Stretch = StretchMode.Raw, Bands = [1] });
                    bool geo = sar.Geo is { HasGeoTransform: true };
                    string target = Path.Combine(output, name + (geo ? ".tif" : ".png"));
                    if (ExistingOutput.Kept(target, overwrite))
                    {
                        kept++;
                        continue;
                    }
                    if (!File.Exists(opticalPath)) throw new FileNotFoundException($"'{opticalPath}': no optical image pairs with {Path.GetFileName(sarPath)}.");
                    var opticalImage = ImageReader.Read(opticalPath, new ReadOptions { Stretch = StretchMode.FullRange, Bands = rgb });
                    if (opticalImage.Width != sar.Width || opticalImage.Height != sar.Height)
                        throw new ImageFormatException(opticalPath, $"is {opticalImage.Width}x{opticalImage.Height}, but the SAR {Path.GetFileName(sarPath)} is {sar.Width}x{sar.Height}: the pair must be co-registered on one grid");
                    var fused = SarFusion.Fuse(SarFusion.ScaledSigma0(sar, options), opticalImage.Planes);
                    var image = new RasterImage(sar.Width, sar.Height, fused, sar.Valid);
                    ImageWriter.Write(target, image, new WriteOptions { Geo = geo ? sar.Geo : null });
                    done++;
                }
                catch (Exception e) when (e is ImageFormatException or IOException or ArgumentException or UnauthorizedAccessException)
                {
                    failed++;
                    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(name)}: {Markup.Escape(e.Message)}");
                }
                finally { task.Increment(1); }
            }
        });
        AnsiConsole.MarkupLine($"fused {done} pair(s), kept {kept}, failed {failed}");
        return failed > 0 ? 1 : 0;
    }
}
