using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

[TestFixture]
public class ModelCostTests
{
    /// <summary>srcnn's FLOPs by hand: 2 per multiply-add of its three convolutions (bias included in the kernel), plus
    /// one per element of each ReLU.</summary>
    [Test]
    public void SrcnnCountIsItsConvolutionsAndRelus()
    {
        using var cpu = new CpuBackend();
        using var net = ModelCatalog.Create("srcnn", new LayerFactory(cpu, 0), new SrcnnConfig(0.25));
        var cost = ModelCost.Measure(net, 20);
        double px = 20 * 20, c1 = 16, c2 = 8;
        double convs = 2 * px * (1 * c1 * 81 + c1 * c2 * 25 + c2 * 1 * 25);
        Assert.That(cost.Flops, Is.GreaterThanOrEqualTo(convs).And.LessThanOrEqualTo(convs + px * (c1 + c2) + 2 * px * (c1 + c2 + 1)));
        Assert.That(cost.Parameters, Is.EqualTo(81 * 16 + 16 + 16 * 8 * 25 + 8 + 8 * 25 + 1));
        Assert.That(cost.MeasuredSide, Is.EqualTo(20));
        Assert.That(net.Training, Is.True, "the training mode is restored");
    }

    /// <summary>A side the model cannot take runs at the next one it can, scaled by area: it agrees with a side it can take.</summary>
    [Test]
    public void UnreachableSidesAreScaledByArea()
    {
        using var cpu = new CpuBackend();
        using var net = ModelCatalog.Create("regression-ed", new LayerFactory(cpu, 0), new RegressionEdConfig(0.125));
        var exact = ModelCost.Measure(net, 128);
        var scaled = ModelCost.Measure(net, 96);
        Assert.That(scaled.MeasuredSide, Is.EqualTo(128));
        Assert.That(scaled.Flops, Is.EqualTo(exact.Flops * 96 * 96 / (128.0 * 128)).Within(1e-9).Percent);
        var bigger = ModelCost.Measure(net, 256);
        // Proportional but for the bicubic upsampler's 2-pixel border, a visible share of so narrow a model only.
        Assert.That(bigger.Flops / exact.Flops, Is.EqualTo(4).Within(2).Percent, "work is proportional to the output area");
    }
}
