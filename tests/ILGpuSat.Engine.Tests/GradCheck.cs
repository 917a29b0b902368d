using ILGpuSat.Kernels;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

/// <summary>One input of a gradient check: its values, shape and whether its gradient is checked.</summary>
internal sealed record GradInput(string Name, float[] Data, int[] Shape, bool Check = true);

/// <summary>
/// Central finite differences against autograd. The checked scalar is L = sum(f(inputs) * r) with a
/// fixed random r, so every output element contributes with its own weight. Numeric values are
/// computed from the forward pass in float32 with the sum taken in double on the host.
/// </summary>
internal static class GradCheck
{
    public static void Run(string op, Backend backend, Func<Tensor[], Tensor> f, GradInput[] inputs,
        float eps = 5e-3f, float tol = 1e-2f, int seed = 1)
    {
        using var scope = new TensorScope();
        var leaves = inputs.Select(i => Tensor.FromArray(i.Data, i.Shape, requiresGrad: i.Check, backend: backend)).ToArray();
        var y = f(leaves);
        var rng = new Random(seed);
        var r = Enumerable.Range(0, (int)y.Length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var rTensor = Tensor.FromArray(r, y.Shape, backend: backend);
        F.Sum(F.Mul(y, rTensor)).Backward();

        for (int k = 0; k < inputs.Length; k++)
        {
            if (!inputs[k].Check) continue;
            var grad = leaves[k].Grad;
            Assert.That(grad, Is.Not.Null, $"{op}: no gradient reached input '{inputs[k].Name}'.");
            Assert.That(grad!.Shape, Is.EqualTo(inputs[k].Shape), $"{op}: gradient shape of '{inputs[k].Name}'.");
            var analytic = grad.ToArray();
            var data = inputs[k].Data;
            double worst = 0;
            string worstAt = "";
            for (int j = 0; j < data.Length; j++)
            {
                float saved = data[j];
                data[j] = saved + eps;
                double plus = Loss(backend, f, inputs, r);
                data[j] = saved - eps;
                double minus = Loss(backend, f, inputs, r);
                data[j] = saved;
                double numeric = (plus - minus) / (2.0 * eps);
                double err = Math.Abs(analytic[j] - numeric) / Math.Max(1.0, Math.Abs(numeric));
                if (err > worst)
                {
                    worst = err;
                    worstAt = $"element {j}: autograd {analytic[j]:G6}, numeric {numeric:G6}";
                }
            }
            Assert.That(worst, Is.LessThanOrEqualTo(tol), $"{op}: d/d{inputs[k].Name} differs from finite differences at {worstAt}.");
        }
    }

    private static double Loss(Backend backend, Func<Tensor[], Tensor> f, GradInput[] inputs, float[] r)
    {
        using var scope = new TensorScope();
        using var noGrad = Autograd.NoGrad();
        var y = f(inputs.Select(i => Tensor.FromArray(i.Data, i.Shape, backend: backend)).ToArray()).ToArray();
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (double)y[i] * r[i];
        return sum;
    }

    // ---- input generators -----------------------------------------------------------------------

    public static float[] Uniform(Random rng, int n, float low = -1f, float high = 1f)
        => Enumerable.Range(0, n).Select(_ => low + (high - low) * (float)rng.NextDouble()).ToArray();

    /// <summary>Values in [-1, -0.1] U [0.1, 1]: away from the kink of ReLU-like functions.</summary>
    public static float[] AwayFromZero(Random rng, int n)
        => Enumerable.Range(0, n).Select(_ => (rng.Next(2) == 0 ? -1f : 1f) * (0.1f + 0.9f * (float)rng.NextDouble())).ToArray();

    /// <summary>A shuffled ladder of distinct values 0.05 apart: no ties, no near ties (max-pool).</summary>
    public static float[] DistinctLadder(Random rng, int n)
    {
        var v = Enumerable.Range(0, n).Select(i => (i - n / 2) * 0.05f).ToArray();
        rng.Shuffle(v);
        return v;
    }

    /// <summary>Per-pixel probability distributions over dim 1 of [n, c, hw].</summary>
    public static float[] Distributions(Random rng, int n, int c, int hw)
    {
        var z = Uniform(rng, n * c * hw, 0.05f, 1f);
        for (int i = 0; i < n; i++)
            for (int p = 0; p < hw; p++)
            {
                float s = 0;
                for (int k = 0; k < c; k++) s += z[(i * c + k) * hw + p];
                for (int k = 0; k < c; k++) z[(i * c + k) * hw + p] /= s;
            }
        return z;
    }
}
