using System.Text.Json;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks;

namespace ILGpuSat.Training.Runs;

/// <summary>The model catalog as the trainer's model source: networks by name, weights files by <see cref="ModelFile"/>.</summary>
public sealed class CatalogModelSource : IModelSource
{
    public string ResolveConfig(string model, JsonElement? config)
    {
        var spec = ModelCatalog.Get(model);
        var parsed = config is null ? spec.DefaultConfig : ModelCatalog.ParseConfig(model, config.Value.GetRawText());
        return ModelCatalog.ConfigJson(parsed);
    }

    public SatNetwork Create(string model, string resolvedConfig, LayerFactory nn) =>
        ModelCatalog.Create(model, nn, ModelCatalog.ParseConfig(model, resolvedConfig));

    public void SaveWeights(string path, SatNetwork network, string model, string resolvedConfig, IReadOnlyDictionary<string, string> metadata) =>
        ModelFile.Save(path, network, model, ModelCatalog.ParseConfig(model, resolvedConfig), metadata);
}
