using System.Diagnostics;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

/// <summary>End to end: a small conv net must be able to memorise one batch (catches wrong gradients that single-op checks miss).</summary>
public class OverfitTests
{
    [Test]
    public void ConvBnPreluStackOverfitsOneBatchWithAdam()
    {
        using var backend = new CpuBackend();
        var rng = new Random(7);
        using var model = new Sequential(
            new ConvBnPreluStack(new LayerFactory(backend, rng), 3, 16, depth: 3),
            new Modules.Conv2d(16, 3, 3, padding: 1, backend: backend, rng: rng));
        var x = Tensor.FromArray(GradCheck.Uniform(rng, 4 * 3 * 8 * 8), [4, 3, 8, 8], backend: backend).Keep();
        var y = Tensor.FromArray(GradCheck.Uniform(rng, 4 * 3 * 8 * 8), [4, 3, 8, 8], backend: backend).Keep();
        using var opt = new Adam(model.Parameters(), lr: 1e-2f);

        var clock = Stopwatch.StartNew();
        float first = float.NaN, last = float.NaN;
        int steps = 0;
        for (; steps < 400; steps++)
        {
            using var scope = new TensorScope();
            opt.ZeroGrad();
            var loss = F.MseLoss(model.Forward(x), y);
            loss.Backward();
            opt.Step();
            last = loss.Item();
            if (steps == 0) first = last;
            if (last < first / 100) break;
        }
        TestContext.Out.WriteLine($"loss {first:G4} -> {last:G4} in {steps + 1} Adam steps, {clock.Elapsed.TotalSeconds:F2} s");
        Assert.That(float.IsFinite(first) && first > 0.1f, Is.True, $"initial loss {first}");
        Assert.That(last, Is.LessThan(first / 100), $"loss only fell from {first} to {last} in {steps} steps.");
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(10));

        // Eval mode uses the running statistics: still a finite forward of the right shape.
        model.Eval();
        using (new TensorScope())
        using (Autograd.NoGrad())
        {
            var outEval = model.Forward(x);
            Assert.That(outEval.Shape, Is.EqualTo(new[] { 4, 3, 8, 8 }));
            Assert.That(outEval.ToArray().All(float.IsFinite), Is.True);
        }
        x.Dispose();
        y.Dispose();
    }
}
