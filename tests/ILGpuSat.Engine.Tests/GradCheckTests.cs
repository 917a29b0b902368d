using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;
using static ILGpuSat.Engine.Tests.GradCheck;

namespace ILGpuSat.Engine.Tests;

/// <summary>Every op's backward rule against central finite differences, for every input and parameter.</summary>
public class GradCheckTests
{
    private CpuBackend _backend = null!;
    private Random _rng = null!;

    [SetUp]
    public void SetUp()
    {
        _backend = new CpuBackend();
        _rng = new Random(1234);
    }

    [TearDown]
    public void TearDown() => _backend.Dispose();

    private void Check(string op, Func<Tensor[], Tensor> f, params GradInput[] inputs) => Run(op, _backend, f, inputs);

    private GradInput In(string name, params int[] shape) => new(name, Uniform(_rng, shape.Aggregate(1, (a, b) => a * b)), shape);

    [TestCase(1, 0, 1, true)]
    [TestCase(2, 1, 1, true)]
    [TestCase(1, 2, 2, false)]
    public void Conv2d(int stride, int padding, int dilation, bool bias)
    {
        var inputs = new List<GradInput> { In("x", 2, 3, 6, 5), In("weight", 4, 3, 3, 3) };
        if (bias) inputs.Add(In("bias", 4));
        Check("conv2d", t => F.Conv2d(t[0], t[1], bias ? t[2] : null, stride, padding, dilation), inputs.ToArray());
    }

    [Test]
    public void Conv2dOneByOneKernel() => Check("conv2d 1x1", t => F.Conv2d(t[0], t[1], t[2]), In("x", 1, 4, 3, 3), In("weight", 2, 4, 1, 1), In("bias", 2));

    [TestCase(1, 0, 0, 1)]
    [TestCase(2, 1, 1, 1)]
    [TestCase(2, 0, 0, 2)]
    public void ConvTranspose2d(int stride, int padding, int outputPadding, int dilation)
        => Check("conv_transpose2d", t => F.ConvTranspose2d(t[0], t[1], t[2], stride, padding, outputPadding, dilation),
            In("x", 2, 3, 3, 4), In("weight", 3, 2, 3, 3), In("bias", 2));

    [Test]
    public void ConvTranspose2dStride2Kernel4NoBias()
        => Check("conv_transpose2d k4", t => F.ConvTranspose2d(t[0], t[1], null, stride: 2, padding: 1),
            In("x", 1, 2, 3, 3), In("weight", 2, 3, 4, 4));

    [Test]
    public void BatchNormTraining()
        => Check("batch_norm train", t => F.BatchNorm(t[0], null, null, t[1], t[2], training: true),
            In("x", 3, 2, 3, 2), new GradInput("weight", [0.8f, -1.3f], [2]), In("bias", 2));

    [Test]
    public void InstanceNormAffine()
        => Check("instance_norm affine", t => F.InstanceNorm(t[0], t[1], t[2]),
            In("x", 3, 2, 3, 2), new GradInput("weight", [0.8f, -1.3f], [2]), In("bias", 2));

    [Test]
    public void InstanceNormWithoutAffineOnFiveDimensions()
        => Check("instance_norm affine=False", t => F.InstanceNorm(t[0]), In("x", 2, 3, 2, 2, 2));

    [Test]
    public void Exp() => Check("exp", t => F.Exp(t[0]), In("x", 2, 3, 2, 2));

    [Test]
    public void Log() => Check("log", t => F.Log(t[0]), new GradInput("x", Uniform(_rng, 12).Select(v => 0.3f + Math.Abs(v)).ToArray(), [2, 6]));

    [Test]
    public void Sigmoid() => Check("sigmoid", t => F.Sigmoid(t[0]), new GradInput("x", Uniform(_rng, 12).Select(v => 4 * v).ToArray(), [3, 4]));

    [Test]
    public void Softplus() => Check("softplus", t => F.Softplus(t[0]), new GradInput("x", Uniform(_rng, 12).Select(v => 5 * v).ToArray(), [3, 4]));

    [TestCase(true)]
    [TestCase(false)]
    public void Linear(bool bias)
        => Check("linear", t => F.Linear(t[0], t[1], bias ? t[2] : null), bias ? [In("x", 3, 5), In("weight", 4, 5), In("bias", 4)] : [In("x", 3, 5), In("weight", 4, 5)]);

    [Test]
    public void BinaryCrossEntropyWithLogits()
    {
        var target = Tensor.FromArray([1, 0, 0, 1, 1, 0], [3, 2], _backend);
        Check("binary_cross_entropy_with_logits", t => F.BinaryCrossEntropyWithLogits(t[0], target), new GradInput("logits", Uniform(_rng, 6).Select(v => 3 * v).ToArray(), [3, 2]));
    }

