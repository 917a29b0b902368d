using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cpu;

/// <summary>
/// Optimizer steps against parameter trajectories printed by PyTorch 1.13 (torch.optim.SGD / Adam /
/// AdamW on p = [1, -2, 0.5, 3] with the three gradients below; values pasted from a run of the
/// snippet in each test's comment), plus a large buffer against the same formulas in double.
/// </summary>
public class OptimOpsTests : CpuOpsTestBase
{
    private static readonly float[] P0 = { 1f, -2f, 0.5f, 3f };
    private static readonly float[][] Grads =
    {
        new[] { 0.5f, -0.25f, 1.5f, 0f },
        new[] { 0.25f, 0.75f, -1f, 2f },
        new[] { -0.5f, 0.1f, 0.3f, -0.2f },
    };

    private void AssertTrajectory(Action<DeviceBuffer, DeviceBuffer, int> step, double[][] expected, string what)
    {
        var p = Buf(P0);
        for (int t = 0; t < expected.Length; t++)
        {
            step(p, Buf(Grads[t]), t + 1);
            AssertClose(Get(p), expected[t], $"{what} step {t + 1}", 1e-6);
        }
    }

    [Test]
    public void SgdPlainMatchesPyTorch()
    {
        // torch.optim.SGD(lr=0.1)
        AssertTrajectory((p, g, t) => B.SgdStep(p, g, null, 0.1f, 0f, 0f, 0f, false, t == 1), new[]
        {
            new[] { 0.949999988079071, -1.975000023841858, 0.3499999940395355, 3.0 },
            new[] { 0.925000011920929, -2.049999952316284, 0.44999998807907104, 2.799999952316284 },
            new[] { 0.9750000238418579, -2.059999942779541, 0.41999998688697815, 2.819999933242798 },
        }, "sgd");
    }

    [Test]
    public void SgdMomentumDampeningWeightDecayMatchesPyTorch()
    {
        // torch.optim.SGD(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01): the first step copies the gradient into the buffer.
        var buf = Empty(4);
        AssertTrajectory((p, g, t) => B.SgdStep(p, g, buf, 0.1f, 0.9f, 0.1f, 0.01f, false, t == 1), new[]
        {
            new[] { 0.9490000009536743, -1.9730000495910645, 0.34950000047683716, 2.996999979019165 },
            new[] { 0.8797459006309509, -2.0144243240356445, 0.3037354648113251, 2.8116025924682617 },
            new[] { 0.8616254329681396, -2.0588932037353516, 0.23527401685714722, 2.66021466255188 },
        }, "sgd momentum");
    }

    [Test]
    public void SgdNesterovMatchesPyTorch()
    {
        // torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
        var buf = Empty(4);
        AssertTrajectory((p, g, t) => B.SgdStep(p, g, buf, 0.1f, 0.9f, 0f, 0.01f, true, t == 1), new[]
        {
            new[] { 0.9031000137329102, -1.948699951171875, 0.21405000984668732, 2.99429988861084 },
            new[] { 0.8125741481781006, -2.065627336502075, 0.2817383110523224, 2.6061806678771973 },
            new[] { 0.8478697538375854, -2.1201910972595215, 0.19531512260437012, 2.47261643409729 },
        }, "sgd nesterov");
    }

    [Test]
    public void AdamMatchesPyTorch()
    {
        // torch.optim.Adam(lr=0.1, betas=(0.9, 0.999), eps=1e-8): step 1 moves every non-zero-gradient weight by lr.
        DeviceBuffer m = Buf(new float[4]), v = Buf(new float[4]);
        AssertTrajectory((p, g, t) => B.AdamStep(p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, false, t), new[]
        {
            new[] { 0.9000000357627869, -1.899999976158142, 0.4000000059604645, 3.0 },
            new[] { 0.806782066822052, -1.9494189023971558, 0.385547935962677, 2.925586223602295 },
            new[] { 0.7957037687301636, -1.9953384399414062, 0.3640333116054535, 2.8747096061706543 },
        }, "adam");
    }

