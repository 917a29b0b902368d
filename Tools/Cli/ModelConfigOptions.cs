using System.Globalization;
using ILGpuSat.Networks;

namespace ILGpuSat.Tools.Cli;

/// <summary>A model's config from the command line: the catalog default, or --config JSON, then --width over every multiplier.</summary>
public static class ModelConfigOptions
{
    public static ModelConfig Resolve(string modelName, string? configJson, double? width)
    {
        ModelSpec spec;
        try { spec = ModelCatalog.Get(modelName); }
        catch (ArgumentException e) { throw new UserError($"--model: {e.Message}"); }
        ModelConfig config;
        try { config = configJson is null ? spec.DefaultConfig : ModelCatalog.ParseConfig(modelName, configJson); }
        catch (ArgumentException e) { throw new UserError($"--config: {e.Message}"); }
        if (width is { } w)
        {
            config = config.WithWidth(w);
            try { config.Validate(); }
            catch (ArgumentException e) { throw new UserError($"--width {w.ToString(CultureInfo.InvariantCulture)}: {e.Message}"); }
        }
        return config;
    }
}
