using System.Text.Json;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks;

namespace ILGpuSat.Training.Runs;

/// <summary>
/// Where the trainer gets its network and how it writes the weights file inference loads: the model
/// catalog in the program (<see cref="CatalogModelSource"/>), a tiny test network in the tests.
/// </summary>
public interface IModelSource
{
    /// <summary>The model's settings with every default filled in, as JSON (strict: a bad key is an error naming it).</summary>
    string ResolveConfig(string model, JsonElement? config);

    /// <summary>A fresh network; its weights come from <paramref name="nn"/>'s generator.</summary>
    SatNetwork Create(string model, string resolvedConfig, LayerFactory nn);

    /// <summary>Writes the weights file (atomically) with the model, its config and <paramref name="metadata"/>.</summary>
    void SaveWeights(string path, SatNetwork network, string model, string resolvedConfig, IReadOnlyDictionary<string, string> metadata);
}
