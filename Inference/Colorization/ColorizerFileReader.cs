using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// Reads a colorizer's weights file: its tensors, its metadata, and its config, after checking that the metadata names
/// the expected model. A file of another model, or an unreadable config, is an <see cref="InvalidDataException"/>
/// naming the file.
/// </summary>
internal static class ColorizerFileReader
{
    public static (List<(string Name, (float[] Data, int[] Shape) Value)> Tensors, Dictionary<string, string> Metadata, TConfig Config) Read<TConfig>(
        string path, string modelName, string what, Func<string, TConfig> parseConfig)
    {
        var (arrays, metadata) = SafeTensors.Read(path);
        if (!metadata.TryGetValue(ModelFile.ModelKey, out var model) || model != modelName)
            throw new InvalidDataException($"{path}: not a {what} (its metadata names model '{model ?? "none"}'; train one with ilgpusat train --model {modelName}).");
        try
        {
            return (arrays, metadata, parseConfig(metadata[ModelFile.ConfigKey]));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: the {what} config in its metadata is unreadable: {e.Message}", e);
        }
    }
}
