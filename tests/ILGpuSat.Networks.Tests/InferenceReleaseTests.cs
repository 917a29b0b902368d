using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>
/// Outside grad mode every catalog network frees each intermediate after its last read
/// (<see cref="Tensor.ReleaseIfNoGrad"/>): the output is exactly the grad-mode output (nothing was freed that a
/// later layer reads; a use after free would throw), and the forward's live-buffer peak is well below the
/// grad-mode forward's, which keeps every activation for backward.
/// </summary>
[TestFixture]
public class InferenceReleaseTests
{
    private static readonly CpuBackend Cpu = new() { Threads = 2 };

    [OneTimeTearDown]
    public void DisposeBackend() => Cpu.Dispose();

    public static IEnumerable<string> Names => ModelCatalog.All.Select(s => s.Name);

    [TestCaseSource(nameof(Names))]
    public void NoGradForwardFreesIntermediatesAndGivesTheSameOutput(string name)
    {
        using var net = ModelCatalog.Create(name, new LayerFactory(Cpu, 5), ModelCatalog.Get(name).DefaultConfig.WithWidth(0.125));
        net.Eval();
        int h = 32, w = 48; // multiples of every network's size multiple (regression-ed: 16)
        var rng = new Random(11);
        var data = Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble()).ToArray();

        var (heldPeak, held) = Run(net, data, h, w, noGrad: false);
        var (releasedPeak, released) = Run(net, data, h, w, noGrad: true);

        Assert.That(released.Count, Is.EqualTo(held.Count));
        for (int i = 0; i < held.Count; i++)
            Assert.That(released[i], Is.EqualTo(held[i]), $"{name}: output {i} differs once intermediates are freed");
        // Even srcnn (three layers) frees one of its two hidden activations; the deep networks free most of theirs.
        double ratio = (double)releasedPeak / heldPeak;
        TestContext.Out.WriteLine($"{name}: no-grad peak {releasedPeak:N0} B, grad-mode peak {heldPeak:N0} B ({ratio:F2})");
        Assert.That(ratio, Is.LessThan(name == "srcnn" ? 0.9 : 0.5), $"{name}: the no-grad forward still holds its intermediates");

        // The folded network inference runs (one fused op per block) needs no more than the unfolded one.
        using var folded = InferenceFolding.FoldForInference(net);
        var (foldedPeak, _) = Run(folded, data, h, w, noGrad: true);
        Assert.That(foldedPeak, Is.LessThanOrEqualTo(releasedPeak), $"{name}: the folded forward holds more than the unfolded one");
    }

    private static (long Peak, List<float[]> Outputs) Run(SatNetwork net, float[] data, int h, int w, bool noGrad)
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(data, [1, 1, h, w], Cpu);
        long before = Cpu.BytesInUse;
        Cpu.ResetPeakBytesInUse();
        NetworkOutput y;
        if (noGrad)
            using (Autograd.NoGrad()) y = net.Forward(x);
        else y = net.Forward(x);
        long peak = Cpu.PeakBytesInUse - before;
        var outputs = new[] { y.Sr, y.ColorLogits, y.Ab }.Where(t => t is not null).Select(t => t!.ToArray()).ToList();
        return (peak, outputs);
    }
}
