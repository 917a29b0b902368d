using System.Text.Json;

namespace ILGpuSat.Networks.Misr;

/// <summary>
/// What a DeepSUM weights file (a <c>train --model deepsum</c> checkpoint) says in its safetensors metadata, beside
/// the state dict: <see cref="ModelFile.ModelKey"/> = "deepsum", <see cref="ModelFile.ConfigKey"/> = the
/// <see cref="DeepSumConfig"/> as JSON, the stage, the scale and the simulator it was trained on. One place for the
/// trainer that writes it and the enhancer and bench that read it.
/// </summary>
public static class DeepSumFile
{
    public const string ModelName = "deepsum";
    public const string StageKey = "ilgpusat.stage";
    public const string ScaleKey = "ilgpusat.scale";
    public const string SimulatorKey = "ilgpusat.simulator";

    /// <summary>The SISRNet stage's head (<see cref="SisrPretrainer.Head"/>), saved beside the network's tensors.</summary>
    public const string HeadPrefix = "head.";

    /// <summary>The stage whose checkpoint is single-image SR (SISRNet with its head).</summary>
    public const string SingleImageStage = "Sisr";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ConfigJson(DeepSumConfig config) => JsonSerializer.Serialize(config, Json);

    /// <summary>A config from JSON (camelCase), validated; a <see cref="JsonException"/> or <see cref="ArgumentException"/> when it cannot work.</summary>
    public static DeepSumConfig ParseConfig(string json)
    {
        var config = JsonSerializer.Deserialize<DeepSumConfig>(json, Json) ?? throw new JsonException("the DeepSUM config is empty.");
        config.Validate();
        return config;
    }
}