    [Test]
    public void GaussianKl() => Check("gaussian_kl", t => F.GaussianKl(t[0], t[1], batch: 2), In("mu", 2, 3), In("logvar", 2, 3));

    [Test]
    public void LogSumExp() => Check("logsumexp", t => F.LogSumExp(t[0]), In("x", 2, 4, 1, 3));

    [Test]
    public void WeightedMseLoss()
    {
        var weights = Tensor.FromArray(Uniform(_rng, 12).Select(v => 0.2f + Math.Abs(v)).ToArray(), [1, 2, 2, 3], _backend);
        Check("weighted_mse_loss", t => F.WeightedMseLoss(t[0], t[1], weights), In("input", 1, 2, 2, 3), In("target", 1, 2, 2, 3));
    }

    [Test]
    public void GradientLoss() => Check("gradient_loss", t => F.GradientLoss(t[0], t[1]), In("input", 2, 2, 3, 4), In("target", 2, 2, 3, 4));

    [Test]
    public void L2PenaltyOnChosenWeights() => Check("l2_penalty", t => F.L2Penalty([t[0], t[1]], 0.3f), In("w1", 2, 3), In("w2", 4));

    [Test]
    public void GaussianMixtureNll()
        => Check("gaussian_mixture_nll", t => F.GaussianMixtureNll(t[0], t[1], t[2], t[3]), In("z", 2, 3), In("weight_logits", 2, 4), In("means", 2, 4, 3), In("log_std", 2, 4, 3));

    [TestCase(0, true)]
    [TestCase(1, false)]
    public void Conv3dOverFrames(int padding, bool bias)
    {
        var inputs = new List<GradInput> { In("x", 2, 4, 2, 3, 4), In("weight", 3, 2, 3, 3, 3) };
        if (bias) inputs.Add(In("bias", 3));
        Check("conv3d", t => F.Conv3d(t[0], t[1], bias ? t[2] : null, padding), inputs.ToArray());
    }

    [Test]
    public void DynamicConv2dPerSampleFilters()
        => Check("dynamic_conv2d", t => F.DynamicConv2d(t[0], t[1]), In("x", 2, 3, 4, 5), In("filters", 2, 1, 3, 3));

    [Test]
    public void SpatialMeanPerSampleAndChannel() => Check("spatial_mean", t => F.SpatialMean(t[0]), In("x", 2, 3, 2, 3));

    [TestCase(1)]
    [TestCase(2)]
    public void ReflectPad2d(int padding) => Check("reflect_pad2d", t => F.ReflectPad2d(t[0], padding), In("x", 1, 2, 3, 4));

    [Test]
    public void ReshapeIntoAndOutOfAFramesAxis()
        => Check("reshape", t => F.Mul(F.Reshape(F.Reshape(t[0], 2, 3, 2, 2, 2), -1, 2, 2, 2), t[1]), In("x", 6, 2, 2, 2), In("w", 6, 2, 2, 2));

    [Test]
    public void BatchNormTrainingWithoutAffine()
        => Check("batch_norm train affine=False", t => F.BatchNorm(t[0], null, null, null, null, training: true), In("x", 2, 3, 2, 2));

    [Test]
    public void BatchNormEval()
    {
        var mean = new GradInput("running_mean", [0.1f, -0.2f, 0.3f], [3], Check: false);
        var variance = new GradInput("running_var", [0.5f, 1.5f, 0.9f], [3], Check: false);
        Check("batch_norm eval", t => F.BatchNorm(t[0], t[3], t[4], t[1], t[2], training: false),
            In("x", 2, 3, 2, 2), In("weight", 3), In("bias", 3), mean, variance);
    }

    [Test]
    public void PreluPerChannel()
        => Check("prelu per channel", t => F.Prelu(t[0], t[1]),
            new GradInput("x", AwayFromZero(_rng, 2 * 3 * 4), [2, 3, 2, 2]), new GradInput("weight", [0.25f, -0.4f, 0.7f], [3]));

    [Test]
    public void PreluShared()
        => Check("prelu shared", t => F.Prelu(t[0], t[1]),
            new GradInput("x", AwayFromZero(_rng, 2 * 3 * 4), [2, 3, 2, 2]), new GradInput("weight", [0.3f], [1]));

    [Test]
    public void Relu() => Check("relu", t => F.Relu(t[0]), new GradInput("x", AwayFromZero(_rng, 24), [2, 3, 2, 2]));

    [Test]
    public void LeakyRelu() => Check("leaky_relu", t => F.LeakyRelu(t[0], 0.2f), new GradInput("x", AwayFromZero(_rng, 24), [2, 3, 2, 2]));

