using System.Text.Json;
using System.Text.Json.Serialization;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks;

/// <summary>
/// A model's configuration: a record of its own (width multipliers and the like) that round-trips through
/// JSON (<see cref="ModelCatalog.ConfigJson"/>, <see cref="ModelCatalog.ParseConfig"/>) and is stored in every
/// weights file, so a file rebuilds the network it came from.
/// </summary>
public abstract record ModelConfig
{
    /// <summary>The same configuration with every width multiplier set to <paramref name="width"/> (the CLI's --width).</summary>
    public abstract ModelConfig WithWidth(double width);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the field when a value cannot build a model.</summary>
    public abstract void Validate();
}

/// <summary>One architecture of the catalog: its name, a one-line summary, its config type and default, and how to build it.</summary>
public sealed record ModelSpec(string Name, string Summary, Type ConfigType, ModelConfig DefaultConfig,
                               Func<LayerFactory, ModelConfig, SatNetwork> Build);

/// <summary>
/// The one table of architectures: the CLI, the trainer and weights-file metadata name models by
/// <see cref="ModelSpec.Name"/>. Each network lives in its own file of Networks/ (docs/networks.md).
/// </summary>
public static class ModelCatalog
{
    /// <summary>camelCase, strict: unknown fields and numbers written as strings are errors.</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        WriteIndented = false,
    };

    public static IReadOnlyList<ModelSpec> All { get; } =
    [
        Spec<SrcnnConfig>("srcnn", "SRCNN 9-5-5 (Dong et al.): 64/32 channels, ReLU, predicts the image from bicubic",
            new SrcnnConfig(), (nn, c) => new Srcnn(nn, c)),
    ];

    /// <summary>The architecture called <paramref name="name"/> (exact spelling); the error lists the known names.</summary>
    public static ModelSpec Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(s => s.Name == name)
            ?? throw new ArgumentException($"unknown model '{name}'; the catalog has: {string.Join(", ", All.Select(s => s.Name))}.");
    }

    /// <summary>Builds <paramref name="name"/> on the factory's backend with <paramref name="config"/> (default: the catalog's).</summary>
    public static SatNetwork Create(string name, LayerFactory nn, ModelConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(nn);
        var spec = Get(name);
        config ??= spec.DefaultConfig;
        CheckType(spec, config);
        config.Validate();
        return spec.Build(nn, config);
    }

    /// <summary>
    /// The config of model <paramref name="name"/> from JSON (camelCase names, e.g. <c>{"width":0.25}</c>); absent
    /// fields keep their defaults. Strict: an unknown field, a wrong type or a value no model can take is an
    /// <see cref="ArgumentException"/> that names the model and the problem.
    /// </summary>
    public static ModelConfig ParseConfig(string name, string json)
    {
        var spec = Get(name);
        ArgumentNullException.ThrowIfNull(json);
        ModelConfig? config;
        try
        {
            config = (ModelConfig?)JsonSerializer.Deserialize(json, spec.ConfigType, Json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"config of model '{name}' is not valid: {e.Message} Fields: {FieldList(spec)}.", e);
        }
        if (config is null) throw new ArgumentException($"config of model '{name}' is null; expected a JSON object with fields {FieldList(spec)}.");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"config of model '{name}': {e.Message}", e);
        }
        return config;
    }

    /// <summary>The JSON that <see cref="ParseConfig"/> reads back to an equal config (all fields written).</summary>
    public static string ConfigJson(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return JsonSerializer.Serialize(config, config.GetType(), Json);
    }

    /// <summary>Throws unless <paramref name="config"/> is the config type of <paramref name="spec"/>.</summary>
    internal static void CheckType(ModelSpec spec, ModelConfig config)
    {
        if (config.GetType() != spec.ConfigType)
            throw new ArgumentException($"model '{spec.Name}' takes a {spec.ConfigType.Name}, not a {config.GetType().Name}.");
    }

    private static string FieldList(ModelSpec spec) => ConfigJson(spec.DefaultConfig);

    private static ModelSpec Spec<TConfig>(string name, string summary, TConfig defaults, Func<LayerFactory, TConfig, SatNetwork> build)
        where TConfig : ModelConfig
        => new(name, summary, typeof(TConfig), defaults, (nn, config) => build(nn, (TConfig)config));
}
