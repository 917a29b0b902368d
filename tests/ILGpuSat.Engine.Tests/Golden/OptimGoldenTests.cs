using System.Text.Json;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// Optimizer trajectories against torch.optim (tests/golden/optim/manifest.json): two parameters,
/// six steps with given gradients; after every step the parameters (and the learning rate used,
/// the clipped gradients and the total norm, where the case has them) must match PyTorch.
/// </summary>
[TestFixture]
public class OptimGoldenTests
{
    // Six steps of float32 updates against a float64 reference: a few ulps of drift per step.
    private const double Tolerance = 1e-5;

    public static IEnumerable<TestCaseData> Cases()
    {
        using var doc = GoldenFiles.Manifest("optim");
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var name = c.GetProperty("name").GetString()!;
            yield return new TestCaseData(name, "cpu").SetName($"GoldenOptim_{name}");
            // The CUDA kernels on ILGPU's CPU accelerator: the same constants and the same update as the CPU backend.
            yield return new TestCaseData(name, "cuda-sim").SetName($"GoldenOptim_{name}_CudaSimulator");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string caseName, string device)
    {
        using var doc = GoldenFiles.Manifest("optim");
        var c = doc.RootElement.GetProperty("cases").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == caseName);
        int steps = c.GetProperty("steps").GetInt32();
        var h = c.GetProperty("hyper");

        using Backend backend = device == "cpu" ? new CpuBackend() : Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4);
        using var scope = new TensorScope();
        var inits = c.GetProperty("params").EnumerateArray().Select(e => Load(e.GetString()!)).ToArray();
        var grads = c.GetProperty("grads").EnumerateArray().Select(e => Load(e.GetString()!)).ToArray();
        var after = c.GetProperty("after").EnumerateArray().Select(e => Load(e.GetString()!)).ToArray();
        var clipped = c.TryGetProperty("clipped_grads", out var cg)
            ? cg.EnumerateArray().Select(e => Load(e.GetString()!)).ToArray() : null;
        var parameters = inits.Select(i => Tensor.FromArray(i.Data, i.Shape, requiresGrad: true, backend: backend)).ToArray();

        using var optimizer = MakeOptimizer(c.GetProperty("optimizer").GetString()!, h, parameters);
        StepLR? schedule = c.TryGetProperty("step_lr", out var sl)
            ? new StepLR(optimizer, sl.GetProperty("step_size").GetInt32(), (float)sl.GetProperty("gamma").GetDouble())
            : null;
        float? maxNorm = c.TryGetProperty("clip_max_norm", out var mn) ? (float)mn.GetDouble() : null;
        var lrs = c.GetProperty("lrs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var norms = c.TryGetProperty("total_norms", out var tn) ? tn.EnumerateArray().Select(e => e.GetDouble()).ToArray() : null;

        for (int k = 0; k < steps; k++)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                parameters[i].ZeroGrad();
                // Backward of sum(p * g) puts exactly g into p.Grad.
                using var g = Tensor.FromArray(Slice(grads[i], k), inits[i].Shape, backend: backend);
                using var loss = F.Sum(F.Mul(parameters[i], g));
                loss.Backward();
            }
            // The engine keeps the rate as a float: compare at float precision.
            Assert.That(optimizer.LearningRate, Is.EqualTo(lrs[k]).Within(1e-6 * lrs[k]), $"{caseName} step {k}: learning rate");
            if (maxNorm is { } m)
            {
                float total = GradClip.ClipGradNorm(parameters, m).Item();
                Assert.That(total, Is.EqualTo(norms![k]).Within(1e-5 * norms[k]), $"{caseName} step {k}: total norm");
                for (int i = 0; i < parameters.Length; i++)
                    GoldenAssert.Close($"{caseName} step {k} clipped grad p{i}", parameters[i].Grad!.ToArray(), inits[i].Shape,
                        Slice(clipped![i], k), inits[i].Shape, Tolerance);
            }
            optimizer.Step();
            schedule?.Step();
            for (int i = 0; i < parameters.Length; i++)
                GoldenAssert.Close($"{caseName} step {k} p{i}", parameters[i].ToArray(), parameters[i].Shape,
                    Slice(after[i], k), inits[i].Shape, Tolerance);
        }
    }

    private static Optimizer MakeOptimizer(string kind, JsonElement h, Tensor[] p)
    {
        float lr = (float)h.GetProperty("lr").GetDouble();
        float Get(string name, float fallback) => h.TryGetProperty(name, out var v) ? (float)v.GetDouble() : fallback;
        (float, float) Betas() => h.TryGetProperty("betas", out var b) ? ((float)b[0].GetDouble(), (float)b[1].GetDouble()) : (0.9f, 0.999f);
        switch (kind)
        {
            case "sgd":
                return new Sgd(p, lr, momentum: Get("momentum", 0), dampening: Get("dampening", 0),
                    weightDecay: Get("weight_decay", 0), nesterov: h.TryGetProperty("nesterov", out var n) && n.GetBoolean());
            case "adam":
            {
                var (b1, b2) = Betas();
                return new Adam(p, lr, beta1: b1, beta2: b2, eps: Get("eps", 1e-8f), weightDecay: Get("weight_decay", 0));
            }
            case "adamw":
            {
                var (b1, b2) = Betas();
                return new AdamW(p, lr, beta1: b1, beta2: b2, eps: Get("eps", 1e-8f), weightDecay: Get("weight_decay", 0.01f));
            }
            default:
                throw new ArgumentException($"optim golden: unknown optimizer '{kind}' in the manifest.");
        }
    }

    /// <summary>Step k of a [steps, ...] stack.</summary>
    private static float[] Slice((float[] Data, int[] Shape) stacked, int k)
    {
        int per = stacked.Data.Length / stacked.Shape[0];
        return stacked.Data.AsSpan(k * per, per).ToArray();
    }

    private static (float[] Data, int[] Shape) Load(string file) => NpyFile.Read(GoldenFiles.Path("optim", file));
}
