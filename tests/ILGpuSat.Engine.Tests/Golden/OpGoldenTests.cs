using System.Text.Json;
using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// Every case in tests/golden/ops/manifest.json run through <see cref="F"/> with autograd on the CPU
/// backend: the forward output, the running statistics (batch norm, training mode) and the gradient
/// of sum(output * dy) with respect to every input PyTorch differentiated, each within
/// <see cref="GoldenAssert.DefaultTolerance"/> (see <see cref="GoldenAssert"/> for the metric).
/// </summary>
[TestFixture]
public class OpGoldenTests
{
    /// <summary>The ops the engine must match; the manifest must cover exactly these.</summary>
    private static readonly string[] RequiredOps =
    [
        "conv2d", "conv_transpose2d", "batch_norm_train", "batch_norm_eval", "prelu", "relu",
        "leaky_relu", "add", "mul", "scale", "cat", "narrow", "interpolate_bilinear",
        "interpolate_nearest", "max_pool2d", "sum", "mean", "softmax", "log_softmax", "mse_loss",
        "soft_cross_entropy",
    ];

    private delegate Tensor OpRunner(JsonElement p, IReadOnlyDictionary<string, Tensor> x);

    /// <summary>How each manifest op is run through the engine (inputs by their manifest names).</summary>
    private static readonly Dictionary<string, OpRunner> Runners = new()
    {
        ["conv2d"] = (p, x) => F.Conv2d(x["x"], x["weight"], x.GetValueOrDefault("bias"),
            stride: Int(p, "stride"), padding: Int(p, "padding"), dilation: Int(p, "dilation")),
        ["conv_transpose2d"] = (p, x) => F.ConvTranspose2d(x["x"], x["weight"], x.GetValueOrDefault("bias"),
            stride: Int(p, "stride"), padding: Int(p, "padding"), outputPadding: Int(p, "output_padding"),
            dilation: Int(p, "dilation")),
        ["batch_norm_train"] = (p, x) => F.BatchNorm(x["x"], x.GetValueOrDefault("running_mean"),
            x.GetValueOrDefault("running_var"), x["weight"], x["bias"], training: true,
            momentum: Float(p, "momentum"), eps: Float(p, "eps")),
        ["batch_norm_eval"] = (p, x) => F.BatchNorm(x["x"], x["running_mean"], x["running_var"], x["weight"], x["bias"],
            training: false, momentum: Float(p, "momentum"), eps: Float(p, "eps")),
        ["prelu"] = (p, x) => F.Prelu(x["x"], x["weight"]),
        ["relu"] = (p, x) => F.Relu(x["x"]),
        ["leaky_relu"] = (p, x) => F.LeakyRelu(x["x"], Float(p, "negative_slope")),
        ["add"] = (p, x) => F.Add(x["a"], x["b"]),
        ["mul"] = (p, x) => F.Mul(x["a"], x["b"]),
        ["scale"] = (p, x) => F.Mul(x["x"], Float(p, "scalar")),
        ["cat"] = (p, x) => F.Cat(Enumerable.Range(0, Int(p, "count")).Select(i => x[$"x{i}"]).ToArray(), Int(p, "dim")),
        ["narrow"] = (p, x) => F.Narrow(x["x"], Int(p, "dim"), Int(p, "start"), Int(p, "length")),
        ["interpolate_bilinear"] = (p, x) => F.Interpolate(x["x"], Int(p, "out_h"), Int(p, "out_w"), "bilinear",
            alignCorners: p.GetProperty("align_corners").GetBoolean()),
        ["interpolate_nearest"] = (p, x) => F.Interpolate(x["x"], Int(p, "out_h"), Int(p, "out_w"), "nearest"),
        ["max_pool2d"] = (p, x) => F.MaxPool2d(x["x"], Int(p, "kernel_size")),
        ["sum"] = (p, x) => F.Sum(x["x"]),
        ["mean"] = (p, x) => F.Mean(x["x"]),
        ["softmax"] = (p, x) => F.Softmax(x["x"], Int(p, "dim")),
        ["log_softmax"] = (p, x) => F.LogSoftmax(x["x"], Int(p, "dim")),
        ["mse_loss"] = (p, x) => F.MseLoss(x["input"], x["target"]),
        ["soft_cross_entropy"] = (p, x) => F.SoftCrossEntropy(x["logits"], x["target"], x.GetValueOrDefault("weights")),
    };

