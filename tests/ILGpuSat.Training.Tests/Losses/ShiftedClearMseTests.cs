using ILGpuSat.Engine;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Training.Losses;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Losses;

public class ShiftedClearMseTests
{
    private const int N = 2, H = 14, W = 13;

    private static (float[] Sr, float[] Hr, bool[] Clear) Scene(int seed)
    {
        var rng = new Random(seed);
        var hr = Enumerable.Range(0, N * H * W).Select(_ => (float)rng.NextDouble()).ToArray();
        var sr = new float[hr.Length];
        for (int s = 0; s < N; s++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    // Sample 0 lines up at offset (4, 2) (SR(y, x) ~ HR(y - 1, x + 1)) with a bias; sample 1 at (3, 3).
                    int sy = s == 0 ? Math.Clamp(y - 1, 0, H - 1) : y, sx = s == 0 ? Math.Clamp(x + 1, 0, W - 1) : x;
                    sr[(s * H + y) * W + x] = hr[(s * H + sy) * W + sx] + (s == 0 ? 0.1f : -0.05f) + 0.05f * (float)(rng.NextDouble() - 0.5);
                }
        var clear = Enumerable.Range(0, hr.Length).Select(i => rng.NextDouble() > 0.2).ToArray();
        return (sr, hr, clear);
    }

    private static double HostLoss(float[] sr, float[] hr, bool[] clear)
    {
        double sum = 0;
        for (int s = 0; s < N; s++)
        {
            var r = ClearPsnr.Compute(sr.AsSpan(s * H * W, H * W).ToArray(), hr.AsSpan(s * H * W, H * W).ToArray(), clear.AsSpan(s * H * W, H * W).ToArray(), W, H);
            sum += r.CMse;
        }
        return sum / N;
    }

    [Test]
    public void TheLossIsTheBatchMeanOfCPsnrsCMseAtEachSamplesBestOffset()
    {
        using var backend = new CpuBackend();
        using var scope = new TensorScope();
        var (sr, hr, clear) = Scene(1);
        var result = ShiftedClearMse.Compute(Tensor.FromArray(sr, [N, 1, H, W], backend), hr, clear);
        Assert.That(result.Offsets, Is.EqualTo(new[] { (4, 2), (3, 3) }));
        Assert.That(result.Loss.Item(), Is.EqualTo(HostLoss(sr, hr, clear)).Within(1e-6));
    }

    [Test]
    public void ItsGradientMatchesFiniteDifferences()
    {
        using var backend = new CpuBackend();
        using var scope = new TensorScope();
        var (sr, hr, clear) = Scene(2);
        var x = Tensor.FromArray(sr, [N, 1, H, W], backend, requiresGrad: true);
        var result = ShiftedClearMse.Compute(x, hr, clear);
        result.Loss.Backward();
        var grad = x.Grad!.ToArray();
        var rng = new Random(3);
        const float eps = 1e-3f;
        for (int probe = 0; probe < 24; probe++)
        {
            int i = rng.Next(sr.Length);
            var plus = (float[])sr.Clone();
            var minus = (float[])sr.Clone();
            plus[i] += eps;
            minus[i] -= eps;
            double numeric = (HostLoss(plus, hr, clear) - HostLoss(minus, hr, clear)) / (2 * eps);
            Assert.That(grad[i], Is.EqualTo(numeric).Within(1e-4 + 1e-3 * Math.Abs(numeric)), $"pixel {i}");
        }
        Assert.That(grad.Count(g => g != 0), Is.GreaterThan(70).And.LessThanOrEqualTo(2 * 8 * 7), "the cropped (8 x 7), clear pixels carry gradient, no others");
        Assert.That(grad[0], Is.EqualTo(0f), "the border pixel (0, 0) is cropped away");
    }
}
