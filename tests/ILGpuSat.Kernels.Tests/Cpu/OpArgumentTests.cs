using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>Bad buffer lengths and arguments are rejected with a message that names the op.</summary>
public class OpArgumentTests : CpuOpsTestBase
{
    private static readonly ChannelGeometry G = new(2, 3, 4);

    private static IEnumerable<TestCaseData> ShortBufferCases()
    {
        yield return Case("add", "'b'", t => t.B.Add(t.Buf(24), t.Buf(23), t.Buf(24)));
        yield return Case("axpy", "'x'", t => t.B.Axpy(1f, t.Buf(3), t.Buf(4)));
        yield return Case("relu_bwd", "'dy'", t => t.B.ReluBackward(t.Buf(8), t.Buf(7), t.Buf(8)));
        yield return Case("prelu", "weight", t => t.B.PRelu(t.Buf(24), t.Buf(2), G, t.Buf(24)));
        yield return Case("add_channel_bias", "'bias'", t => t.B.AddChannelBias(t.Buf(24), t.Buf(2), G, t.Buf(24)));
        yield return Case("channel_sum", "'x'", t => t.B.ChannelSum(t.Buf(23), G, t.Buf(3)));
        yield return Case("batch_norm_train", "'runningVar'", t => t.B.BatchNormTrain(t.Buf(24), t.Buf(3), t.Buf(3), G, 1e-5f,
            t.Buf(24), t.Buf(3), t.Buf(3), t.Buf(3), t.Buf(2), 0.1f));
        yield return Case("batch_norm_eval_bwd", "'dgamma'", t => t.B.BatchNormEvalBackward(t.Buf(24), t.Buf(24), t.Buf(3), t.Buf(3), t.Buf(3), G, 1e-5f,
            t.Buf(24), t.Buf(1), t.Buf(3)));
        yield return Case("copy_channels", "'dst'", t => t.B.CopyChannels(t.Buf(24), 3, 0, t.Buf(10), 3, 0, 3, 2, 4));
        yield return Case("copy_channels", "run past", t => t.B.CopyChannels(t.Buf(24), 3, 2, t.Buf(24), 3, 0, 2, 2, 4));
        yield return Case("upsample_bilinear", "'output'", t => t.B.UpsampleBilinear(t.Buf(16), 1, 4, 4, 8, 8, t.Buf(63)));
        yield return Case("upsample_nearest_bwd", "'input'", t => t.B.UpsampleNearestBackward(t.Buf(64), 1, 4, 4, 8, 8, t.Buf(15)));
        yield return Case("max_pool2x2", "at least 2x2", t => t.B.MaxPool2x2(t.Buf(4), 4, 1, 1, t.Buf(4)));
        yield return Case("max_pool2x2_bwd", "'dx'", t => t.B.MaxPool2x2Backward(t.Buf(16), t.Buf(4), 1, 4, 4, t.Buf(15)));
        yield return Case("sum", "'result'", t => t.B.Sum(t.Buf(4), t.Buf(0)));
        yield return Case("softmax", "'y'", t => t.B.Softmax(t.Buf(24), G, t.Buf(20)));
        yield return Case("softmax_cross_entropy", "'weights'", t => t.B.SoftmaxCrossEntropy(t.Buf(24), t.Buf(24), t.Buf(7), G, t.Buf(1)));
        yield return Case("softmax_cross_entropy_bwd", "'dloss'", t => t.B.SoftmaxCrossEntropyBackward(t.Buf(24), t.Buf(24), null, G, t.Buf(0), t.Buf(24)));
        yield return Case("mse_loss", "'target'", t => t.B.MseLoss(t.Buf(5), t.Buf(4), t.Buf(1)));
        yield return Case("sgd_step", "momentum buffer", t => t.B.SgdStep(t.Buf(5), t.Buf(5), null, 0.1f, 0.9f, 0f, 0f, false, true));
        yield return Case("adam_step", "'v'", t => t.B.AdamStep(t.Buf(5), t.Buf(5), t.Buf(5), t.Buf(4), 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false, 1));
        yield return Case("adam_step", "step counts from 1", t => t.B.AdamStep(t.Buf(5), t.Buf(5), t.Buf(5), t.Buf(5), 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false, 0));
    }

    private static TestCaseData Case(string op, string detail, Action<OpArgumentTests> call)
        => new TestCaseData(op, detail, call).SetName($"{op}: {detail}");

    private DeviceBuffer Buf(int n) => Buf(new float[n]);

    [TestCaseSource(nameof(ShortBufferCases))]
    public void BadArgumentsThrowNamingTheOp(string op, string detail, Action<OpArgumentTests> call)
    {
        var ex = Assert.Throws<ArgumentException>(() => call(this));
        Assert.That(ex!.Message, Does.StartWith(op + ":").And.Contain(detail));
    }

    [Test]
    public void BufferOfAnotherBackendIsRejected()
    {
        using var other = new ILGpuSat.Kernels.Cpu.CpuBackend();
        using var foreign = other.Allocate(4);
        var ex = Assert.Throws<ArgumentException>(() => B.Relu(foreign, Buf(4)));
        Assert.That(ex!.Message, Does.Contain("not this CPU backend"));
    }
}
