using ILGpuSat.Engine;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Blocks;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>The in-network bicubic upsampling (composed from Narrow, Cat and one transposed convolution) is the data
/// pipeline's MATLAB-style bicubic, and its gradient is its adjoint.</summary>
[TestFixture]
public class BicubicUpsamplerTests
{
    [TestCase(16, 16, 4)]
    [TestCase(2, 3, 4)]
    [TestCase(7, 5, 4)]
    [TestCase(6, 9, 2)]
    public void EqualsImagingsMatlabBicubic(int h, int w, int factor)
    {
        using var cpu = new CpuBackend();
        using var scope = new TensorScope();
        using var up = new BicubicUpsampler(cpu, factor);
        var rng = new Random(h * 31 + w);
        var planes = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble()).ToArray()).ToArray();
        var y = up.Forward(Tensor.FromArray(planes.SelectMany(p => p).ToArray(), [2, 1, h, w], cpu)).ToArray();
        for (int p = 0; p < 2; p++)
        {
            var want = Resampler.Resize(planes[p], w, h, factor * w, factor * h, ResampleKernel.Bicubic);
            var got = y.AsSpan(p * want.Length, want.Length).ToArray();
            double err = got.Zip(want, (a, b) => Math.Abs(a - b)).Max();
            Assert.That(err, Is.LessThan(2e-6), $"plane {p}: max difference {err}");
        }
    }

    /// <summary>For a linear map U, the gradient of sum(U(x) * g) with respect to x is U^T g, so sum(x * dx) = sum(U(x) * g).</summary>
    [Test]
    public void GradientIsTheAdjoint()
    {
        using var cpu = new CpuBackend();
        using var scope = new TensorScope();
        using var up = new BicubicUpsampler(cpu, 4);
        var rng = new Random(3);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var xs = R(2 * 5 * 6);
        var x = Tensor.FromArray(xs, [2, 1, 5, 6], cpu, requiresGrad: true);
        var y = up.Forward(x);
        var g = R(2 * 20 * 24);
        y.Backward(Tensor.FromArray(g, y.Shape, cpu));
        double lhs = xs.Zip(x.Grad!.ToArray(), (a, b) => (double)a * b).Sum();
        double rhs = y.ToArray().Zip(g, (a, b) => (double)a * b).Sum();
        Assert.That(lhs, Is.EqualTo(rhs).Within(1e-4 * Math.Abs(rhs)));
    }

    [Test]
    public void BadArgumentsAreRefused()
    {
        using var cpu = new CpuBackend();
        using var scope = new TensorScope();
        Assert.Throws<ArgumentException>(() => new BicubicUpsampler(cpu, 3));
        using var up = new BicubicUpsampler(cpu, 4);
        Assert.Throws<ArgumentException>(() => up.Forward(Tensor.Zeros([1, 1, 1, 8], cpu)));
        Assert.Throws<ArgumentException>(() => up.Forward(Tensor.Zeros([1, 2, 8, 8], cpu)));
    }
}
