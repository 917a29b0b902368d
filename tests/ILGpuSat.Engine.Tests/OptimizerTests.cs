using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

/// <summary>Hand-computed optimizer steps (the multi-step PyTorch comparisons are in Golden/).</summary>
public class OptimizerTests
{
    private CpuBackend _b = null!;

    [SetUp]
    public void SetUp() => _b = new CpuBackend();

    [TearDown]
    public void TearDown() => _b.Dispose();

    private Tensor Param(params float[] v) => Tensor.FromArray(v, [v.Length], requiresGrad: true, backend: _b);

    private static void SetGrad(Tensor p, params float[] g)
    {
        using var scope = new TensorScope();
        var c = Tensor.FromArray(g, [g.Length], backend: p.Backend);
        F.Sum(F.Mul(p, c)).Backward();  // d/dp sum(p*c) = c
    }

    [Test]
    public void SgdWithMomentumAndWeightDecay()
    {
        using var p = Param(1f, -2f);
        using var opt = new Sgd([p], lr: 0.1f, momentum: 0.9f, weightDecay: 0.5f);
        SetGrad(p, 1f, 1f);
        opt.Step();  // g = 1 + 0.5p = (1.5, 0); buf = g; p -= 0.1 g
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 0.85f, -2f }).Within(1e-6));
        opt.ZeroGrad();
        Assert.That(p.Grad, Is.Null);
        SetGrad(p, 1f, 1f);
        opt.Step();  // g = (1.425, 0); buf = 0.9*1.5 + 1.425 = 2.775, 0
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 0.85f - 0.2775f, -2f }).Within(1e-6));
        Assert.That(opt.StateOf(p)!.Step, Is.EqualTo(2));
    }

    [Test]
    public void AdamFirstStepMovesByTheLearningRate()
    {
        using var p = Param(1f, -2f, 3f);
        using var opt = new Adam([p], lr: 0.01f);
        SetGrad(p, 4f, -0.5f, 1e-3f);
        opt.Step();  // bias-corrected m/sqrt(v) = sign(g)
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 0.99f, -1.99f, 2.99f }).Within(2e-5));
    }

    [Test]
    public void AdamWDecaysTheWeightsEvenWithoutGradient()
    {
        using var p = Param(2f);
        using var opt = new AdamW([p], lr: 0.1f, weightDecay: 0.5f);
        SetGrad(p, 0f);
        opt.Step();  // p *= 1 - 0.05; the Adam update of a zero gradient is zero
        Assert.That(p.Item(), Is.EqualTo(1.9f).Within(1e-6));
    }

    [Test]
    public void ParametersWithoutGradientAreSkipped()
    {
        using var p = Param(1f);
        using var q = Param(5f);
        using var opt = new Sgd([p, q], lr: 1f);
        SetGrad(p, 2f);
        opt.Step();
        Assert.That(p.Item(), Is.EqualTo(-1f));
        Assert.That(q.Item(), Is.EqualTo(5f));
        Assert.That(opt.StateOf(q), Is.Null);
    }

    [Test]
    public void StepLRMultipliesTheRateEveryStepSizeEpochs()
    {
        using var p = Param(1f);
        using var opt = new Sgd([p], lr: 1f);
        var sched = new StepLR(opt, stepSize: 2, gamma: 0.5f);
        var rates = new List<float> { opt.LearningRate };
        for (int i = 0; i < 5; i++)
        {
            sched.Step();
            rates.Add(opt.LearningRate);
        }
        Assert.That(rates, Is.EqualTo(new[] { 1f, 1f, 0.5f, 0.5f, 0.25f, 0.25f }));
    }

    [Test]
    public void ClipGradNormScalesToTheMaximumAndReturnsTheNorm()
    {
        using var p = Param(0f, 0f);
        using var q = Param(0f);
        SetGrad(p, 3f, 0f);
        SetGrad(q, 4f);
        using (var norm = GradClip.ClipGradNorm([p, q], maxNorm: 1f))
            Assert.That(norm.Item(), Is.EqualTo(5f).Within(1e-5));
        float scale = 1f / (5f + 1e-6f);
        Assert.That(p.Grad!.ToArray(), Is.EqualTo(new[] { 3f * scale, 0f }).Within(1e-6));
        Assert.That(q.Grad!.ToArray(), Is.EqualTo(new[] { 4f * scale }).Within(1e-6));

        using (var norm = GradClip.ClipGradNorm([p, q], maxNorm: 10f))
            Assert.That(norm.Item(), Is.EqualTo(1f).Within(1e-5));  // below the maximum: unchanged
        Assert.That(q.Grad!.ToArray(), Is.EqualTo(new[] { 4f * scale }).Within(1e-6));

        p.ZeroGrad();
        q.ZeroGrad();
        SetGrad(q, 0f);
        using (var norm = GradClip.ClipGradNorm([p, q], maxNorm: 1f))
            Assert.That(norm.Item(), Is.EqualTo(0f), "a zero gradient has norm 0, not NaN");
    }

    [Test]
    public void OptimizerArgumentsAreChecked()
    {
        using var p = Param(1f);
        Assert.Throws<ArgumentException>(() => _ = new Sgd([], lr: 0.1f));
        Assert.Throws<ArgumentException>(() => _ = new Sgd([p, p], lr: 0.1f));
        Assert.Throws<ArgumentException>(() => _ = new Sgd([p], lr: -1f));
        Assert.Throws<ArgumentException>(() => _ = new Sgd([p], lr: 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => _ = new Adam([p], beta1: 1f));
        using var c = Tensor.Zeros([1], backend: _b);
        Assert.Throws<ArgumentException>(() => _ = new Adam([c]));
    }
}
