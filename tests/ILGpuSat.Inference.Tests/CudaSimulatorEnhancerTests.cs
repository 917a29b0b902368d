using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Inference.Tests;

/// <summary>
/// The Enhancer's whole device pipeline (bicubic x4 as a transposed convolution, the folded network, softmax over
/// the 313 bins, the annealed mean as a 1x1 convolution, bilinear x4) on the CUDA kernels, run by ILGPU's CPU
/// accelerator, gives the CPU backend's image (4.8e-7 measured). No GPU needed, but about two minutes, so opt-in
/// with ILGPUSAT_GOLDEN_SIMULATOR=1 like the other simulator runs.
/// </summary>
[TestFixture]
public sealed class CudaSimulatorEnhancerTests
{
    [Test]
    public void TiledEnhanceOnTheCudaKernelsMatchesTheCpu()
    {
        if (Environment.GetEnvironmentVariable("ILGPUSAT_GOLDEN_SIMULATOR") != "1")
            Assert.Ignore("the Enhancer on the CUDA simulator is opt-in (minutes): set ILGPUSAT_GOLDEN_SIMULATOR=1.");
        string folder = Directory.CreateTempSubdirectory("ilgpusat-cuda-sim-").FullName;
        try
        {
            string model = TestModels.Save(folder, "liu2018", new Liu2018Config(TrunkWidth: 0.0625, SrWidth: 0.125));
            var image = TestModels.Grey(20, 14);
            var options = new EnhanceOptions { TileSize = 12, Overlap = 4, Context = 8, GreySr = true };
            using var cpu = TestModels.Cpu();
            using var onCpu = Enhancer.Load(model, cpu);
            var expected = onCpu.Enhance(image, options);
            using var simulator = Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4); // the convolution kernels need 128 threads per group
            using var onCuda = Enhancer.Load(model, simulator);
            var (xs, ys) = onCuda.PlanTiles(20, 14, options);
            Assert.That(xs.Count * ys.Count, Is.GreaterThan(1), "the run must be tiled");
            var actual = onCuda.Enhance(image, options);
            double worst = 0;
            for (int b = 0; b < 3; b++)
                for (int i = 0; i < expected.Color.Planes[b].Length; i++)
                    worst = Math.Max(worst, Math.Abs(expected.Color.Planes[b][i] - actual.Color.Planes[b][i]));
            for (int i = 0; i < expected.GreySr!.Planes[0].Length; i++)
                worst = Math.Max(worst, Math.Abs(expected.GreySr.Planes[0][i] - actual.GreySr!.Planes[0][i]));
            TestContext.Out.WriteLine($"max |cuda-sim - cpu| = {worst:E2}");
            Assert.That(worst, Is.LessThan(1e-3));
            Assert.That(expected.Color.Planes[0].Zip(expected.Color.Planes[2], (r, b) => Math.Abs(r - b)).Max(), Is.GreaterThan(1e-3),
                "the image must be coloured for the colour path to be compared");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
