using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

/// <summary>Backward(releaseIntermediates: true) frees the graph's activations as it goes, and changes no gradient.</summary>
public sealed class ReleaseIntermediatesTests
{
    private CpuBackend _b = null!;

    [SetUp]
    public void SetUp() => _b = new CpuBackend();

    [TearDown]
    public void TearDown() => _b.Dispose();

    /// <summary>A conv/BN/PReLU stack with a skip (the input reused by two branches) and a shared activation.</summary>
    private (float[][] Grads, long PeakBytes, Tensor Hidden, Tensor Kept, Tensor Loss) Step(Sequential net, Tensor x, Tensor target, bool release)
    {
        net.ZeroGrad();
        _b.ResetPeakBytesInUse();
        var hidden = net.Forward(x);
        var kept = F.Mul(hidden, 2f).Keep();                     // the caller owns this one: never released
        var loss = F.Add(F.MseLoss(F.Add(hidden, x), target), F.MseLoss(kept, target));
        loss.Backward(release);
        var grads = net.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        return (grads, _b.PeakBytesInUse, hidden, kept, loss);
    }

    [Test]
    public void GradientsAreTheSameAndOnlyScopeOwnedIntermediatesAreFreed()
    {
        using var net = new Sequential(new ConvBnPreluStack(new LayerFactory(_b, 3), 2, 2, depth: 3));
        var rng = new Random(5);
        using var x = Tensor.FromArray(GradCheck.Uniform(rng, 2 * 2 * 12 * 12), [2, 2, 12, 12], _b);
        using var target = Tensor.FromArray(GradCheck.Uniform(rng, 2 * 2 * 12 * 12), [2, 2, 12, 12], _b);

        float[][] kept, released;
        long keptPeak, releasedPeak;
        using (new TensorScope())
        {
            var r = Step(net, x, target, release: false);
            (kept, keptPeak) = (r.Grads, r.PeakBytes);
            Assert.That(r.Hidden.IsDisposed, Is.False);
            r.Kept.Dispose();
        }
        using (new TensorScope())
        {
            var r = Step(net, x, target, release: true);
            (released, releasedPeak) = (r.Grads, r.PeakBytes);
            Assert.That(r.Hidden.IsDisposed, Is.True, "an intermediate the scope owns is freed by backward");
            Assert.That(r.Kept.IsDisposed, Is.False, "a Keep()-ed intermediate stays");
            Assert.That(r.Loss.IsDisposed, Is.False, "the root stays");
            Assert.That(x.IsDisposed || target.IsDisposed, Is.False, "inputs are not the graph's to free");
            var e = Assert.Throws<ObjectDisposedException>(() => r.Hidden.ToArray())!;
            Assert.That(e.Message, Does.Contain("disposed"));
            r.Kept.Dispose();
        }
        for (int i = 0; i < kept.Length; i++) Assert.That(released[i], Is.EqualTo(kept[i]), $"parameter {i}");
        Assert.That(releasedPeak, Is.LessThan(keptPeak), "freeing activations during backward lowers the peak");
    }

    [Test]
    public void ATrainingStepOfLiu2018PeaksLowerWithTheSameGradients()
    {
        float[][] Grads(bool release, out long peak)
        {
            using var net = ModelCatalog.Create("liu2018", new LayerFactory(_b, 1), ModelCatalog.ParseConfig("liu2018", """{"trunkWidth":0.0625,"srWidth":0.125}"""));
            var rng = new Random(2);
            using var scope = new TensorScope();
            var x = Tensor.FromArray(GradCheck.Uniform(rng, 2 * 16 * 16), [2, 1, 16, 16], _b);
            var y = Tensor.FromArray(GradCheck.Uniform(rng, 2 * 16 * 16), [2, 1, 16, 16], _b);
            _b.ResetPeakBytesInUse();
            var o = net.Forward(x);
            var loss = F.Add(F.MseLoss(o.Sr!, y), F.Mean(F.Mul(o.ColorLogits!, o.ColorLogits!)));
            loss.Backward(release);
            peak = _b.PeakBytesInUse;
            return net.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        }
        var a = Grads(false, out long keptPeak);
        var b = Grads(true, out long releasedPeak);
        for (int i = 0; i < a.Length; i++) Assert.That(b[i], Is.EqualTo(a[i]), $"parameter {i}");
        Assert.That(releasedPeak, Is.LessThan(keptPeak));
        TestContext.Out.WriteLine($"peak live bytes: {keptPeak} kept, {releasedPeak} released");
    }
}
