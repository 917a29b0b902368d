using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Verification;

/// <summary>The outcome of one PyTorch golden case.</summary>
/// <param name="WorstRelError">The largest <see cref="GoldenComparison.RelativeError"/> over the compared tensors (NaN when none had one).</param>
/// <param name="WorstTensor">The first failing tensor, or the one with the largest error when all passed.</param>
/// <param name="Error">Every failing tensor's problem, or what went wrong (an exception, an unknown op); null when it passed.</param>
public sealed record GoldenResult(string Case, string Op, double WorstRelError, string? WorstTensor, bool Pass, string? Error)
{
    /// <summary>Every tensor compared, in order: output, updated running statistics, gradients.</summary>
    public IReadOnlyList<GoldenComparison> Comparisons { get; init; } = [];

    /// <summary>The exception the case died of, if it did (kept for its stack trace).</summary>
    public Exception? Exception { get; init; }
}

/// <summary>
/// The PyTorch golden cases in tests/golden/ops (written by tests/golden/make_golden.py), run
/// through <see cref="F"/> with autograd on any backend. A case passes when the forward output, the
/// running statistics (training-mode batch norm) and the gradient of sum(output * dy) with respect to
/// every input PyTorch differentiated are each within <see cref="Tolerance"/> of PyTorch (metric:
/// <see cref="GoldenComparison.RelativeError"/>). Used by the engine tests and `ilgpusat selftest`.
/// </summary>
public static class GoldenOps
{
    public const double Tolerance = GoldenComparison.DefaultTolerance;

    /// <summary>Environment variable naming the repository root; when set, it is the only place searched.</summary>
    public const string RepoVariable = "ILGPUSAT_REPO";

    /// <summary>Where the cases live relative to the repository root.</summary>
    public static readonly string RelativePath = Path.Combine("tests", "golden", "ops");

    private const string ManifestName = "manifest.json";

    /// <summary>The ops the engine must match; the manifest must cover exactly these.</summary>
    public static IReadOnlyList<string> RequiredOps { get; } =
    [
        "conv2d", "conv_transpose2d", "batch_norm_train", "batch_norm_eval", "prelu", "relu",
        "leaky_relu", "add", "mul", "scale", "cat", "narrow", "interpolate_bilinear",
        "interpolate_nearest", "max_pool2d", "sum", "mean", "softmax", "log_softmax", "mse_loss",
        "soft_cross_entropy", "instance_norm", "reshape", "conv3d", "dynamic_conv2d", "spatial_mean", "reflect_pad2d",
        "exp", "log", "sigmoid", "softplus", "linear", "binary_cross_entropy_with_logits", "gaussian_kl", "logsumexp",
        "gaussian_mixture_nll", "weighted_mse_loss", "gradient_loss",
    ];

    /// <summary>The manifest ops this runner knows how to run.</summary>
    public static IReadOnlyCollection<string> RunnableOps => Runners.Keys;

