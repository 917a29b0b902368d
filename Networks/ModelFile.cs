using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks;

/// <summary>A network rebuilt from its weights file, with what the file says about it.</summary>
public sealed record LoadedModel(SatNetwork Network, string ModelName, ModelConfig Config,
                                 LabNormalization Normalization, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The weights file inference loads: a safetensors file of the network's state dict (PyTorch names) whose
/// header metadata says how to rebuild it: <c>ilgpusat.model</c> (catalog name), <c>ilgpusat.config</c>
/// (<see cref="ModelCatalog.ConfigJson"/>) and <c>ilgpusat.normalization</c> (<see cref="LabNormalization"/> as
/// JSON), plus any extra keys the writer adds (the trainer's step, loss, ...).
/// </summary>
public static class ModelFile
{
    public const string ModelKey = "ilgpusat.model";
    public const string ConfigKey = "ilgpusat.config";
    public const string NormalizationKey = "ilgpusat.normalization";

    private static readonly string[] Reserved = [ModelKey, ConfigKey, NormalizationKey];

    /// <summary>
    /// Batch norm's <c>num_batches_tracked</c> counts training steps, and F16 ends at 65504. The engine never reads
    /// the count (its momentum is fixed), so an F16 file stores it saturated there rather than refusing to save a
    /// model trained for longer; F32 stores it exactly (to 2^24 steps).
    /// </summary>
    public const float F16MaxBatchesTracked = 65504f;

    /// <summary>
    /// Writes <paramref name="network"/>'s state dict as F32 or F16 (atomically) with the metadata that rebuilds it.
    /// <paramref name="config"/> must be the config type of <paramref name="modelName"/>; the network is taken to be
    /// what <see cref="ModelCatalog.Create"/> builds from them (<see cref="Load"/> checks every shape).
    /// </summary>
    public static void Save(string path, SatNetwork network, string modelName, ModelConfig config,
        IReadOnlyDictionary<string, string>? extraMetadata = null, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(config);
        var spec = ModelCatalog.Get(modelName);
        ModelCatalog.CheckType(spec, config);
        config.Validate();

        var metadata = new Dictionary<string, string>();
        foreach (var (key, value) in extraMetadata ?? new Dictionary<string, string>())
        {
            if (Reserved.Contains(key))
                throw new ArgumentException($"{path}: metadata key '{key}' is written by ModelFile itself; extra metadata cannot set it.");
            metadata[key] = value ?? throw new ArgumentException($"{path}: metadata '{key}' is null.");
        }
        metadata[ModelKey] = modelName;
        metadata[ConfigKey] = ModelCatalog.ConfigJson(config);
        metadata[NormalizationKey] = JsonSerializer.Serialize(network.Normalization, ModelCatalog.Json);

        var arrays = network.StateDict().Select(kv =>
        {
            var values = kv.Value.ToArray();
            if (dtype == SafeTensorsDType.F16 && kv.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                for (int i = 0; i < values.Length; i++) values[i] = Math.Min(values[i], F16MaxBatchesTracked);
            return (kv.Key, values, kv.Value.Shape);
        });
        SafeTensors.Save(path, arrays, metadata, dtype);
    }

    /// <summary>
    /// Rebuilds the network a file describes on <paramref name="backend"/> and loads its weights strictly (every key,
    /// every shape). Problems with the file (missing or malformed metadata, an unknown model, weights that do not
    /// fit) are an <see cref="InvalidDataException"/> whose message starts with the path.
    /// </summary>
    public static LoadedModel Load(string path, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(backend);
        var (arrays, metadata) = SafeTensors.Read(path);

        string Require(string key) => metadata.TryGetValue(key, out var v)
            ? v
            : throw new InvalidDataException($"{path}: not an ILGpuSat weights file: its safetensors metadata has no '{key}' "
                + $"(it has {(metadata.Count == 0 ? "no metadata" : string.Join(", ", metadata.Keys.Order()))}).");

        string name = Require(ModelKey);
        ModelConfig config;
        LabNormalization normalization;
        try
        {
            config = ModelCatalog.ParseConfig(name, Require(ConfigKey));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        try
        {
            normalization = JsonSerializer.Deserialize<LabNormalization>(Require(NormalizationKey), ModelCatalog.Json)
                ?? throw new JsonException("it is null.");
            if (!float.IsFinite(normalization.LScale) || normalization.LScale == 0 || !float.IsFinite(normalization.LOffset)
                || !float.IsFinite(normalization.AbScale) || normalization.AbScale == 0)
                throw new JsonException($"{normalization} has a zero or non-finite constant.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: '{NormalizationKey}' is not a LabNormalization: {e.Message}", e);
        }

        var network = ModelCatalog.Create(name, new Engine.Modules.LayerFactory(backend, 0), config);
        var state = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (key, (data, shape)) in arrays)
                state[key] = Tensor.FromArray(data, shape, backend).Keep();
            network.LoadStateDict(state, strict: true);
        }
        catch (ArgumentException e)
        {
            network.Dispose();
            throw new InvalidDataException($"{path}: the weights do not fit model '{name}' with config {metadata[ConfigKey]}: {e.Message}", e);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
        network.Normalization = normalization;
        return new LoadedModel(network, name, config, normalization, metadata);
    }
}
