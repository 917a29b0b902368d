using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks;
using ILGpuSat.Training.Runs;

namespace ILGpuSat.Training.TestHost;

/// <summary>A few-parameter network per task combination of the catalog, for fast training tests.</summary>
public sealed class TinyNetwork : SatNetwork
{
    private readonly Conv2d _stem, _sr, _colour, _ab;
    private readonly NetworkTasks _tasks;
    private readonly NetworkInput _input;

    public TinyNetwork(LayerFactory nn, NetworkTasks tasks, NetworkInput input, int width)
    {
        _tasks = tasks;
        _input = input;
        _stem = RegisterModule("stem", nn.Conv2d(1, width, 3, padding: 1));
        _sr = RegisterModule("sr", nn.Conv2d(width, 1, 3, padding: 1));
        _colour = RegisterModule("colour", nn.Conv2d(width, 313, 1));
        _ab = RegisterModule("ab", nn.Conv2d(width, 2, 3, padding: 1));
    }

    public override NetworkInput Input => _input;

    public override NetworkTasks Tasks => _tasks;

    public override NetworkOutput Forward(Tensor input)
    {
        var x = input;
        if (_input == NetworkInput.LowResolution) x = F.Interpolate(x, input.Size(2) * Scale, input.Size(3) * Scale, "bilinear");
        var h = F.Relu(_stem.Forward(x));
        Tensor? sr = _tasks.HasFlag(NetworkTasks.SuperResolution) ? F.Add(x, _sr.Forward(h)) : null;
        Tensor? logits = _tasks.HasFlag(NetworkTasks.ColorClassification) ? _colour.Forward(F.MaxPool2d(F.MaxPool2d(h))) : null;
        Tensor? ab = _tasks.HasFlag(NetworkTasks.ColorRegression) ? _ab.Forward(h) : null;
        return new NetworkOutput(sr, logits, ab);
    }
}

/// <summary>The test catalog: joint, sr, color and regression, each {"width": n} (strict).</summary>
public sealed class TinyModelSource : IModelSource
{
    public sealed record TinyConfig
    {
        public int Width { get; init; } = 4;
    }

    public string ResolveConfig(string model, JsonElement? config)
    {
        Spec(model);
        var parsed = config is null ? new TinyConfig() : config.Value.Deserialize<TinyConfig>(Config.TrainConfig.JsonOptions)!;
        return JsonSerializer.Serialize(parsed, Config.TrainConfig.JsonOptions);
    }

    public SatNetwork Create(string model, string resolvedConfig, LayerFactory nn)
    {
        var (tasks, input) = Spec(model);
        var config = JsonSerializer.Deserialize<TinyConfig>(resolvedConfig, Config.TrainConfig.JsonOptions)!;
        return new TinyNetwork(nn, tasks, input, config.Width);
    }

    public void SaveWeights(string path, SatNetwork network, string model, string resolvedConfig, IReadOnlyDictionary<string, string> metadata)
    {
        var meta = new Dictionary<string, string>(metadata) { ["model"] = model, ["config"] = resolvedConfig };
        SafeTensors.Save(path, network.StateDict(), meta);
    }

    private static (NetworkTasks, NetworkInput) Spec(string model) => model switch
    {
        "tiny-joint" => (NetworkTasks.SuperResolution | NetworkTasks.ColorClassification, NetworkInput.BicubicUpsampled),
        "tiny-sr" => (NetworkTasks.SuperResolution, NetworkInput.BicubicUpsampled),
        "tiny-color" => (NetworkTasks.ColorClassification, NetworkInput.BicubicUpsampled),
        "tiny-regression" => (NetworkTasks.SuperResolution | NetworkTasks.ColorRegression, NetworkInput.LowResolution),
        _ => throw new ArgumentException($"unknown model '{model}' (tiny-joint, tiny-sr, tiny-color, tiny-regression)."),
    };
}