    /// <summary>
    /// Inputs PyTorch differentiates but the engine by contract treats as constants: the soft
    /// cross-entropy's target distribution and pixel weights are data (F.SoftCrossEntropy rejects
    /// requiresGrad on them). Their reference gradients are not compared and they are passed with
    /// requiresGrad=false.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ConstantInputs { get; } =
        new Dictionary<string, IReadOnlyList<string>> { ["soft_cross_entropy"] = ["target", "weights"] };

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
        ["instance_norm"] = (p, x) => F.InstanceNorm(x["x"], x.GetValueOrDefault("weight"), x.GetValueOrDefault("bias"), Float(p, "eps")),
        ["conv3d"] = (p, x) => F.Conv3d(x["x"], x["weight"], x.GetValueOrDefault("bias"), padding: Int(p, "padding")),
        ["dynamic_conv2d"] = (p, x) => F.DynamicConv2d(x["x"], x["filters"],
            reflect: p.TryGetProperty("reflect", out var r) && r.GetBoolean()),
        ["spatial_mean"] = (p, x) => F.SpatialMean(x["x"]),
        ["reflect_pad2d"] = (p, x) => F.ReflectPad2d(x["x"], Int(p, "padding")),
        ["reshape"] = (p, x) => F.Reshape(x["x"], p.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray()),
        ["exp"] = (p, x) => F.Exp(x["x"]),
        ["log"] = (p, x) => F.Log(x["x"]),
        ["sigmoid"] = (p, x) => F.Sigmoid(x["x"]),
        ["softplus"] = (p, x) => F.Softplus(x["x"]),
        ["linear"] = (p, x) => F.Linear(x["x"], x["weight"], x.GetValueOrDefault("bias")),
        ["binary_cross_entropy_with_logits"] = (p, x) => F.BinaryCrossEntropyWithLogits(x["logits"], x["target"]),
        ["gaussian_kl"] = (p, x) => F.GaussianKl(x["mu"], x["logvar"], Int(p, "batch")),
        ["logsumexp"] = (p, x) => F.LogSumExp(x["x"]),
        ["gaussian_mixture_nll"] = (p, x) => F.GaussianMixtureNll(x["z"], x["weight_logits"], x["means"], x["log_std"]),
        ["weighted_mse_loss"] = (p, x) => F.WeightedMseLoss(x["input"], x["target"], x["weights"]),
        ["gradient_loss"] = (p, x) => F.GradientLoss(x["input"], x["target"]),
    };

    // ---- locating the cases ---------------------------------------------------------------------

    /// <summary>
    /// The tests/golden/ops folder: <see cref="RepoVariable"/> when set (and then nothing else);
    /// otherwise the first of <paramref name="starts"/>, the current directory and the program's
    /// directory that has tests/golden/ops/manifest.json in it or in a parent. Throws
    /// <see cref="DirectoryNotFoundException"/> saying where it looked.
    /// </summary>
    public static string Find(params string?[] starts)
    {
        if (TryFind(out var dir, out var searched, starts)) return dir;
        throw new DirectoryNotFoundException(NotFoundMessage(searched));
    }

    /// <inheritdoc cref="Find"/>
    /// <param name="searched">What was searched, for a message (each entry says whether its parents were searched too).</param>
    public static bool TryFind([NotNullWhen(true)] out string? dir, out IReadOnlyList<string> searched, params string?[] starts)
    {
        var looked = new List<string>();
        searched = looked;
        var repo = Environment.GetEnvironmentVariable(RepoVariable);
        if (!string.IsNullOrEmpty(repo))
        {
            // An explicit location that is wrong must not be papered over by a search elsewhere.
            looked.Add($"{Path.GetFullPath(repo)} ({RepoVariable})");
            dir = OpsFolderAt(repo);
            return dir is not null;
        }
        var roots = starts.Append(Environment.CurrentDirectory).Append(AppContext.BaseDirectory)
            .Where(s => !string.IsNullOrEmpty(s)).Select(s => Path.GetFullPath(s!)).Distinct();
        foreach (var root in roots)
        {
            looked.Add($"{root} and its parents");
            for (var d = new DirectoryInfo(root); d is not null; d = d.Parent)
            {
                var ops = Path.Combine(d.FullName, RelativePath);
                if (File.Exists(Path.Combine(ops, ManifestName)))
                {
                    dir = ops;
                    return true;
                }
            }
        }
        dir = null;
        return false;
    }

    /// <summary>
    /// An explicitly given folder: either the cases folder itself (holding manifest.json) or a
    /// repository root with tests/golden/ops in it. Throws <see cref="DirectoryNotFoundException"/> otherwise.
    /// </summary>
    public static string FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        return OpsFolderAt(folder) ?? throw new DirectoryNotFoundException(
            $"golden ops: {Path.GetFullPath(folder)} has neither {ManifestName} nor {Path.Combine(RelativePath, ManifestName)}.");
    }

    public static string NotFoundMessage(IEnumerable<string> searched) =>
        $"golden ops: no {Path.Combine(RelativePath, ManifestName)} found; searched {string.Join("; ", searched)}. " +
        $"Set {RepoVariable} to the repository root.";

    private static string? OpsFolderAt(string folder)
    {
        var full = Path.GetFullPath(folder);
        if (File.Exists(Path.Combine(full, ManifestName))) return full;
        var ops = Path.Combine(full, RelativePath);
        return File.Exists(Path.Combine(ops, ManifestName)) ? ops : null;
    }

    // ---- the cases ------------------------------------------------------------------------------

    /// <summary>The manifest of <paramref name="dir"/> (the caller disposes it).</summary>
    public static JsonDocument ReadManifest(string dir)
    {
        var file = Path.Combine(dir, ManifestName);
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(file));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The case names in manifest order.</summary>
    public static IReadOnlyList<string> CaseNames(string dir)
    {
        using var doc = ReadManifest(dir);
        return Cases(doc, dir).Select(c => c.GetProperty("name").GetString()
            ?? throw new InvalidDataException($"{Path.Combine(dir, ManifestName)}: a case has a null name.")).ToArray();
    }

    /// <summary>
    /// Runs one case on <paramref name="backend"/>. Never throws for a failing case: numerical
    /// mismatches, an op the runner does not know, missing files and exceptions from the engine all
    /// come back as a failed <see cref="GoldenResult"/>. Throws only for a case name not in the manifest
    /// or when called with gradients disabled.
    /// </summary>
    public static GoldenResult Run(string dir, string caseName, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (!Autograd.IsGradEnabled)
            throw new InvalidOperationException("GoldenOps.Run compares gradients: call it outside Autograd.NoGrad().");
        using var doc = ReadManifest(dir);
        var found = Cases(doc, dir).Where(e => e.TryGetProperty("name", out var n) && n.GetString() == caseName).ToArray();
        if (found.Length != 1)
            throw new ArgumentException($"golden ops: {Path.Combine(dir, ManifestName)} has {found.Length} cases named '{caseName}'.");
        var c = found[0];

        var comparisons = new List<GoldenComparison>();
        string op = "?";
        try
        {
            op = c.GetProperty("op").GetString() ?? "?";
            string? problem = RunCase(dir, c, op, backend, comparisons);
            return Summarize(caseName, op, comparisons, problem);
        }
        catch (Exception e)
        {
            string where = comparisons.Count == 0 ? "" : $" (after comparing {string.Join(", ", comparisons.Select(x => x.Tensor))})";
            return Summarize(caseName, op, comparisons, $"{e.GetType().Name}: {e.Message}{where}") with { Exception = e };
        }
    }

    /// <summary>Runs the case, appending a comparison per tensor; returns a problem that is not one tensor's, or null.</summary>
    private static string? RunCase(string dir, JsonElement c, string op, Backend backend, List<GoldenComparison> comparisons)
    {
        if (!Runners.TryGetValue(op, out var run))
            return $"manifest op '{op}' has no engine runner in {nameof(GoldenOps)} (known: {string.Join(", ", Runners.Keys)}).";
        var p = c.GetProperty("params");
        var constants = ConstantInputs.GetValueOrDefault(op) ?? [];
        var gradFiles = c.GetProperty("grads").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetString()!);

        // The caller disposes the backend after this scope has returned the tensors to its pool.
        using var scope = new TensorScope();
        var inputs = new Dictionary<string, Tensor>();
        foreach (var input in c.GetProperty("inputs").EnumerateObject())
        {
            var (data, shape) = Load(dir, input.Value.GetString()!);
            bool grad = gradFiles.ContainsKey(input.Name) && !constants.Contains(input.Name);
            inputs[input.Name] = Tensor.FromArray(data, shape, requiresGrad: grad, backend: backend);
        }

        var y = run(p, inputs);
        var (expected, expectedShape) = Load(dir, c.GetProperty("output").GetString()!);
        var output = GoldenComparison.Of("output", y.ToArray(), y.Shape, expected, expectedShape);
        comparisons.Add(output);
        if (double.IsNaN(output.RelError)) return null; // wrong shape: PyTorch's dy cannot be applied.

        if (c.TryGetProperty("extra", out var extra))
        {
            // Training-mode batch norm: the running statistics were updated in place.
            foreach (var e in extra.EnumerateObject())
            {
                var (want, wantShape) = Load(dir, e.Value.GetString()!);
                var t = inputs[e.Name];
                comparisons.Add(GoldenComparison.Of($"{e.Name} after update", t.ToArray(), t.Shape, want, wantShape));
            }
        }

        var (dy, dyShape) = Load(dir, c.GetProperty("grad_output").GetString()!);
        // Scalars may be [] or [1] (see GoldenComparison.Of); the upstream gradient takes y's own shape then.
        y.Backward(Tensor.FromArray(dy, dy.Length == 1 && y.Length == 1 ? y.Shape : dyShape, backend: backend));

        int compared = 0;
        foreach (var (name, file) in gradFiles)
        {
            if (constants.Contains(name)) continue;
            compared++;
            var g = inputs[name].Grad;
            if (g is null)
            {
                comparisons.Add(GoldenComparison.Missing($"d/d{name}", "no gradient reached this input"));
                continue;
            }
            var (want, wantShape) = Load(dir, file);
            comparisons.Add(GoldenComparison.Of($"d/d{name}", g.ToArray(), g.Shape, want, wantShape));
        }
        return compared == 0 ? "no gradient was compared (the manifest lists none that the engine differentiates)." : null;
    }

    private static GoldenResult Summarize(string caseName, string op, List<GoldenComparison> comparisons, string? problem)
    {
        var failing = comparisons.Where(x => !x.Pass).ToArray();
        var numbered = comparisons.Where(x => !double.IsNaN(x.RelError)).ToArray();
        double worst = numbered.Length == 0 ? double.NaN : numbered.Max(x => x.RelError);
        string? worstTensor = failing.FirstOrDefault()?.Tensor
            ?? numbered.FirstOrDefault(x => x.RelError == worst)?.Tensor;
        var problems = failing.Select(x => x.Problem!).ToList();
        if (problem is not null) problems.Add(problem);
        bool pass = problems.Count == 0 && comparisons.Count > 0;
        if (!pass && problems.Count == 0) problems.Add("nothing was compared.");
        return new GoldenResult(caseName, op, worst, worstTensor, pass, pass ? null : string.Join("; ", problems))
        {
            Comparisons = comparisons.ToArray(),
        };
    }

    private static IEnumerable<JsonElement> Cases(JsonDocument doc, string dir) =>
        doc.RootElement.TryGetProperty("cases", out var cases) && cases.ValueKind == JsonValueKind.Array
            ? cases.EnumerateArray()
            : throw new InvalidDataException($"{Path.Combine(dir, ManifestName)}: no 'cases' array.");

    private static (float[] Data, int[] Shape) Load(string dir, string file) => Npy.Read(Path.Combine(dir, file));

    private static int Int(JsonElement p, string name) => p.GetProperty(name).GetInt32();

    private static float Float(JsonElement p, string name) => (float)p.GetProperty(name).GetDouble();
}