    [Test]
    public void Add() => Check("add", t => F.Add(t[0], t[1]), In("a", 2, 3, 2), In("b", 2, 3, 2));

    [Test]
    public void Sub() => Check("sub", t => F.Sub(t[0], t[1]), In("a", 2, 3, 2), In("b", 2, 3, 2));

    [Test]
    public void Mul() => Check("mul", t => F.Mul(t[0], t[1]), In("a", 2, 3, 2), In("b", 2, 3, 2));

    [Test]
    public void Scale() => Check("mul scalar", t => F.Mul(t[0], -1.7f), In("x", 2, 3, 2));

    [TestCase(1)]
    [TestCase(0)]
    [TestCase(-1)]
    public void Cat(int dim)
    {
        int[] a = [2, 2, 3, 2], b = [2, 2, 3, 2];
        int d = dim < 0 ? dim + 4 : dim;
        b[d] = 3;
        Check($"cat dim {dim}", t => F.Cat([t[0], t[1]], dim), In("a", a), In("b", b));
    }

    [TestCase(1, 1, 2)]
    [TestCase(1, 0, 1)]
    [TestCase(3, 1, 2)]
    public void Narrow(int dim, int start, int length) => Check("narrow", t => F.Narrow(t[0], dim, start, length), In("x", 2, 4, 3, 3));

    [TestCase("bilinear", 7, 5)]
    [TestCase("bilinear", 2, 3)]
    [TestCase("nearest", 8, 6)]
    [TestCase("nearest", 3, 2)]
    public void Interpolate(string mode, int outH, int outW) => Check($"interpolate {mode}", t => F.Interpolate(t[0], outH, outW, mode), In("x", 2, 2, 4, 3));

    [Test]
    public void MaxPool2d() => Check("max_pool2d", t => F.MaxPool2d(t[0]), new GradInput("x", DistinctLadder(_rng, 2 * 2 * 5 * 4), [2, 2, 5, 4]));

    [Test]
    public void Sum() => Check("sum", t => F.Sum(t[0]), In("x", 2, 3, 2));

    [Test]
    public void Mean() => Check("mean", t => F.Mean(t[0]), In("x", 2, 3, 2));

    [TestCase(1)]
    [TestCase(-1)]
    public void Softmax(int dim) => Check("softmax", t => F.Softmax(t[0], dim), In("x", 2, 4, 2, 3));

    [TestCase(1)]
    [TestCase(0)]
    public void LogSoftmax(int dim) => Check("log_softmax", t => F.LogSoftmax(t[0], dim), In("x", 2, 4, 2, 3));

    [Test]
    public void MseLoss() => Check("mse_loss", t => F.MseLoss(t[0], t[1]), In("input", 2, 3, 2, 2), In("target", 2, 3, 2, 2));

    [Test]
    public void SoftCrossEntropy()
        => Check("soft_cross_entropy", t => F.SoftCrossEntropy(t[0], t[1]),
            In("logits", 2, 5, 2, 3), new GradInput("target", Distributions(_rng, 2, 5, 6), [2, 5, 2, 3], Check: false));

    [Test]
    public void SoftCrossEntropyWeighted()
        => Check("soft_cross_entropy weighted", t => F.SoftCrossEntropy(t[0], t[1], t[2]),
            In("logits", 2, 5, 2, 3),
            new GradInput("target", Distributions(_rng, 2, 5, 6), [2, 5, 2, 3], Check: false),
            new GradInput("weights", Uniform(_rng, 12, 0.2f, 2f), [2, 1, 2, 3], Check: false));

    [Test]
    public void Composition()
        => Check("conv -> bn -> upsample -> cat -> log_softmax", t =>
            {
                var h = F.BatchNorm(F.Conv2d(t[0], t[1], padding: 1), null, null, t[2], t[3], training: true);
                var up = F.Interpolate(h, 4, 4, "bilinear");
                return F.LogSoftmax(F.Cat([up, F.Mul(up, up)]));
            },
            In("x", 2, 2, 2, 2), In("weight", 3, 2, 3, 3), In("gamma", 3), In("beta", 3));

    [Test]
    public void TheCheckCatchesAWrongBackwardRule()
    {
        // y = 2x recorded with the rule dx = 2.1 dy: a 5% error must not pass.
        static Tensor WrongDouble(Tensor x)
        {
            Tensor y;
            using (Autograd.NoGrad()) y = F.Mul(x, 2f);
            return Autograd.Record("wrong_double", y, [x], dy => [F.Mul(dy, 2.1f)]);
        }
        Assert.Throws<AssertionException>(() => Check("wrong_double", t => WrongDouble(t[0]), In("x", 2, 3)));
    }
}
