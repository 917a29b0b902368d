using System.Text.Json;

namespace ILGpuSat.Networks.Colorization;

/// <summary>
/// What a divcolor weights file (a <c>train --model divcolor</c> checkpoint) says beside its tensors:
/// <see cref="ModelFile.ModelKey"/> = "divcolor", <see cref="ModelFile.ConfigKey"/> = the <see cref="DivColorConfig"/>
/// as JSON, <see cref="StageKey"/> = how far training got (a file whose MDN was never trained cannot rank
/// hypotheses), and the grey it learned from (<see cref="ColorizerGrey"/>). One place for the trainer that writes it
/// and the colorizer that reads it.
/// </summary>
public static class DivColorFile
{
    public const string ModelName = "divcolor";

    /// <summary>Metadata key of the training stage reached: <see cref="VaeStage"/> or <see cref="MdnStage"/>.</summary>
    public const string StageKey = "ilgpusat.divcolor.stage";

    public const string VaeStage = "vae";

    public const string MdnStage = "mdn";

    /// <summary>
    /// Whether inference reads a tensor: everything but the VAE's encoder of true ab fields (enc_*), which only training
    /// needs; an exported divcolor file keeps these alone.
    /// </summary>
    public static bool UsedAtInference(string tensorName) => !tensorName.StartsWith("enc_", StringComparison.Ordinal);

    /// <summary>Whether a tensor is the MDN head's (mdn.*), the second training stage's.</summary>
    public static bool InMixtureHead(string tensorName) => tensorName.StartsWith("mdn.", StringComparison.Ordinal);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ConfigJson(DivColorConfig config) => JsonSerializer.Serialize(config, Json);

    /// <summary>A config from JSON (camelCase), validated; a <see cref="JsonException"/> or <see cref="ArgumentException"/> when it cannot work.</summary>
    public static DivColorConfig ParseConfig(string json)
    {
        var config = JsonSerializer.Deserialize<DivColorConfig>(json, Json) ?? throw new JsonException("the divcolor config is empty.");
        config.Validate();
        return config;
    }
}
