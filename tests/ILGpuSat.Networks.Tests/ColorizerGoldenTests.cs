using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Colorization;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>
/// The generative colorizers against their PyTorch definitions (Tools/Bench/torch_colorizers.py) with the same random
/// weights at a tiny size: outputs and every parameter's gradient (tests/golden/make_colorizer_golden.py).
/// </summary>
public class ColorizerGoldenTests
{
    private const double Tolerance = 1e-4;
    private static string Folder => Path.Combine(RepositoryPaths.Root, "tests", "golden", "colorizers", "gan");

    private static readonly GanColorizerConfig Tiny = new() { Filters = 4, Mix = 0.3f, DiscriminatorWidth = 0.0625, Window = 32 };

    private static Tensor Load(CpuBackend b, string name)
    {
        var (data, shape) = Npy.Read(Path.Combine(Folder, name));
        return Tensor.FromArray(data, shape, b);
    }

    [Test]
    public void GanGeneratorAndDiscriminatorMatchPyTorchWithEveryGradient()
    {
        using var backend = new CpuBackend();
        var nn = new LayerFactory(backend, 1);
        using var generator = new GanGenerator(nn, Tiny);
        using var discriminator = new GanDiscriminator(nn, Tiny);
        generator.Load(Path.Combine(Folder, "generator.safetensors"));
        discriminator.Load(Path.Combine(Folder, "discriminator.safetensors"));
        using var scope = new TensorScope();
        var rgb = generator.Forward(Load(backend, "grey.npy"));
        var logits = discriminator.Forward(rgb);
        var expectedRgb = Npy.Read(Path.Combine(Folder, "rgb.npy"));
        NetworkGoldens.AssertClose("rgb", rgb, expectedRgb.Data, expectedRgb.Shape, Tolerance);
        var expectedLogits = Npy.Read(Path.Combine(Folder, "logits.npy"));
        NetworkGoldens.AssertClose("logits", logits, expectedLogits.Data, expectedLogits.Shape, Tolerance);

        var loss = F.Add(F.BinaryCrossEntropyWithLogits(logits, Tensor.Ones(logits.Shape, backend)), F.MseLoss(rgb, Load(backend, "target.npy")));
        loss.Backward();
        var grads = NetworkGoldens.Named(Path.Combine(Folder, "grads.safetensors"));
        var parameters = generator.NamedParameters().Select(p => ("generator." + p.Name, p.Tensor))
            .Concat(discriminator.NamedParameters().Select(p => ("discriminator." + p.Name, p.Tensor))).ToList();
        Assert.That(parameters.Select(p => p.Item1), Is.EquivalentTo(grads.Keys), "the same parameters, by PyTorch's names");
        foreach (var (name, p) in parameters)
            NetworkGoldens.AssertClose($"d/d {name}", p.Grad!, grads[name].Data, grads[name].Shape, Tolerance);
    }

    [Test]
    public void TheGeneratorRunsAtAnyEvenSizeAndTheDiscriminatorOnlyOnItsWindow()
    {
        using var backend = new CpuBackend();
        var nn = new LayerFactory(backend, 3);
        using var generator = new GanGenerator(nn, Tiny);
        using var discriminator = new GanDiscriminator(nn, Tiny);
        using var scope = new TensorScope();
        var rgb = generator.Forward(Tensor.Full([1, 1, 18, 46], 0.5f, backend));
        Assert.That(rgb.Shape, Is.EqualTo(new[] { 1, 3, 18, 46 }));
        Assert.That(rgb.ToArray().All(v => v is > 0f and < 1f), Is.True, "sigmoid output");
        Assert.That(() => generator.Forward(Tensor.Zeros([1, 1, 17, 16], backend: backend)), Throws.ArgumentException.With.Message.Contains("even"));
        Assert.That(() => discriminator.Forward(Tensor.Zeros([1, 3, 64, 64], backend: backend)), Throws.ArgumentException.With.Message.Contains("32, 32"));
        Assert.That(discriminator.Weights.Count(), Is.EqualTo(6), "five convolutions and the linear layer");
    }
    [Test]
    public void DivColorsVaeAndMixtureMatchPyTorchWithEveryGradient()
    {
        string folder = Path.Combine(RepositoryPaths.Root, "tests", "golden", "colorizers", "divcolor");
        (float[] Data, int[] Shape) Npy_(string name) => Npy.Read(Path.Combine(folder, name));
        using var backend = new CpuBackend();
        using var net = new DivColor(new LayerFactory(backend, 1), new DivColorConfig { Size = 16, Widths = [3, 4, 5, 6], Z = 4, Components = 3 });
        net.Load(Path.Combine(folder, "model.safetensors"));
        using var scope = new TensorScope();
        Tensor T(string name) { var (d, sh) = Npy_(name); return Tensor.FromArray(d, sh, backend); }
        var ab = T("ab.npy");
        var features = net.GreyFeatures(T("grey.npy"));
        var (mu, logVar) = net.Encode(ab);
        var z = F.Add(mu, F.Mul(F.Exp(F.Mul(logVar, 0.5f)), T("eps.npy")));
        var decoded = net.Decode(z, features);
        var (weightLogits, means) = net.Mixture(features);
        foreach (var (name, t) in new[] { ("decoded", decoded), ("mu", mu), ("logvar", logVar), ("weight_logits", weightLogits), ("means", means) })
        {
            var (d, sh) = Npy_(name + ".npy");
            NetworkGoldens.AssertClose(name, t, d, sh, Tolerance);
        }
        var logStd = Tensor.Full(means.Shape, MathF.Log(0.3f), backend);
        var loss = F.Add(F.Add(F.MseLoss(decoded, ab), F.GradientLoss(decoded, ab)),
                         F.Add(F.GaussianKl(mu, logVar, 3), F.GaussianMixtureNll(z, weightLogits, means, logStd)));
        loss.Backward();
        var grads = NetworkGoldens.Named(Path.Combine(folder, "grads.safetensors"));
        var parameters = net.NamedParameters().ToList();
        Assert.That(parameters.Select(p => p.Name), Is.EquivalentTo(grads.Keys), "the same parameters, by PyTorch's names");
        foreach (var (name, p) in parameters)
        {
            // A convolution's bias before batch norm has no effect: zero in PyTorch (float64), float32 rounding here (the loss is about 20).
            if (grads[name].Data.Max(MathF.Abs) < 1e-9f) { Assert.That(p.Grad!.ToArray().Max(MathF.Abs), Is.LessThan(1e-4f), name); continue; }
            NetworkGoldens.AssertClose($"d/d {name}", p.Grad!, grads[name].Data, grads[name].Shape, Tolerance);
        }
    }
}
