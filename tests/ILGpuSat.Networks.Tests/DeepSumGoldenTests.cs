using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Misr;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>
/// DeepSUM against its PyTorch definition (Tools/Bench/torch_deepsum.py) with the same random weights, at a tiny size:
/// the SR output, RegNet's filters, and the gradient of MSE(SR, target) for every parameter
/// (tests/golden/make_deepsum_golden.py writes tests/golden/deepsum/).
/// </summary>
public class DeepSumGoldenTests
{
    private const double Tolerance = 1e-4;
    private static string Folder => Path.Combine(RepositoryPaths.Root, "tests", "golden", "deepsum");

    private static readonly DeepSumConfig Tiny = new() { Frames = 3, Filters = 4, SisrLayers = 2, FilterSize = 3, FusionLayers = 1 };

    private static Tensor Load(CpuBackend b, string name)
    {
        var (data, shape) = Npy.Read(Path.Combine(Folder, name));
        return Tensor.FromArray(data, shape, b);
    }

    [Test]
    public void ForwardAndEveryParameterGradientMatchPyTorch()
    {
        using var backend = new CpuBackend();
        using var net = new DeepSum(backend, seed: 1, Tiny);
        net.Load(Path.Combine(Folder, "model.safetensors"));
        using var scope = new TensorScope();
        var frames = Load(backend, "frames.npy");
        var masks = Load(backend, "masks.npy");
        var output = net.Forward(frames, masks);
        var sr = Npy.Read(Path.Combine(Folder, "sr.npy"));
        NetworkGoldens.AssertClose("sr", output.Sr, sr.Data, sr.Shape, Tolerance);
        var filters = Npy.Read(Path.Combine(Folder, "filters.npy"));
        NetworkGoldens.AssertClose("filters", output.Filters!, filters.Data, filters.Shape, Tolerance);

        var loss = F.MseLoss(output.Sr, Load(backend, "target.npy"));
        loss.Backward();
        var grads = NetworkGoldens.Named(Path.Combine(Folder, "grads.safetensors"));
        var parameters = net.NamedParameters().ToList();
        Assert.That(parameters.Select(p => p.Name), Is.EquivalentTo(grads.Keys), "the same parameters, by PyTorch's names");
        foreach (var (name, p) in parameters)
        {
            // A convolution's bias right before an instance norm has no effect (the norm removes each channel's mean):
            // its gradient is zero up to rounding on both sides, where a relative error means nothing.
            if (grads[name].Data.Max(MathF.Abs) < 1e-12f)
            {
                Assert.That(p.Grad!.ToArray().Max(MathF.Abs), Is.LessThan(1e-6f), $"d/d {name} is zero in PyTorch");
                continue;
            }
            NetworkGoldens.AssertClose($"d/d {name}", p.Grad!, grads[name].Data, grads[name].Shape, Tolerance);
        }
    }

    [Test]
    public void InferenceReleasesItsIntermediatesAndStillMatchesPyTorch([Values(true, false)] bool regNet)
    {
        using var backend = new CpuBackend();
        using var net = new DeepSum(backend, seed: 1, Tiny with { UseRegNet = regNet });
        net.Load(Path.Combine(Folder, "model.safetensors"), strict: false);
        net.Eval();
        using var frames = Load(backend, "frames.npy");
        using var masks = Load(backend, "masks.npy");
        float[] Run(bool release, out int left, out long peak)
        {
            using var scope = new TensorScope();
            backend.ResetPeakBytesInUse();
            using var mode = release ? Autograd.NoGrad() : default;
            var output = net.Forward(frames, masks);
            left = scope.Count;
            peak = backend.PeakBytesInUse;
            return output.Sr.ToArray();
        }
        var kept = Run(release: false, out int keptCount, out long keptPeak);
        var released = Run(release: true, out int releasedCount, out long releasedPeak);
        Assert.That(released, Is.EqualTo(kept), "releasing changes no value");
        Assert.That(frames.IsDisposed || masks.IsDisposed, Is.False, "the caller's inputs are never released");
        Assert.That(releasedCount, Is.LessThanOrEqualTo(regNet ? 2 : 1), $"only the SR (and RegNet's filters) stay alive, not the {keptCount} tensors of a grad-mode forward");
        Assert.That(releasedPeak, Is.LessThan(keptPeak / 2), "inference holds a few feature stacks, not every activation");
        if (regNet)
        {
            var sr = Npy.Read(Path.Combine(Folder, "sr.npy"));
            Assert.That(released, Is.EqualTo(sr.Data).Within(Tolerance));
        }
    }

    [Test]
    public void WithoutRegNetTheFramesAreFusedAsTheyCome()
    {
        using var backend = new CpuBackend();
        using var net = new DeepSum(backend, seed: 2, Tiny with { UseRegNet = false });
        using var scope = new TensorScope();
        var frames = Load(backend, "frames.npy");
        var masks = Load(backend, "masks.npy");
        var output = net.Forward(frames, masks);
        Assert.That(output.Filters, Is.Null);
        Assert.That(output.Sr.Shape, Is.EqualTo(new[] { 2, 1, 9, 8 }));
        var e = Assert.Throws<ArgumentException>(() => net.Forward(F.Narrow(frames, 1, 0, 2), F.Narrow(masks, 1, 0, 2)));
        Assert.That(e!.Message, Does.Contain("[N, 3, 1, H, W]"));
        Assert.Throws<ArgumentException>(() => new DeepSum(backend, 1, Tiny with { Frames = 4 }));
    }

    [Test]
    public void MutualInpaintingTakesTheFirstClearFrame()
    {
        // 1 sample, 3 frames, 2 pixels: pixel 0 cloudy in frame 0 only; pixel 1 cloudy everywhere.
        float[] masks = [0, 0, 1, 0, 1, 0];
        var sel = MutualInpainting.Selection(masks, 1, 3, 2);
        Assert.That(sel, Is.EqualTo(new[] { 1, 0, 1, 1, 2, 2 }), "frame 0 takes frame 1 at pixel 0; where no frame is clear each keeps its own");
    }
}
