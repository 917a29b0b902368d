using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Every non-convolution op of the CUDA backend, run on ILGPU's CPU accelerator (the same kernels that
/// are compiled to PTX), against the CPU backend at the self-test's tolerance. Convolutions have their own
/// tests (Conv*).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CudaSimulatorOpTests
{
    private CudaBackend _sim = null!;
    private CpuBackend _cpu = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _sim = Backends.CreateCudaSimulator();
        _cpu = new CpuBackend { Threads = 1 };
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _sim.Dispose();
        _cpu.Dispose();
    }

    private static IEnumerable<TestCaseData> OpCases() =>
        from shape in KernelSelfTest.SmallShapes
        from op in KernelSelfTest.OpNames
        where !op.StartsWith("conv", StringComparison.Ordinal) && KernelSelfTest.Applies(op, shape)
        select new TestCaseData(op, shape.N, shape.C, shape.H, shape.W).SetName($"{op} {shape}");

    [Test]
    public void SelfTestCoversEveryOpOfTheContract()
    {
        // Every abstract op of Backend (memory management aside) must have a self-test case, by its snake_case name.
        string Snake(string name) => string.Concat(name.Select((ch, i) => char.IsUpper(ch) && i > 0 ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()))
            .Replace("p_relu", "prelu");
        var skip = new HashSet<string> { "Allocate", "Upload", "Download", "Synchronize", "Dispose", "get_Name", "get_AvailableBytes" };
        var ops = typeof(Backend).GetMethods().Where(m => m.IsAbstract && !skip.Contains(m.Name)).Select(m => Snake(m.Name)).ToList();
        var missing = ops.Where(op => !KernelSelfTest.OpNames.Any(n => n == op || n.StartsWith(op + "_", StringComparison.Ordinal))).ToList();
        Assert.That(ops, Has.Count.GreaterThan(40));
        Assert.That(missing, Is.Empty);
    }

    [Test]
    public void SelfTestTablePassesOnOneShape()
    {
        var rows = KernelSelfTest.Run(_sim, _cpu, [new SelfTestShape(2, 3, 4, 5)], include: op => !op.StartsWith("conv", StringComparison.Ordinal));
        TestContext.Out.WriteLine(KernelSelfTest.Table(rows));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Op}: {r.MaxRelError} {r.Error}"), Is.Empty);
    }

    [TestCaseSource(nameof(OpCases))]
    public void MatchesCpuBackend(string op, int n, int c, int h, int w)
    {
        var row = KernelSelfTest.RunOp(op, _sim, _cpu, new SelfTestShape(n, c, h, w));
        Assert.That(row, Is.Not.Null);
        Assert.That(row!.Error, Is.Null, row.Error);
        Assert.That(row.MaxRelError, Is.LessThanOrEqualTo(KernelSelfTest.Tolerance), $"{op} [{n},{c},{h},{w}]");
    }

    [Test]
    public void AdamSecondMomentAtStepOneMatchesTheCpuBackendTo1e7()
    {
        // The CUDA step once computed 1 - beta2 in float from a float beta2: exp_avg_sq came out 1.3e-5
        // relative off PyTorch at step 1 (CPU: 1e-7). Both now take AdamScalars.For.
        const int n = 4099;
        var rnd = new Random(3);
        float[] p = new float[n], g = new float[n];
        for (int i = 0; i < n; i++) { p[i] = (float)(rnd.NextDouble() - 0.5); g[i] = (float)(rnd.NextDouble() * 2 - 1); }
        float[] Run(Backend b, bool decoupled, out float[] v)
        {
            using var bp = b.Allocate(n); using var bg = b.Allocate(n); using var bm = b.Allocate(n); using var bv = b.Allocate(n);
            b.Upload(p, bp); b.Upload(g, bg); b.Upload(new float[n], bm); b.Upload(new float[n], bv);
            b.AdamStep(bp, bg, bm, bv, lr: 1e-3f, beta1: 0.9f, beta2: 0.999f, eps: 1e-8f, weightDecay: 1e-4f, decoupled, step: 1);
            v = new float[n];
            b.Download(bv, v);
            var result = new float[n];
            b.Download(bp, result);
            return result;
        }
        foreach (bool decoupled in new[] { false, true })
        {
            var pc = Run(_cpu, decoupled, out var vc);
            var ps = Run(_sim, decoupled, out var vs);
            for (int i = 0; i < n; i++)
            {
                Assert.That(vs[i], Is.EqualTo(vc[i]).Within(1e-7 * Math.Abs(vc[i]) + 1e-30), $"exp_avg_sq[{i}], decoupled {decoupled}");
                Assert.That(ps[i], Is.EqualTo(pc[i]).Within(1e-6 * Math.Abs(pc[i]) + 1e-9), $"param[{i}], decoupled {decoupled}");
            }
        }
    }

    [Test]
    public void NaNPropagatesThroughMaxPoolSoftmaxAndBatchNormAsOnTheCpu()
    {
        // planes=2 of 4x4: a NaN in one 2x2 window of the first plane.
        const int planes = 2, h = 4, w = 4, n = planes * h * w;
        var x = Enumerable.Range(0, n).Select(i => (float)Math.Sin(i)).ToArray();
        x[5] = float.NaN;
        float[] Pool(Backend b, out float[] dx)
        {
            using var bx = b.Allocate(n); using var by = b.Allocate(n / 4); using var bdy = b.Allocate(n / 4); using var bdx = b.Allocate(n);
            b.Upload(x, bx);
            b.Upload(Enumerable.Range(1, n / 4).Select(i => (float)i).ToArray(), bdy);
            b.MaxPool2x2(bx, planes, h, w, by);
            b.MaxPool2x2Backward(bx, bdy, planes, h, w, bdx);
            var y = new float[n / 4]; dx = new float[n];
            b.Download(by, y); b.Download(bdx, dx);
            return y;
        }
        var yc = Pool(_cpu, out var dxc);
        var ys = Pool(_sim, out var dxs);
        Assert.That(float.IsNaN(yc[0]) && float.IsNaN(ys[0]), Is.True, "the NaN window's maximum is NaN on both");
        Assert.That(ys, Is.EqualTo(yc), "max-pool");
        Assert.That(dxs, Is.EqualTo(dxc), "the gradient goes to the same (NaN) element");

        float[] Softmax(Backend b)
        {
            using var bx = b.Allocate(n); using var by = b.Allocate(n);
            b.Upload(x, bx);
            b.Softmax(bx, new ChannelGeometry(1, planes, h * w), by); // 2 channels over 16 pixels
            var y = new float[n];
            b.Download(by, y);
            return y;
        }
        var sc = Softmax(_cpu);
        var ss = Softmax(_sim);
        for (int i = 0; i < n; i++) Assert.That(float.IsNaN(ss[i]), Is.EqualTo(float.IsNaN(sc[i])), $"softmax NaN at {i}");
    }
}