    /// <summary>
    /// Inputs PyTorch differentiates but the engine by contract treats as constants: the soft
    /// cross-entropy's target distribution and pixel weights are data (F.SoftCrossEntropy rejects
    /// requiresGrad on them, see <see cref="SoftCrossEntropyRejectsGradientsForItsConstants"/>). Their
    /// reference gradients are not compared and they are passed with requiresGrad=false.
    /// </summary>
    private static readonly Dictionary<string, string[]> ConstantInputs = new()
    {
        ["soft_cross_entropy"] = ["target", "weights"],
    };

    public static IEnumerable<TestCaseData> Cases() => CaseNames().Select(n => new TestCaseData(n).SetName($"Golden_{n}"));

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string caseName)
    {
        using var backend = new CpuBackend();
        RunCase(caseName, backend);
    }

    /// <summary>
    /// Every case on the CUDA backend on a real device, in one test so that a machine without a GPU
    /// reports one skip (with the reason) rather than one per case; failures list every failing case.
    /// </summary>
    [Test]
    public void AllCasesMatchPyTorchOnCuda()
    {
        Backend backend;
        try { backend = Backends.CreateCuda(); }
        catch (CudaUnavailableException e) { Assert.Ignore($"no CUDA device: {e.Message}"); return; }
        using (backend) RunAllCases(backend);
    }

    /// <summary>
    /// Every case on the CUDA kernels run by ILGPU's CPU simulator: checks the CUDA code paths without
    /// a GPU. About a minute, so opt-in: set ILGPUSAT_GOLDEN_SIMULATOR=1.
    /// </summary>
    [Test]
    public void AllCasesMatchPyTorchOnCudaSimulator()
    {
        if (Environment.GetEnvironmentVariable("ILGPUSAT_GOLDEN_SIMULATOR") != "1")
            Assert.Ignore("CUDA simulator golden run is opt-in (about a minute): set ILGPUSAT_GOLDEN_SIMULATOR=1.");
        // The convolution kernels launch 128-thread groups.
        using var backend = Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4);
        RunAllCases(backend);
    }

    private static void RunAllCases(Backend backend)
    {
        var failures = new List<string>();
        int count = 0;
        foreach (var name in CaseNames())
        {
            count++;
            try { RunCase(name, backend); }
            catch (Exception e) when (e is AssertionException or SystemException)
            {
                failures.Add($"{name}: {e.Message.Trim()}");
            }
        }
        TestContext.Out.WriteLine($"{backend.Name}: {count - failures.Count}/{count} golden cases match.");
        Assert.That(failures, Is.Empty, $"{failures.Count} of {count} golden cases fail on {backend.Name}:\n" + string.Join("\n", failures));
    }

    private static IEnumerable<string> CaseNames()
    {
        using var doc = GoldenFiles.Manifest("ops");
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();
    }

    private static void RunCase(string caseName, Backend backend)
    {
        using var doc = GoldenFiles.Manifest("ops");
        var c = doc.RootElement.GetProperty("cases").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == caseName);
        var op = c.GetProperty("op").GetString()!;
        if (!Runners.TryGetValue(op, out var run))
            throw new AssertionException($"{caseName}: manifest op '{op}' has no engine runner in {nameof(OpGoldenTests)}.");
        var p = c.GetProperty("params");
        var constants = ConstantInputs.GetValueOrDefault(op) ?? [];
        var gradFiles = c.GetProperty("grads").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetString()!);

        // The caller disposes the backend after this scope has returned the tensors to its pool.
        using var scope = new TensorScope();
        var inputs = new Dictionary<string, Tensor>();
        foreach (var input in c.GetProperty("inputs").EnumerateObject())
        {
            var (data, shape) = Load(input.Value.GetString()!);
            bool grad = gradFiles.ContainsKey(input.Name) && !constants.Contains(input.Name);
            inputs[input.Name] = Tensor.FromArray(data, shape, requiresGrad: grad, backend: backend);
        }

        var y = run(p, inputs);
        var (expected, expectedShape) = Load(c.GetProperty("output").GetString()!);
        GoldenAssert.Close($"{caseName} output", y.ToArray(), y.Shape, expected, expectedShape);

        if (c.TryGetProperty("extra", out var extra))
        {
            // Training-mode batch norm: the running statistics were updated in place.
            foreach (var e in extra.EnumerateObject())
            {
                var (want, wantShape) = Load(e.Value.GetString()!);
                var t = inputs[e.Name];
                GoldenAssert.Close($"{caseName} {e.Name} after update", t.ToArray(), t.Shape, want, wantShape);
            }
        }

        var (dy, dyShape) = Load(c.GetProperty("grad_output").GetString()!);
        // Scalars may be [] or [1] (see GoldenAssert.Close); the upstream gradient takes y's own shape then.
        y.Backward(Tensor.FromArray(dy, dy.Length == 1 && y.Length == 1 ? y.Shape : dyShape, backend: backend));

        int compared = 0;
        foreach (var (name, file) in gradFiles)
        {
            if (constants.Contains(name)) continue;
            var g = inputs[name].Grad;
            Assert.That(g, Is.Not.Null, $"{caseName}: no gradient reached input '{name}'.");
            var (want, wantShape) = Load(file);
            GoldenAssert.Close($"{caseName} d/d{name}", g!.ToArray(), g.Shape, want, wantShape);
            compared++;
        }
        Assert.That(compared, Is.GreaterThan(0), $"{caseName}: no gradient was compared.");
    }

    [Test]
    public void SoftCrossEntropyRejectsGradientsForItsConstants()
    {
        using var backend = new CpuBackend();
        using var scope = new TensorScope();
        var logits = Tensor.FromArray(new float[8], [1, 2, 2, 2], requiresGrad: true, backend: backend);
        var target = Tensor.FromArray(Enumerable.Repeat(0.5f, 8).ToArray(), [1, 2, 2, 2], requiresGrad: true, backend: backend);
        var weights = Tensor.FromArray(new float[4], [1, 1, 2, 2], requiresGrad: true, backend: backend);
        var constantTarget = Tensor.FromArray(Enumerable.Repeat(0.5f, 8).ToArray(), [1, 2, 2, 2], backend: backend);
        Assert.Throws<ArgumentException>(() => F.SoftCrossEntropy(logits, target));
        Assert.Throws<ArgumentException>(() => F.SoftCrossEntropy(logits, constantTarget, weights));
    }

    [Test]
    public void ManifestCoversEveryRequiredOpAndNothingElse()
    {
        using var doc = GoldenFiles.Manifest("ops");
        var manifestRequired = doc.RootElement.GetProperty("required_ops").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var caseOps = doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.GetProperty("op").GetString()!).Distinct().ToArray();
        Assert.That(manifestRequired, Is.EquivalentTo(RequiredOps), "required_ops in the manifest vs this test's list");
        Assert.That(caseOps, Is.EquivalentTo(RequiredOps), "ops that have at least one case");
        Assert.That(Runners.Keys, Is.EquivalentTo(RequiredOps), "ops this test knows how to run");
    }

    [Test]
    public void ManifestCoversTheEdgeCases()
    {
        using var doc = GoldenFiles.Manifest("ops");
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToArray();
        var shapes = cases.SelectMany(c => c.GetProperty("inputs").EnumerateObject()
            .Select(i => NpyFile.Read(GoldenFiles.Path("ops", i.Value.GetString()!)).Shape)).Where(s => s.Length == 4).ToArray();
        Assert.That(shapes.Select(s => s[0]), Has.Some.EqualTo(1).And.Some.EqualTo(3), "batch 1 and 3");
        Assert.That(shapes.Select(s => s[1]), Has.Some.EqualTo(1).And.Some.EqualTo(3).And.Some.EqualTo(313), "channels 1, 3, 313");
        Assert.That(shapes, Has.Some.Matches<int[]>(s => s[2] == 7 && s[3] == 9), "an odd 7x9 input");
        IEnumerable<JsonElement> Op(string op) => cases.Where(c => c.GetProperty("op").GetString() == op).Select(c => c.GetProperty("params"));
        foreach (var conv in new[] { "conv2d", "conv_transpose2d" })
        {
            Assert.That(Op(conv).Select(q => Int(q, "stride")), Has.Some.EqualTo(2), $"{conv} stride 2");
            Assert.That(Op(conv).Select(q => q.GetProperty("bias").GetBoolean()), Has.Some.False.And.Some.True, $"{conv} with and without bias");
        }
        Assert.That(Op("conv2d").Select(q => Int(q, "dilation")), Has.Some.EqualTo(2), "conv2d dilation 2");
        Assert.That(Op("conv_transpose2d").Select(q => Int(q, "output_padding")), Has.Some.EqualTo(1), "output_padding 1");
        Assert.That(Op("batch_norm_train").Select(q => q.GetProperty("running_stats").GetBoolean()), Has.Some.False.And.Some.True);
        Assert.That(Op("prelu").Select(q => Int(q, "num_parameters")), Has.Some.EqualTo(1).And.Some.GreaterThan(1), "PReLU single and per channel");
        Assert.That(Op("soft_cross_entropy").Select(q => q.GetProperty("weighted").GetBoolean()), Has.Some.False.And.Some.True);
    }

    [Test]
    public void UpstreamGradientsAreNotAllOnes()
    {
        // A backward that ignored dy would pass a golden test whose dy is all ones.
        using var doc = GoldenFiles.Manifest("ops");
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var (dy, _) = Load(c.GetProperty("grad_output").GetString()!);
            Assert.That(dy.Any(v => v != 1f), $"{c.GetProperty("name").GetString()}: dy is all ones");
        }
    }

    [Test]
    public void ComparisonCatchesSmallErrorsAndNonFiniteValues()
    {
        var (expected, shape) = Load(FirstCaseOutput());
        var perturbed = (float[])expected.Clone();
        float scale = expected.Max(MathF.Abs);
        perturbed[perturbed.Length / 2] += 3e-4f * scale;
        Assert.That(GoldenAssert.RelativeError(perturbed, expected), Is.GreaterThan(GoldenAssert.DefaultTolerance));
        perturbed = (float[])expected.Clone();
        perturbed[0] = float.NaN;
        Assert.That(GoldenAssert.RelativeError(perturbed, expected), Is.EqualTo(double.PositiveInfinity));
        Assert.That(GoldenAssert.RelativeError(expected, expected), Is.Zero);
        Assert.Throws<AssertionException>(() => GoldenAssert.Close("self-test", expected, [shape.Aggregate(1, (a, b) => a * b)], expected, shape));
    }

    private static string FirstCaseOutput()
    {
        using var doc = GoldenFiles.Manifest("ops");
        return doc.RootElement.GetProperty("cases")[0].GetProperty("output").GetString()!;
    }

    private static (float[] Data, int[] Shape) Load(string file) => NpyFile.Read(GoldenFiles.Path("ops", file));

    private static int Int(JsonElement p, string name) => p.GetProperty(name).GetInt32();

    private static float Float(JsonElement p, string name) => (float)p.GetProperty(name).GetDouble();
}
