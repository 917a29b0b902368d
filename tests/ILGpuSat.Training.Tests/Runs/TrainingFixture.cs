using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Training.Config;
using ILGpuSat.Training.Tests.Data;

namespace ILGpuSat.Training.Tests.Runs;

/// <summary>Tiny images in a temp folder and a tiny-run configuration over them.</summary>
internal sealed class TrainingFixture : IDisposable
{
    private readonly DataFixtures _fx = new();

    public TrainingFixture()
    {
        Satellite = _fx.Folder("sat");
        Natural = _fx.Folder("nat");
        Validation = _fx.Folder("val");
        for (int i = 0; i < 3; i++) _fx.WritePng(Satellite, $"s{i}.png", 48, 40, i);
        for (int i = 0; i < 2; i++) _fx.WritePng(Natural, $"n{i}.png", 40, 56, 10 + i);
        for (int i = 0; i < 2; i++) _fx.WritePng(Validation, $"v{i}.png", 36, 40, 20 + i);
    }

    public string Satellite { get; }
    public string Natural { get; }
    public string Validation { get; }

    public string NewRunFolder(string name) => Path.Combine(_fx.Root, "runs", name + "-" + Guid.NewGuid().ToString("N")[..6]);

    public TrainConfig Config(string model = "tiny-joint", long steps = 12) => new()
    {
        Model = model,
        ModelConfig = JsonDocument.Parse("""{"width": 4}""").RootElement.Clone(),
        Data = new DataConfig
        {
            Satellite = [Satellite], Natural = [Natural], Validation = Validation, Patch = 16, Stride = 8, Workers = 1,
            ShuffleBuffer = 8, MaxPatchesPerImage = 6, ValidationImages = 2, ValidationSize = 32,
        },
        Optimizer = new OptimizerConfig { Lr = 1e-2 },
        Schedule = new ScheduleConfig { StepSize = 5, Gamma = 0.5 },
        Loss = new LossConfig { RaiseEtaAtStep = 7 },
        Batch = 2,
        Steps = steps,
        Intervals = new IntervalConfig { Log = 2, Validate = 6, Checkpoint = 3 },
        KeepLast = 2,
        Seed = 5,
        Device = "cpu",
    };

    /// <summary>Every tensor of a weights file, by name.</summary>
    public static Dictionary<string, float[]> Weights(string path) =>
        SafeTensors.Read(path).Tensors.ToDictionary(t => t.Name, t => t.Value.Data);

    public void Dispose() => _fx.Dispose();
}
