using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

/// <summary>Bad shapes and arguments raise ArgumentException naming the op and the shapes.</summary>
public class ErrorMessageTests
{
    private CpuBackend _b = null!;
    private TensorScope _scope = null!;

    [SetUp]
    public void SetUp()
    {
        _b = new CpuBackend();
        _scope = new TensorScope();
    }

    [TearDown]
    public void TearDown()
    {
        _scope.Dispose();
        _b.Dispose();
    }

    private Tensor Z(params int[] shape) => Tensor.Zeros(shape, backend: _b);

    private static void Throws(TestDelegate call, params string[] fragments)
    {
        var ex = Assert.Throws<ArgumentException>(call);
        foreach (var f in fragments) Assert.That(ex!.Message, Does.Contain(f));
    }

    [Test]
    public void Conv2dChannelMismatch()
        => Throws(() => F.Conv2d(Z(2, 3, 8, 8), Z(4, 5, 3, 3)),
            "conv2d: input [2,3,8,8] has 3 channels but weight [4,5,3,3] expects 5");

    [Test]
    public void Conv2dOtherErrors()
    {
        Throws(() => F.Conv2d(Z(3, 8, 8), Z(4, 3, 3, 3)), "conv2d", "input must be 4-D", "[3,8,8]");
        Throws(() => F.Conv2d(Z(1, 3, 8, 8), Z(4, 3, 3, 3), Z(5)), "conv2d", "bias must have shape [4]", "[5]");
        Throws(() => F.Conv2d(Z(1, 3, 2, 2), Z(4, 3, 3, 3)), "conv2d", "larger than the padded input", "[1,3,2,2]");
        Throws(() => F.Conv2d(Z(1, 3, 8, 8), Z(4, 3, 3, 3), stride: 0), "conv2d", "stride");
    }

    [Test]
    public void ConvTranspose2dErrors()
    {
        Throws(() => F.ConvTranspose2d(Z(1, 3, 4, 4), Z(4, 3, 3, 3)), "conv_transpose2d", "[1,3,4,4] has 3 channels", "[4,3,3,3]");
        Throws(() => F.ConvTranspose2d(Z(1, 3, 4, 4), Z(3, 2, 3, 3), outputPadding: 1), "conv_transpose2d", "output_padding");
    }

    [Test]
    public void BatchNormErrors()
    {
        Throws(() => F.BatchNorm(Z(2, 3, 4, 4), Z(4), Z(3), null, null, training: true), "batch_norm", "running_mean must have shape [3]", "[4]");
        Throws(() => F.BatchNorm(Z(2, 3, 4, 4), null, null, null, null, training: false), "batch_norm", "eval mode needs running");
        Throws(() => F.BatchNorm(Z(1, 3, 1, 1), null, null, null, null, training: true), "batch_norm", "more than 1 value per channel", "[1,3,1,1]");
        using var bn = new BatchNorm2d(4, backend: _b);
        Throws(() => bn.Forward(Z(2, 3, 4, 4)), "BatchNorm2d", "[2,3,4,4]", "has 4");
    }

    [Test]
    public void ElementwiseAndLayoutErrors()
    {
        Throws(() => F.Add(Z(2, 3), Z(3, 2)), "add", "[2,3]", "[3,2]");
        Throws(() => F.Mul(Z(2, 3), Z(2, 4)), "mul", "[2,3]", "[2,4]");
        Throws(() => F.Cat([Z(1, 2, 4, 4), Z(1, 3, 5, 4)]), "cat", "[1,2,4,4]", "[1,3,5,4]");
        Throws(() => F.Narrow(Z(1, 4, 2, 2), 1, 3, 2), "narrow", "start 3, length 2", "[1,4,2,2]");
        Throws(() => F.Narrow(Z(1, 4, 2, 2), 4, 0, 1), "narrow", "dim 4", "[1,4,2,2]");
        Throws(() => F.Prelu(Z(1, 4, 2, 2), Z(3)), "prelu", "[3]", "[1,4,2,2]");
    }

    [Test]
    public void ResamplingAndLossErrors()
    {
        Throws(() => F.Interpolate(Z(1, 2, 4, 4), 8, 8, "bicubic"), "interpolate", "bicubic");
        Throws(() => F.Interpolate(Z(1, 2, 4, 4), 8, 8, "bilinear", alignCorners: true), "interpolate", "align_corners");
        Throws(() => F.Interpolate(Z(2, 4, 4), 8, 8), "interpolate", "[2,4,4]");
        Throws(() => F.MaxPool2d(Z(1, 2, 4, 4), 3), "max_pool2d", "kernel_size=2");
        Throws(() => F.MaxPool2d(Z(1, 2, 1, 4)), "max_pool2d", "[1,2,1,4]");
        Throws(() => F.MseLoss(Z(1, 2, 4, 4), Z(1, 2, 4, 3)), "mse_loss", "[1,2,4,4]", "[1,2,4,3]");
        Throws(() => F.SoftCrossEntropy(Z(1, 3, 2, 2), Z(1, 3, 2, 2), Z(1, 3, 2, 2)), "soft_cross_entropy", "[1,1,2,2]", "[1,3,2,2]");
        Throws(() => F.Softmax(Z(1, 3, 2, 2), 4), "softmax", "dim 4");
    }

    [Test]
    public void TensorCreationErrors()
    {
        Throws(() => Tensor.FromArray(new float[5], [2, 3], backend: _b), "Tensor.FromArray", "[2,3]", "5");
        Throws(() => Tensor.Zeros([2, 0], backend: _b), "[2,0]");
        Assert.Throws<InvalidOperationException>(() => Z(2).Item());
    }

    [Test]
    public void TensorsOfDifferentBackendsAreRejected()
    {
        using var other = new CpuBackend();
        Throws(() => F.Add(Z(2), Tensor.Zeros([2], backend: other)), "add", "different backends");
    }
}
