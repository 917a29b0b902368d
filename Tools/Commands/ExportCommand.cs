using System.CommandLine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat export CHECKPOINT -o MODEL [--dtype f16]`: a training checkpoint's weights as a model file for
/// inference (fp16 halves it; the shipped default model is made this way), with its metadata kept.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("CHECKPOINT") { Description = "weights file (a checkpoint of ilgpusat train, or any model file)" };
        var output = new Option<string>("--output", "-o") { Description = "model file to write", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f16 or f32", DefaultValueFactory = _ => "f16" };
        var cmd = new Command("export", "Write a checkpoint's weights as an fp16 (or fp32) model file, metadata kept") { input, output, dtype };
        cmd.SetAction(pr => Run(pr.GetValue(input)!, pr.GetValue(output)!, pr.GetValue(dtype)!));
        return cmd;
    }

    private static int Run(string input, string output, string dtypeName)
    {
        var dtype = dtypeName.ToLowerInvariant() switch
        {
            "f16" or "fp16" => SafeTensorsDType.F16,
            "f32" or "fp32" => SafeTensorsDType.F32,
            _ => throw new UserError($"--dtype '{dtypeName}': use f16 or f32."),
        };
        if (!File.Exists(input)) throw new UserError($"'{input}': no such file.");
        if (Path.GetFullPath(input) == Path.GetFullPath(output)) throw new UserError($"'{output}': the output must not be the input.");
        using var cpu = new CpuBackend();
        string? name = SafeTensors.ReadMetadata(input).GetValueOrDefault(ModelFile.ModelKey);
        if (name == Networks.Colorization.GanColorizerFile.ModelName)
            return ExportPart(input, output, dtype, cpu, "gan-colorizer generator", k => k.StartsWith(Networks.Colorization.GanColorizerFile.GeneratorPrefix, StringComparison.Ordinal));
        if (name == Networks.Colorization.DivColorFile.ModelName)
            return ExportPart(input, output, dtype, cpu, "divcolor without its encoder", Networks.Colorization.DivColorFile.UsedAtInference);
        var model = ModelFile.Load(input, cpu);
        using var network = model.Network;
        var extra = model.Metadata.Where(kv => kv.Key is not (ModelFile.ModelKey or ModelFile.ConfigKey or ModelFile.NormalizationKey))
                                  .ToDictionary(kv => kv.Key, kv => kv.Value);
        extra["ilgpusat.exported_from"] = Path.GetFileName(input);
        ModelFile.Save(output, network, model.ModelName, model.Config, extra, dtype);
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(output)} ({model.ModelName}, {dtype}, {new FileInfo(output).Length / 1e6:F1} MB)");
        return 0;
    }

    // A GAN colorizer checkpoint holds both networks and a divcolor one the encoder of true colour; inference needs
    // the generator, or everything but that encoder.
    private static int ExportPart(string input, string output, SafeTensorsDType dtype, CpuBackend cpu, string what, Func<string, bool> keep)
    {
        var metadata = new Dictionary<string, string>(SafeTensors.ReadMetadata(input)) { ["ilgpusat.exported_from"] = Path.GetFileName(input) };
        var tensors = SafeTensors.Load(input, cpu);
        try
        {
            var kept = tensors.Where(kv => keep(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
            if (kept.Count == 0) throw new UserError($"'{input}': no weights of the {what}.");
            SafeTensors.Save(output, kept, metadata, dtype);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(output)} ({Markup.Escape(what)}, {dtype}, {new FileInfo(output).Length / 1e6:F2} MB)");
        return 0;
    }
}
