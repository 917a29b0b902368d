using ILGpuSat.Engine.IO;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Colorization;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// Every colour model by name or file, for <c>colorize</c> and <c>eval --colour</c>: the bundled gan-colorizer(-sar) and
/// divcolor(-sar), "liu2018-color" for the bundled liu2018's colour, or a weights file whose metadata names its model
/// (gan-colorizer, divcolor, or a catalog model with a colour head).
/// </summary>
public static class ColourModels
{
    public const string Liu2018Color = "liu2018-color";

    public static IReadOnlyList<string> BundledNames { get; } = [.. GanColorizerModel.BundledNames, .. DivColorModel.BundledNames, Liu2018Color];

    /// <summary>Whether the name is bundled or the file exists.</summary>
    public static bool Exists(string nameOrPath) => BundledNames.Contains(nameOrPath) || File.Exists(nameOrPath);

    public static IColorizer Open(string nameOrPath, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        ArgumentNullException.ThrowIfNull(backend);
        if (GanColorizerModel.BundledNames.Contains(nameOrPath)) return GanColorizerModel.LoadBundled(nameOrPath, backend);
        if (DivColorModel.BundledNames.Contains(nameOrPath)) return DivColorModel.LoadBundled(nameOrPath, backend);
        if (nameOrPath == Liu2018Color) return CatalogColorizer.LoadDefault(backend);
        if (!File.Exists(nameOrPath))
            throw new FileNotFoundException($"'{nameOrPath}': no such file, and not a bundled colour model ({string.Join(", ", BundledNames)}).", nameOrPath);
        var metadata = SafeTensors.ReadMetadata(nameOrPath);
        metadata.TryGetValue(ModelFile.ModelKey, out var model);
        return model switch
        {
            GanColorizerFile.ModelName => GanColorizerModel.Load(nameOrPath, backend),
            DivColorFile.ModelName => DivColorModel.Load(nameOrPath, backend),
            _ when model is not null && ModelCatalog.All.Any(s => s.Name == model) => CatalogColorizer.Load(nameOrPath, backend),
            _ => throw new InvalidDataException($"{nameOrPath}: its metadata names model '{model ?? "none"}', not a colour model (gan-colorizer, divcolor, liu2018, liu2018-color, regression-ed)."),
        };
    }
}
