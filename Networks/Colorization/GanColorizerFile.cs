using System.Text.Json;

namespace ILGpuSat.Networks.Colorization;

/// <summary>
/// What a GAN colorizer weights file (a <c>train --model gan-colorizer</c> checkpoint, or its exported generator) says
/// beside its tensors: <see cref="ModelFile.ModelKey"/> = "gan-colorizer", <see cref="ModelFile.ConfigKey"/> = the
/// <see cref="GanColorizerConfig"/> as JSON, and which grey the generator learned from (<see cref="ColorizerGrey"/>). The tensors are the
/// generator's under "generator." and, in a checkpoint, the discriminator's under "discriminator.". One place for the
/// trainer that writes it and the colorizer and export command that read it.
/// </summary>
public static class GanColorizerFile
{
    public const string ModelName = "gan-colorizer";
    public const string GeneratorPrefix = "generator.";
    public const string DiscriminatorPrefix = "discriminator.";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ConfigJson(GanColorizerConfig config) => JsonSerializer.Serialize(config, Json);

    /// <summary>A config from JSON (camelCase), validated; a <see cref="JsonException"/> or <see cref="ArgumentException"/> when it cannot work.</summary>
    public static GanColorizerConfig ParseConfig(string json)
    {
        var config = JsonSerializer.Deserialize<GanColorizerConfig>(json, Json) ?? throw new JsonException("the GAN colorizer config is empty.");
        config.Validate();
        return config;
    }
}