    [Test]
    public void AdamL2WeightDecayMatchesPyTorch()
    {
        // torch.optim.Adam(lr=0.01, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.1): decay added to the gradient.
        DeviceBuffer m = Buf(new float[4]), v = Buf(new float[4]);
        AssertTrajectory((p, g, t) => B.AdamStep(p, g, m, v, 0.01f, 0.5f, 0.999f, 1e-8f, 0.1f, false, t), new[]
        {
            new[] { 0.9900000095367432, -1.9900000095367432, 0.49000000953674316, 2.990000009536743 },
            new[] { 0.981183648109436, -1.9943201541900635, 0.4909125864505768, 2.980043649673462 },
            new[] { 0.9821386933326721, -1.9951962232589722, 0.48951655626296997, 2.974402904510498 },
        }, "adam weight decay");
    }

    [Test]
    public void AdamWMatchesPyTorch()
    {
        // torch.optim.AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1): param *= 1 - lr*wd first.
        DeviceBuffer m = Buf(new float[4]), v = Buf(new float[4]);
        AssertTrajectory((p, g, t) => B.AdamStep(p, g, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, true, t), new[]
        {
            new[] { 0.9890000224113464, -1.9880000352859497, 0.4895000159740448, 2.996999979019165 },
            new[] { 0.9786892533302307, -1.990954041481018, 0.4875653088092804, 2.9865617752075195 },
            new[] { 0.9766027927398682, -1.9935550689697266, 0.4849262833595276, 2.978487730026245 },
        }, "adamw");
    }

    [Test]
    public void AdamOnALargeBufferMatchesFormulaInDouble()
    {
        // Vector body, remainder and threaded chunks must all apply the same update.
        const int n = 70001;
        var p0 = Rand(n, 50);
        var g = Rand(n, 51);
        var m0 = Rand(n, 52, -0.1f, 0.1f);
        var v0 = Rand(n, 53, 0f, 0.01f);
        DeviceBuffer p = Buf(p0), m = Buf(m0), v = Buf(v0);
        const int step = 5;
        B.AdamStep(p, Buf(g), m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, step);
        double bc1 = 1 - Math.Pow(0.9, step), bc2 = 1 - Math.Pow(0.999, step);
        var mRef = new double[n];
        var vRef = new double[n];
        var pRef = new double[n];
        for (int i = 0; i < n; i++)
        {
            double pd = p0[i] * (1 - 1e-3 * 0.01);
            mRef[i] = 0.9 * m0[i] + 0.1 * g[i];
            vRef[i] = 0.999 * v0[i] + 0.001 * g[i] * (double)g[i];
            pRef[i] = pd - 1e-3 / bc1 * mRef[i] / (Math.Sqrt(vRef[i]) / Math.Sqrt(bc2) + 1e-8);
        }
        AssertClose(Get(m), mRef, "adam m");
        AssertClose(Get(v), vRef, "adam v");
        AssertClose(Get(p), pRef, "adam param", 1e-6);
    }

    [Test]
    public void ClipByGlobalNormMatchesPyTorch()
    {
        // torch.nn.utils.clip_grad_norm_ on grad [3, 4] with max_norm 1 -> [0.5999999046, 0.7999998331].
        var grad = Buf(new[] { 3f, 4f });
        B.ClipByGlobalNorm(grad, Buf(new[] { 25f }), 1f);
        AssertClose(Get(grad), new[] { 0.5999999046325684, 0.7999998331069946 }, "clip", 1e-7);
        // Below the limit nothing changes.
        B.ClipByGlobalNorm(grad, Buf(new[] { 1f }), 10f);
        AssertClose(Get(grad), new[] { 0.5999999046325684, 0.7999998331069946 }, "clip below limit", 0);
    }
}
