using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>
/// The CPU fused convolution (bias, activation and post-affine in the GEMM's store path) against the
/// unfused composition: the plain convolution followed by the activation and affine op by op. Both CPU
/// paths are covered: stride 1 (direct GEMM, epilogue per output row segment) and stride 2 (packed
/// implicit GEMM, epilogue per pixel block), with channel counts that leave partial micro-tiles.
/// </summary>
public class FusedConvolutionTests : CpuOpsTestBase
{
    private static readonly Conv2dGeometry[] Shapes =
    {
        new(2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1),         // direct path, partial tiles
        new(1, 6, 9, 10, 20, 3, 3, 2, 2, 1, 1),        // strided path
        new(1, 8, 6, 7, 3, 3, 3, 1, 1, 2, 2, 2, 2),    // dilated (Zhang's conv5/6)
        new(2, 4, 20, 26, 9, 3, 3, 1, 1, 1, 1),        // several column blocks per image
    };

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var c in FusedConvCases.All())
            for (int s = 0; s < Shapes.Length; s++)
                yield return new TestCaseData(c.Act, c.Slope, c.PerChannelPrelu, c.PostAffine, s).SetArgDisplayNames(c.Name, Shapes[s].ToString());
    }

    [TestCaseSource(nameof(Cases))]
    public void FusedEqualsConvThenActivation(ConvActivation act, float slope, bool perChannelPrelu, bool postAffine, int shape)
    {
        var g = Shapes[shape];
        var rng = new Random(11 + shape);
        float[] x = Rand((int)g.InputLength, 1 + shape), w = Rand((int)g.WeightLength, 2 + shape), bias = Rand(g.OutC, 3 + shape);
        float[]? prelu = act == ConvActivation.PRelu ? Rand(perChannelPrelu ? g.OutC : 1, 4 + shape, 0f, 0.5f) : null;
        var (scale, shift) = FusedConvCases.PostAffine(rng, g.OutC);
        using var bx = Buf(x);
        using var bw = Buf(w);
        using var bb = Buf(bias);
        using var bp = prelu is null ? null : Buf(prelu);
        using var bs = Buf(scale);
        using var bt = Buf(shift);
        using var plain = Empty(g.OutputLength);
        using var fused = Empty(g.OutputLength);

        B.Conv2d(bx, bw, bb, g, plain);
        var expected = Get(plain);
        FusedConvCases.Apply(expected, g.OutC, g.OutH * g.OutW, act, slope, prelu, postAffine ? scale : null, postAffine ? shift : null);
        B.Conv2dFused(bx, bw, g, new ConvEpilogue(bb, act, slope, bp, postAffine ? bs : null, postAffine ? bt : null), fused);

        AssertClose(Get(fused), expected.Select(v => (double)v).ToArray(), $"fused {act} on {g}", 1e-6);
    }

    [Test]
    public void BadEpiloguesAreRejectedWithTheOpName()
    {
        var g = new Conv2dGeometry(1, 2, 5, 5, 3, 3, 3);
        using var x = Empty(g.InputLength);
        using var w = Empty(g.WeightLength);
        using var y = Empty(g.OutputLength);
        using var two = Empty(2);
        using var three = Empty(3);
        var ex = Assert.Throws<ArgumentException>(() => B.Conv2dFused(x, w, g, new ConvEpilogue(Activation: ConvActivation.PRelu, PreluWeight: two), y));
        Assert.That(ex!.Message, Does.Contain("cpu conv2d fused").And.Contain("PReLU weight holds 2"));
        ex = Assert.Throws<ArgumentException>(() => B.Conv2dFused(x, w, g, new ConvEpilogue(Activation: ConvActivation.PRelu), y));
        Assert.That(ex!.Message, Does.Contain("needs a PReLU weight"));
        ex = Assert.Throws<ArgumentException>(() => B.Conv2dFused(x, w, g, new ConvEpilogue(two), y));
        Assert.That(ex!.Message, Does.Contain("bias holds 2"));
        ex = Assert.Throws<ArgumentException>(() => B.Conv2dFused(x, w, g, new ConvEpilogue(Activation: ConvActivation.LeakyRelu, PostScale: three), y));
        Assert.That(ex!.Message, Does.Contain("post-activation"));
    }

    [Test]
    public void AvailableBytesIsWithinTheGcLimitPlusThePool()
    {
        var buffer = B.Allocate(1 << 20);
        buffer.Dispose(); // back to the pool: reusable by the next buffer, so counted as available
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Assert.That(B.AvailableBytes, Is.GreaterThan(0).And.LessThanOrEqualTo(limit + (4L << 20) * 2));
    }
}
