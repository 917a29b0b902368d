using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

public class ModuleTests
{
    private CpuBackend _b = null!;

    [SetUp]
    public void SetUp() => _b = new CpuBackend();

    [TearDown]
    public void TearDown() => _b.Dispose();

    [Test]
    public void StateDictUsesPyTorchNamesAndOrder()
    {
        using var model = new Sequential(
            new Modules.Conv2d(3, 4, 3, backend: _b, rng: new Random(0)),
            new BatchNorm2d(4, backend: _b),
            new PReLU(4, backend: _b),
            new ConvTranspose2d(4, 2, 4, stride: 2, padding: 1, bias: false, backend: _b, rng: new Random(0)),
            new ReLU());
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[]
        {
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "2.weight", "3.weight",
        }));
        Assert.That(model.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "3.weight" }));
        Assert.That(model.NamedBuffers().Select(p => p.Name), Is.EqualTo(new[] { "1.running_mean", "1.running_var", "1.num_batches_tracked" }));
        Assert.That(model.Parameters().All(p => p.RequiresGrad && p.IsLeaf), Is.True);
        Assert.That(model.StateDict()["3.weight"].Shape, Is.EqualTo(new[] { 4, 2, 4, 4 }), "transposed conv weight is IOHW");
        Assert.That(model.StateDict()["2.weight"].ToArray(), Is.All.EqualTo(0.25f));
    }

    [Test]
    public void ParametersOutliveScopesTheyWereMadeIn()
    {
        Modules.Conv2d conv;
        using (new TensorScope()) conv = new Modules.Conv2d(2, 2, 1, backend: _b, rng: new Random(0));
        Assert.That(conv.Weight.IsDisposed, Is.False);
        conv.Dispose();
        Assert.That(conv.Weight.IsDisposed, Is.True);
    }

    [Test]
    public void TrainAndEvalReachEveryDescendant()
    {
        using var stack = new ConvBnPreluStack(new LayerFactory(_b, 0), 1, 2, depth: 2);
        stack.Eval();
        Assert.That(stack.NamedModules().All(m => !m.Module.Training), Is.True);
        stack.Train();
        Assert.That(stack.NamedModules().All(m => m.Module.Training), Is.True);
        Assert.That(stack.NamedModules().Select(m => m.Name), Is.EqualTo(new[] { "", "0", "1", "2", "3", "4", "5" }));
    }

    [Test]
    public void BatchNormTracksStatisticsInTrainingAndUsesThemInEval()
    {
        using var bn = new BatchNorm2d(1, backend: _b);
        using var scope = new TensorScope();
        var x = Tensor.FromArray([1f, 2f, 3f, 6f], [2, 1, 1, 2], backend: _b);
        var y = bn.Forward(x);  // batch mean 3, biased var 3.5, unbiased 14/3
        Assert.That(y.ToArray().Sum(), Is.EqualTo(0f).Within(1e-5));
        Assert.That(bn.RunningMean!.Item(), Is.EqualTo(0.3f).Within(1e-6));
        Assert.That(bn.RunningVar!.Item(), Is.EqualTo(0.9f + 0.1f * 14f / 3f).Within(1e-5));
        Assert.That(bn.NumBatchesTracked!.Item(), Is.EqualTo(1f));

        bn.Eval();
        var e = bn.Forward(x).ToArray();
        float inv = 1f / MathF.Sqrt(bn.RunningVar.Item() + 1e-5f);
        Assert.That(e, Is.EqualTo(new[] { 1f, 2f, 3f, 6f }.Select(v => (v - 0.3f) * inv).ToArray()).Within(1e-5));
        Assert.That(bn.NumBatchesTracked.Item(), Is.EqualTo(1f), "eval does not count batches");
    }

    [Test]
    public void KaimingNormalHasHeStandardDeviation()
    {
        using var w = Tensor.Empty([64, 32, 3, 3], _b);
        Init.KaimingNormal(w, rng: new Random(5));
        var v = w.ToArray();
        double mean = v.Average(), std = Math.Sqrt(v.Select(a => (a - mean) * (a - mean)).Average());
        double expected = Math.Sqrt(2.0 / (32 * 9));
        Assert.That(mean, Is.EqualTo(0).Within(0.01 * expected * 10));
        Assert.That(std, Is.EqualTo(expected).Within(0.03 * expected));
    }

    [Test]
    public void FanConventionsFollowPyTorch()
    {
        using var conv = Tensor.Empty([8, 3, 5, 5], _b);
        using var transposed = Tensor.Empty([3, 8, 4, 4], _b);
        Assert.That(Init.Fans(conv), Is.EqualTo((3 * 25, 8 * 25)));
        Assert.That(Init.Fans(transposed), Is.EqualTo((8 * 16, 3 * 16)), "IOHW: PyTorch's fan_in is size(1) * k * k");
        Assert.That(Init.CalculateGain(Nonlinearity.LeakyRelu, 0.25f), Is.EqualTo(MathF.Sqrt(2f / 1.0625f)).Within(1e-6));
    }

    [Test]
    public void DefaultConvInitIsUniformWithinOneOverSqrtFanIn()
    {
        using var conv = new Modules.Conv2d(16, 32, 3, backend: _b, rng: new Random(1));
        float bound = 1f / MathF.Sqrt(16 * 9);
        var w = conv.Weight.ToArray();
        var b = conv.Bias!.ToArray();
        Assert.That(w.Max(MathF.Abs), Is.LessThanOrEqualTo(bound).And.GreaterThan(0.9f * bound));
        Assert.That(b.Max(MathF.Abs), Is.LessThanOrEqualTo(bound));
        Assert.That(b.Distinct().Count(), Is.EqualTo(32));
    }

    [Test]
    public void InitIsReproducibleFromTheFactorysSeedAndOnlyFromIt()
    {
        using var a = new ConvBnPreluStack(new LayerFactory(_b, 11), 2, 3, depth: 2);
        // Another factory drawing in between must not disturb a third one with the same seed.
        using var other = new ConvBnPreluStack(new LayerFactory(_b, 11), 2, 3, depth: 2);
        using var b = new ConvBnPreluStack(new LayerFactory(_b, 11), 2, 3, depth: 2);
        using var c = new ConvBnPreluStack(new LayerFactory(_b, 12), 2, 3, depth: 2);
        Assert.That(b.StateDict()["3.weight"].ToArray(), Is.EqualTo(a.StateDict()["3.weight"].ToArray()));
        Assert.That(c.StateDict()["3.weight"].ToArray(), Is.Not.EqualTo(a.StateDict()["3.weight"].ToArray()));
    }

    [Test]
    public void LayerFactoryBuildsOnItsBackendAndDrawsInOrder()
    {
        var nn = new LayerFactory(_b, 5);
        using var conv = nn.Conv2d(2, 3, 3, padding: 1);
        using var deconv = nn.ConvTranspose2d(3, 2, 4, stride: 2, padding: 1, bias: false);
        using var bn = nn.BatchNorm2d(3);
        using var prelu = nn.PReLU(3);
        Assert.That(new Module[] { conv, deconv, bn, prelu }.SelectMany(m => m.Parameters()).All(p => ReferenceEquals(p.Backend, _b)), Is.True);
        using var again = new LayerFactory(_b, 5).Conv2d(2, 3, 3, padding: 1);
        Assert.That(again.Weight.ToArray(), Is.EqualTo(conv.Weight.ToArray()));
        Assert.Throws<ArgumentNullException>(() => _ = new LayerFactory(null!, 1));
    }

    [Test]
    public void ConvBnPreluStackShapes()
    {
        using var stack = new ConvBnPreluStack(new LayerFactory(_b, 0), 3, 5, depth: 2);
        using var scope = new TensorScope();
        var y = stack.Forward(Tensor.Zeros([2, 3, 6, 7], backend: _b));
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 5, 6, 7 }));
        Assert.That(stack.Count, Is.EqualTo(6));
        Assert.Throws<ArgumentException>(() => _ = new ConvBnPreluStack(new LayerFactory(_b, 0), 3, 5, depth: 1, kernelSize: 4));
    }

    /// <summary>A network with two outputs: its state is a Module's, its call signature its own.</summary>
    private sealed class TwoHeads : Module
    {
        public sealed record Output(Tensor Sr, Tensor Logits);

        private readonly Sequential _stem;
        private readonly Modules.Conv2d _sr, _logits;

        public TwoHeads(CpuBackend b)
        {
            _stem = RegisterModule("stem", new Sequential(new Modules.Conv2d(1, 4, 3, padding: 1, backend: b, rng: new Random(0)), new ReLU()));
            _sr = RegisterModule("sr", new Modules.Conv2d(4, 1, 3, padding: 1, backend: b, rng: new Random(0)));
            _logits = RegisterModule("logits", new Modules.Conv2d(4, 5, 1, backend: b, rng: new Random(0)));
        }

        public Output Forward(Tensor x)
        {
            var f = _stem.Forward(x);
            return new Output(_sr.Forward(f), _logits.Forward(f));
        }
    }

    [Test]
    public void AMultiOutputNetworkIsAModuleWithItsOwnForward()
    {
        using var net = new TwoHeads(_b);
        using var scope = new TensorScope();
        var (sr, logits) = net.Forward(Tensor.Zeros([2, 1, 6, 6], backend: _b));
        Assert.That((sr.Shape, logits.Shape), Is.EqualTo((new[] { 2, 1, 6, 6 }, new[] { 2, 5, 6, 6 })));
        Assert.That(net.StateDict().Keys, Is.EqualTo(new[] { "stem.0.weight", "stem.0.bias", "sr.weight", "sr.bias", "logits.weight", "logits.bias" }));
    }
    [Test]
    public void InstanceNormWithGivenStatisticsNormalisesByThemAndTheModuleCapturesItsInputs()
    {
        var rng = new Random(2);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 1)).ToArray();
        using var norm = new InstanceNorm2d(3, _b, eps: 1e-3f, affine: true);
        norm.Weight!.CopyFrom(new[] { 0.5f, 2f, -1f });
        norm.Bias!.CopyFrom(new[] { 0.1f, -0.2f, 0.3f });
        using var x = Tensor.FromArray(Values(2 * 3 * 5 * 4), [2, 3, 5, 4], _b);
        using var z = Tensor.FromArray(Values(2 * 3 * 7 * 6), [2, 3, 7, 6], _b);
        var own = norm.Forward(x).ToArray();

        norm.CaptureStatistics = true;
        norm.Forward(z).Dispose();
        norm.CaptureStatistics = false;
        var stats = norm.Captured!;
        var zs = z.ToArray();
        for (int i = 0; i < 6; i++)
        {
            var plane = zs.Skip(i * 42).Take(42).Select(v => (double)v).ToArray();
            Assert.That(stats.Mean[i], Is.EqualTo(plane.Average()).Within(1e-6));
            Assert.That(stats.Variance[i], Is.EqualTo(plane.Select(v => (v - plane.Average()) * (v - plane.Average())).Average()).Within(1e-5), "biased variance");
        }

        norm.Statistics = stats;
        var given = norm.Forward(x).ToArray();
        var xs = x.ToArray();
        float[] w = [0.5f, 2f, -1f], b = [0.1f, -0.2f, 0.3f];
        for (int i = 0; i < xs.Length; i++)
        {
            int nc = i / 20, c = nc % 3;
            double expected = (xs[i] - stats.Mean[nc]) / Math.Sqrt(stats.Variance[nc] + 1e-3) * w[c] + b[c];
            Assert.That(given[i], Is.EqualTo(expected).Within(1e-5), $"element {i}: z's statistics, x's values");
        }
        norm.Statistics = F.InstanceStatisticsOf(x);
        Assert.That(norm.Forward(x).ToArray(), Is.EqualTo(own).Within(1e-5), "x's own statistics give PyTorch's instance norm");
        norm.Statistics = new InstanceStatistics(new float[5], new float[5]);
        Assert.That(() => norm.Forward(x), Throws.ArgumentException.With.Message.Contains("N*C = 6"));
    }
}
