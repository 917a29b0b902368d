using System.Diagnostics;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Training.Losses;

namespace ILGpuSat.Tools.Bench;

/// <summary>Milliseconds of one training step by phase (each phase ends with a device synchronisation).</summary>
public sealed record StepTimes(double DataMs, double ForwardMs, double BackwardMs, double OptimizerMs)
{
    public double StepMs => DataMs + ForwardMs + BackwardMs + OptimizerMs;
}

/// <summary>
/// One real training step of a catalog model on a synthetic batch, as the trainer runs it
/// (Training/Runs/Trainer.cs): upload the batch, forward, the loss of the model's tasks
/// (<see cref="TrainingLoss"/>), backward, Adam with the paper's settings. The batch has the shapes and
/// value ranges of real ones (L* in the network normalisation, soft colour targets that are
/// distributions, rebalancing weights around 1) and is drawn once from a fixed seed, so `profile` and
/// `bench train` time the kernels a real step runs, without the data pipeline's cost.
/// Tools/Bench/pytorch_train.py builds the same step in PyTorch.
/// </summary>
public sealed class SyntheticTrainingStep : IDisposable
{
    private readonly Backend _backend;
    private readonly Adam _optimizer;
    private readonly (float[] Data, int[] Shape) _input, _sr, _distribution, _weights, _ab;

    public SyntheticTrainingStep(Backend backend, string modelName, ModelConfig? config, int batch, int size, int seed = 1)
    {
        _backend = backend;
        Spec = ModelCatalog.Get(modelName);
        Config = config ?? Spec.DefaultConfig;
        Network = ModelCatalog.Create(modelName, new LayerFactory(backend, seed), Config);
        int multiple = Network.SizeMultiple * (Network.Input == NetworkInput.LowResolution ? Network.Scale : 1);
        if (batch <= 0 || size <= 0 || size % Math.Max(multiple, 4) != 0)
            throw new ArgumentException($"{modelName}: the patch side must be a positive multiple of {Math.Max(multiple, 4)}, got {size} (batch {batch}).");
        Batch = batch;
        Size = size;
        _optimizer = new Adam(Network.Parameters(), lr: 1e-3f, beta1: 0.9f, beta2: 0.999f, weightDecay: 1e-4f);

        var rng = new Random(seed);
        int side = Network.Input == NetworkInput.LowResolution ? size / Network.Scale : size, t = size / Network.Scale;
        _input = (Uniform(rng, batch * side * side, -0.5f, 0.5f), [batch, 1, side, side]);
        _sr = (Uniform(rng, batch * size * size, -0.5f, 0.5f), [batch, 1, size, size]);
        _distribution = (SoftTargets(rng, batch, t), [batch, AbBins.Count, t, t]);
        _weights = (Uniform(rng, batch * t * t, 0.5f, 1.5f), [batch, 1, t, t]);
        _ab = (Uniform(rng, batch * 2 * size * size, -0.4f, 0.4f), [batch, 2, size, size]);
    }

    public ModelSpec Spec { get; }
    public ModelConfig Config { get; }
    public SatNetwork Network { get; }
    public int Batch { get; }
    public int Size { get; }

    public long ParameterCount => Network.Parameters().Sum(p => p.Length);

    /// <summary>Runs one step; returns the loss (read back: the one host wait of a trainer's step) and the phase times.</summary>
    public (float Loss, StepTimes Times) Run()
    {
        using var scope = new TensorScope();
        var tasks = Network.Tasks;
        var clock = Stopwatch.StartNew();
        double Lap()
        {
            _backend.Synchronize();
            double ms = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            return ms;
        }

        Network.Train();
        var input = Upload(_input);
        var targets = new LossTargets(
            tasks.HasFlag(NetworkTasks.SuperResolution) ? Upload(_sr) : null,
            tasks.HasFlag(NetworkTasks.ColorClassification) ? Upload(_distribution) : null,
            tasks.HasFlag(NetworkTasks.ColorClassification) ? Upload(_weights) : null,
            tasks.HasFlag(NetworkTasks.ColorRegression) ? Upload(_ab) : null);
        double data = Lap();
        _optimizer.ZeroGrad();
        var loss = TrainingLoss.Compute(tasks, Network.Forward(input), targets, eta: 1f);
        double forward = Lap();
        loss.Total.Backward(releaseIntermediates: true);
        double backward = Lap();
        _optimizer.Step();
        float value = loss.Total.Item();
        double optimizer = Lap();
        return (value, new StepTimes(data, forward, backward, optimizer));
    }

    private Tensor Upload((float[] Data, int[] Shape) a) => Tensor.FromArray(a.Data, a.Shape, _backend);

    private static float[] Uniform(Random rng, int n, float low, float high)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = low + (high - low) * (float)rng.NextDouble();
        return a;
    }

    /// <summary>Per pixel, a distribution over the 313 bins (a softmax of random scores), NCHW.</summary>
    private static float[] SoftTargets(Random rng, int batch, int side)
    {
        int bins = AbBins.Count, plane = side * side;
        var a = new float[batch * bins * plane];
        var scores = new double[bins];
        for (int n = 0; n < batch; n++)
            for (int p = 0; p < plane; p++)
            {
                double sum = 0;
                for (int q = 0; q < bins; q++) sum += scores[q] = Math.Exp(3 * (rng.NextDouble() * 2 - 1));
                for (int q = 0; q < bins; q++) a[(n * bins + q) * plane + p] = (float)(scores[q] / sum);
            }
        return a;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Network.Dispose();
    }
}
