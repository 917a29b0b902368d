using System.Diagnostics;
using ILGpuSat.Kernels.Cuda;
using NUnit.Framework;

namespace ILGpuSat.Kernels.Tests.Cuda;

/// <summary>
/// Throughput of the three convolution passes on a real GPU at the paper's batch (32) on the layer shapes of
/// the network. Explicit: run by hand where a GPU exists
/// (<c>--filter "FullyQualifiedName~ConvBenchmarks"</c>); prints a table of ms and TFLOP/s per pass.
/// Compare with PyTorch FP32 (TF32 off) on the same shapes:
/// <c>torch.backends.cudnn.allow_tf32 = False; torch.backends.cudnn.benchmark = True</c>, then time
/// conv2d / torch.nn.grad.conv2d_input / conv2d_weight with CUDA events.
/// </summary>
[TestFixture, Explicit("needs a CUDA GPU; a benchmark, not a test")]
public class ConvBenchmarks
{
    public static IEnumerable<TestCaseData> Layers()
    {
        yield return L("SR 32->32 3x3 96x96", new Conv2dGeometry(32, 32, 96, 96, 32, 3, 3, 1, 1, 1, 1));
        yield return L("SR 64->64 3x3 96x96", new Conv2dGeometry(32, 64, 96, 96, 64, 3, 3, 1, 1, 1, 1));
        yield return L("SR 128->128 3x3 96x96", new Conv2dGeometry(32, 128, 96, 96, 128, 3, 3, 1, 1, 1, 1));
        yield return L("trunk 64->64 3x3 s2 96x96", new Conv2dGeometry(32, 64, 96, 96, 64, 3, 3, 2, 2, 1, 1));
        yield return L("trunk 256->256 3x3 24x24", new Conv2dGeometry(32, 256, 24, 24, 256, 3, 3, 1, 1, 1, 1));
        yield return L("trunk 512->512 3x3 12x12", new Conv2dGeometry(32, 512, 12, 12, 512, 3, 3, 1, 1, 1, 1));
        yield return L("trunk 512->512 3x3 d2 12x12", new Conv2dGeometry(32, 512, 12, 12, 512, 3, 3, 1, 1, 2, 2, 2, 2));
        yield return L("logits 256->313 1x1 24x24", new Conv2dGeometry(32, 256, 24, 24, 313, 1, 1));
        yield return L("deconv 4x4 s2 256->64 24->48", Conv2dGeometry.ForTranspose(32, 256, 24, 24, 64, 4, 4, 2, 2, 1, 1));
    }

    private static TestCaseData L(string name, Conv2dGeometry g) => new TestCaseData(g).SetArgDisplayNames(name);

    [TestCaseSource(nameof(Layers))]
    public void Throughput(Conv2dGeometry g)
    {
        CudaBackend gpu;
        try { gpu = Backends.CreateCuda(); }
        catch (CudaUnavailableException e) { Assert.Ignore(e.Message); return; }
        using (gpu)
        {
            var rng = new Random(1);
            using var x = Put(gpu, ConvReference.Random(rng, g.InputLength));
            using var w = Put(gpu, ConvReference.Random(rng, g.WeightLength));
            using var dy = Put(gpu, ConvReference.Random(rng, g.OutputLength));
            using var bias = Put(gpu, ConvReference.Random(rng, g.OutC));
            using var y = gpu.Allocate(g.OutputLength);
            using var dx = gpu.Allocate(g.InputLength);
            using var dw = gpu.Allocate(g.WeightLength);
            using var db = gpu.Allocate(g.OutC);
            double fwd = Time(gpu, () => gpu.Conv2d(x, w, bias, g, y));
            double bwdData = Time(gpu, () => gpu.Conv2dBackwardData(dy, w, g, dx));
            double bwdWeight = Time(gpu, () => gpu.Conv2dBackwardWeight(x, dy, g, dw, db));
            TestContext.Out.WriteLine($"{gpu.DeviceDescription}  GEMM-equivalent {g.Flops / 1e9:F2} GFLOP per pass");
            TestContext.Out.WriteLine("pass           ms      TFLOP/s");
            foreach (var (name, ms) in new[] { ("forward", fwd), ("backward data", bwdData), ("backward weight", bwdWeight) })
                TestContext.Out.WriteLine($"{name,-15}{ms,7:F3}  {g.Flops / (ms * 1e-3) / 1e12,7:F2}");
        }
    }

    private static DeviceBuffer Put(CudaBackend b, float[] data)
    {
        var buf = b.Allocate(data.Length);
        b.Upload(data, buf);
        return buf;
    }

    /// <summary>Median of 10 timed repetitions of 5 launches each, after a warm-up (which also JIT-compiles).</summary>
    private static double Time(CudaBackend b, Action op)
    {
        for (int i = 0; i < 3; i++) op();
        b.Synchronize();
        var samples = new List<double>();
        for (int r = 0; r < 10; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 5; i++) op();
            b.Synchronize();
            samples.Add(sw.Elapsed.TotalMilliseconds / 5);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
