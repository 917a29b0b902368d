using System.Runtime.Intrinsics;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>The vector exp behind softmax and cross-entropy: error in ulps against Math.Exp, and the special values.</summary>
public class VectorExpTests
{
    private static double MaxUlpError(Func<Vector512<float>, Vector512<float>> exp, float lo, float hi, int seed)
    {
        var r = new Random(seed);
        var x = new float[16];
        double worst = 0;
        for (int t = 0; t < 8000; t++)
        {
            for (int l = 0; l < 16; l++) x[l] = lo + (hi - lo) * (float)r.NextDouble();
            var e = exp(Vector512.Create((ReadOnlySpan<float>)x));
            for (int l = 0; l < 16; l++)
            {
                double exact = Math.Exp(x[l]);
                float rounded = (float)exact;
                double ulp = MathF.BitIncrement(rounded) - rounded;
                worst = Math.Max(worst, Math.Abs(e[l] - exact) / ulp);
            }
        }
        return worst;
    }

    [TestCase(-1f, 1f)]
    [TestCase(-20f, 0f)]
    [TestCase(-87f, 88.5f)]
    public void ExpIsWithinHalfAnUlpOrSo(float lo, float hi)
    {
        Assert.That(MaxUlpError(SimdMath.Exp, lo, hi, 1), Is.LessThan(0.55), "SimdMath.Exp");
        Assert.That(MaxUlpError(SimdMath.ExpViaDouble, lo, hi, 2), Is.LessThan(0.55), "SimdMath.ExpViaDouble");
    }

    [Test]
    public void ExpHandlesSpecialValues()
    {
        float[] x = { 0f, -0f, 1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 89f, -104f, -103f, 88.72f, -87.5f, 1e-30f, -1e-30f, 5f, -5f, 2f };
        foreach (var exp in new Func<Vector512<float>, Vector512<float>>[] { SimdMath.Exp, SimdMath.ExpViaDouble })
        {
            var e = exp(Vector512.Create((ReadOnlySpan<float>)x));
            Assert.That(e[0], Is.EqualTo(1f), "e^0 is exactly 1");
            Assert.That(e[1], Is.EqualTo(1f), "e^-0 is exactly 1");
            Assert.That(e[2], Is.EqualTo(MathF.E));
            Assert.That(float.IsNaN(e[3]), "NaN stays NaN");
            Assert.That(e[4], Is.EqualTo(float.PositiveInfinity));
            Assert.That(e[5], Is.EqualTo(0f));
            Assert.That(e[6], Is.EqualTo(float.PositiveInfinity), "overflow");
            Assert.That(e[7], Is.EqualTo(0f), "underflow");
            Assert.That(e[8], Is.EqualTo((float)Math.Exp(-103)).Within(float.Epsilon), "denormal result");
            Assert.That(e[10], Is.EqualTo((float)Math.Exp(-87.5)).Within(float.Epsilon), "near-denormal result");
            Assert.That(e[11], Is.EqualTo(1f));
            Assert.That(e[12], Is.EqualTo(1f));
        }
    }
}
