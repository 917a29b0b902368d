using System.Text.Json;
using ILGpuSat.Common;

namespace ILGpuSat.Training.Runs;

/// <summary>
/// The run folder's config.json for the trainers that keep their typed config there (DeepSUM, the GAN colorizer):
/// written once before the first step, read back to resume.
/// </summary>
public static class RunFolder
{
    public const string ConfigName = "config.json";

    /// <summary>Creates the run folder with its config; a folder that already holds a run is refused (resume it instead).</summary>
    public static void Begin<T>(string run, T config, JsonSerializerOptions options)
    {
        if (File.Exists(Path.Combine(run, ConfigName)))
            throw new InvalidOperationException($"train: {run} already holds a run ({ConfigName}); continue it with --resume or choose another --out.");
        Directory.CreateDirectory(run);
        AtomicFile.WriteAllText(Path.Combine(run, ConfigName), JsonSerializer.Serialize(config, options));
    }

    /// <summary>The run's config, for a resume; a folder without one is a FileNotFoundException naming it.</summary>
    public static T ReadConfig<T>(string run, JsonSerializerOptions options) where T : class
    {
        string path = Path.Combine(run, ConfigName);
        if (!File.Exists(path)) throw new FileNotFoundException($"resume: {path} does not exist; is {run} a run folder?", path);
        return JsonSerializer.Deserialize<T>(File.ReadAllText(path), options) ?? throw new InvalidDataException($"{path}: empty config.");
    }
}
