using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>The vector exp behind softmax and cross-entropy: error in ulps against Math.Exp, and the special values.</summary>
public class VectorExpTests
{
    /// <summary>The AVX2 kernel on both halves of a 16-lane vector (it runs wherever AVX2 and FMA do, so on AVX-512 machines too).</summary>
    private static Vector512<float> ExpAvx2(Vector512<float> x)
        => Vector512.Create(SimdMath.ExpTable8(x.GetLower()), SimdMath.ExpTable8(x.GetUpper()));

    /// <summary>
    /// Each exp with its bound in ulps. The AVX2 table has 8 entries, so |r| reaches ln2/16 and the
    /// roundings inside the polynomial add up to ~0.08 ulp to the final rounding's 0.5 (32 entries: ~0.02).
    /// </summary>
    private static IEnumerable<(string Name, Func<Vector512<float>, Vector512<float>> Exp, double MaxUlp)> Variants()
    {
        yield return ("SimdMath.Exp", SimdMath.Exp, Avx512F.IsSupported ? 0.55 : 0.6);
        yield return ("SimdMath.ExpViaDouble", SimdMath.ExpViaDouble, 0.55);
        if (SimdMath.HasAvx2Fma) yield return ("SimdMath.ExpTable8 (AVX2)", ExpAvx2, 0.6);
    }

    private static (double Ulps, double Relative) MaxError(Func<Vector512<float>, Vector512<float>> exp, float lo, float hi, int seed)
    {
        var r = new Random(seed);
        var x = new float[16];
        double worst = 0, worstRel = 0;
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
                worstRel = Math.Max(worstRel, Math.Abs(e[l] - exact) / exact);
            }
        }
        return (worst, worstRel);
    }

    [TestCase(-1f, 1f)]
    [TestCase(-20f, 0f)]
    [TestCase(-87f, 88.5f)]
    public void ExpIsWithinHalfAnUlpOrSo(float lo, float hi)
    {
        int seed = 1;
        foreach (var (name, exp, bound) in Variants())
        {
            var (ulps, rel) = MaxError(exp, lo, hi, seed++);
            TestContext.Out.WriteLine($"{name}: max {ulps:F3} ulp, relative {rel:E2} over [{lo}, {hi}]");
            Assert.That(ulps, Is.LessThan(bound), name);
        }
    }

    [Test]
    public void ExpHandlesSpecialValues()
    {
        float[] x = { 0f, -0f, 1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 89f, -104f, -103f, 88.72f, -87.5f, 1e-30f, -1e-30f, 5f, -5f, -float.Epsilon };
        foreach (var (_, exp, _) in Variants())
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
            Assert.That(e[13], Is.EqualTo((float)Math.Exp(5)));
            Assert.That(e[14], Is.EqualTo((float)Math.Exp(-5)));
            Assert.That(e[15], Is.EqualTo(1f), "denormal input");
        }
    }
}
