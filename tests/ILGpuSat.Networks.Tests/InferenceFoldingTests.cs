using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>
/// <see cref="InferenceFolding.FoldForInference"/> on every catalog model at a tiny width: with random
/// batch norm affines (negative gammas included), running statistics from a few train-mode forwards and
/// every zero-initialised head made nonzero, the folded network's eval output equals the unfolded one's.
/// </summary>
[TestFixture]
public class InferenceFoldingTests
{
    private static readonly CpuBackend Cpu = new() { Threads = 2 };

    [OneTimeTearDown]
    public void DisposeBackend() => Cpu.Dispose();

    public static IEnumerable<string> Names => ModelCatalog.All.Select(s => s.Name);

    private static (int H, int W) InputSize(SatNetwork net) => net.Input == NetworkInput.LowResolution ? (16, 16) : (16, 24);

    /// <summary>A tiny network whose parameters and statistics are far from their initial values.</summary>
    internal static SatNetwork Trained(string name, int seed)
    {
        var spec = ModelCatalog.Get(name);
        var net = ModelCatalog.Create(name, new LayerFactory(Cpu, seed), spec.DefaultConfig.WithWidth(0.0625));
        var rng = new Random(seed);
        float U() => (float)(rng.NextDouble() * 2 - 1);
        foreach (var (_, module) in net.NamedModules())
            if (module is BatchNorm2d bn)
            {
                bn.Weight!.CopyFrom(Enumerable.Range(0, bn.NumFeatures).Select(c => (0.5f + Math.Abs(U())) * (c % 4 == 3 ? -1f : 1f)).ToArray());
                bn.Bias!.CopyFrom(Enumerable.Range(0, bn.NumFeatures).Select(_ => 0.5f * U()).ToArray());
            }
        foreach (var (key, p) in net.NamedParameters())
            if (!key.EndsWith("bn.weight", StringComparison.Ordinal) && !key.EndsWith("bn.bias", StringComparison.Ordinal) && !IsBatchNorm(net, key))
            {
                var v = p.ToArray();
                for (int i = 0; i < v.Length; i++) v[i] += 0.05f * U();
                p.CopyFrom(v);
            }
        var (h, w) = InputSize(net);
        using (Autograd.NoGrad())
        {
            net.Train();
            for (int step = 0; step < 3; step++)
            {
                using var scope = new TensorScope();
                net.Forward(Input(rng, 2, h, w));
            }
        }
        net.Eval();
        return net;
    }

    private static bool IsBatchNorm(SatNetwork net, string key)
    {
        string owner = key[..key.LastIndexOf('.')];
        return net.NamedModules().Any(m => m.Name == owner && m.Module is BatchNorm2d);
    }

    private static Tensor Input(Random rng, int n, int h, int w)
        => Tensor.FromArray(Enumerable.Range(0, n * h * w).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), [n, 1, h, w], Cpu);

    private static IEnumerable<(string Name, float[] Values)> Outputs(NetworkOutput y)
    {
        if (y.Sr is not null) yield return ("sr", y.Sr.ToArray());
        if (y.ColorLogits is not null) yield return ("color logits", y.ColorLogits.ToArray());
        if (y.Ab is not null) yield return ("ab", y.Ab.ToArray());
    }

    private static double RelativeError(float[] a, float[] b)
    {
        double max = 0, err = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(b[i]));
            err = Math.Max(err, Math.Abs(a[i] - b[i]));
        }
        return err / Math.Max(max, 1e-30);
    }

    [TestCaseSource(nameof(Names))]
    public void FoldedEvalOutputEqualsUnfolded(string name)
    {
        using var trained = Trained(name, 7);
        var (h, w) = InputSize(trained);
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        var x = Input(new Random(3), 2, h, w);
        var before = Outputs(trained.Forward(x)).ToList();

        using var folded = InferenceFolding.FoldForInference(trained);
        Assert.That(folded.Training, Is.False, "the folded network is in eval mode");
        Assert.That(folded.Normalization, Is.EqualTo(trained.Normalization));
        var profiler = new KernelProfiler();
        Cpu.Profiler = profiler;
        List<(string Name, float[] Values)> after;
        try { after = Outputs(folded.Forward(x)).ToList(); }
        finally { Cpu.Profiler = null; }
        var again = Outputs(trained.Forward(x)).ToList();

        Assert.That(after.Select(o => o.Name), Is.EqualTo(before.Select(o => o.Name)));
        for (int i = 0; i < before.Count; i++)
        {
            Assert.That(before[i].Values.Select(Math.Abs).Max(), Is.GreaterThan(1e-3f), $"{name} {before[i].Name}: a test output that is all but zero proves nothing");
            Assert.That(RelativeError(after[i].Values, before[i].Values), Is.LessThanOrEqualTo(1e-4), $"{name} {before[i].Name}: folded vs unfolded");
            Assert.That(again[i].Values, Is.EqualTo(before[i].Values), $"{name} {before[i].Name}: the trained network is unchanged");
        }
        var kernels = profiler.Launches.Select(l => l.Kernel).ToList();
        Assert.That(kernels, Has.Some.EqualTo("conv2d_fused"), "fused convolutions run");
        Assert.That(kernels.Where(k => k.Contains("batch", StringComparison.OrdinalIgnoreCase) || k.Contains("bn", StringComparison.OrdinalIgnoreCase)),
            Is.Empty, $"{name}: every batch norm is folded");
    }

    [Test]
    public void TheFusedConvolutionRefusesToRecordAGradient()
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(new float[2 * 5 * 5], [1, 2, 5, 5], Cpu, requiresGrad: true);
        var w = Tensor.FromArray(new float[3 * 2 * 9], [3, 2, 3, 3], Cpu);
        var e = Assert.Throws<InvalidOperationException>(() => F.Conv2dFused(x, w, null, ConvActivation.Relu, padding: 1));
        Assert.That(e!.Message, Does.Contain("conv2d_fused").And.Contain("no gradient"));
        using (Autograd.NoGrad())
            Assert.That(F.Conv2dFused(x, w, null, ConvActivation.Relu, padding: 1).Shape, Is.EqualTo(new[] { 1, 3, 5, 5 }));
    }

    [Test]
    public void ANetworkThatCannotBeRebuiltIsRefusedWithItsType()
    {
        using var net = new NoRebuild();
        var e = Assert.Throws<ArgumentException>(() => InferenceFolding.FoldForInference(net));
        Assert.That(e!.Message, Does.Contain(nameof(NoRebuild)));
    }

    private sealed class NoRebuild : SatNetwork
    {
        private readonly Conv2d _conv = null!;

        public NoRebuild() => _conv = RegisterModule("conv", new LayerFactory(Cpu, 0).Conv2d(1, 1, 3, padding: 1));

        public override NetworkInput Input => NetworkInput.BicubicUpsampled;
        public override NetworkTasks Tasks => NetworkTasks.SuperResolution;
        public override NetworkOutput Forward(Tensor input) => new(_conv.Forward(input), null, null);
    }
}
