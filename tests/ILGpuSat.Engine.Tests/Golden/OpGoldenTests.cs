using System.Runtime.ExceptionServices;
using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Verification;
using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// Every case in tests/golden/ops/manifest.json run by <see cref="GoldenOps"/> through <see cref="F"/>
/// with autograd on the CPU backend: the forward output, the running statistics (batch norm, training
/// mode) and the gradient of sum(output * dy) with respect to every input PyTorch differentiated, each
/// within <see cref="GoldenOps.Tolerance"/> (see <see cref="GoldenComparison.RelativeError"/> for the
/// metric). The same runner backs `ilgpusat selftest`; this fixture also checks that it can fail.
/// </summary>
[TestFixture]
public class OpGoldenTests
{
    private static string OpsDir => GoldenFiles.Path("ops");

    public static IEnumerable<TestCaseData> Cases() => CaseNames().Select(n => new TestCaseData(n).SetName($"Golden_{n}"));

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string caseName)
    {
        using var backend = new CpuBackend();
        var result = GoldenOps.Run(OpsDir, caseName, backend);
        Report(result);
        if (result.Exception is not null) ExceptionDispatchInfo.Capture(result.Exception).Throw();
        Assert.That(result.Pass, Is.True, $"{caseName}: {result.Error}");
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
            var result = GoldenOps.Run(OpsDir, name, backend);
            Report(result);
            if (!result.Pass) failures.Add($"{name}: {result.Error}");
        }
        TestContext.Out.WriteLine($"{backend.Name}: {count - failures.Count}/{count} golden cases match.");
        Assert.That(failures, Is.Empty, $"{failures.Count} of {count} golden cases fail on {backend.Name}:\n" + string.Join("\n", failures));
    }

    private static void Report(GoldenResult result)
    {
        foreach (var c in result.Comparisons)
            TestContext.Out.WriteLine($"{result.Case} {c.Tensor}: max rel error {c.RelError:E2}{(c.Pass ? "" : " FAIL")}");
    }

    private static IReadOnlyList<string> CaseNames() => GoldenOps.CaseNames(OpsDir);

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
        // ...which is why the golden runner passes exactly these as constants and skips their reference gradients.
        Assert.That(GoldenOps.ConstantInputs.Keys, Is.EquivalentTo(new[] { "soft_cross_entropy" }));
        Assert.That(GoldenOps.ConstantInputs["soft_cross_entropy"], Is.EquivalentTo(new[] { "target", "weights" }));
    }

    [Test]
    public void ManifestCoversEveryRequiredOpAndNothingElse()
    {
        using var doc = GoldenFiles.Manifest("ops");
        var manifestRequired = doc.RootElement.GetProperty("required_ops").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var caseOps = doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => e.GetProperty("op").GetString()!).Distinct().ToArray();
        Assert.That(manifestRequired, Is.EquivalentTo(GoldenOps.RequiredOps), "required_ops in the manifest vs GoldenOps.RequiredOps");
        Assert.That(caseOps, Is.EquivalentTo(GoldenOps.RequiredOps), "ops that have at least one case");
        Assert.That(GoldenOps.RunnableOps, Is.EquivalentTo(GoldenOps.RequiredOps), "ops GoldenOps knows how to run");
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

    [Test]
    public void RunnerFailsAnUnknownOpNamingIt()
    {
        WithScratchManifest("""
            { "cases": [ { "name": "bogus", "op": "frobnicate", "params": {}, "inputs": {}, "grads": {},
                           "output": "none.npy", "grad_output": "none.npy" } ] }
            """, dir =>
        {
            Assert.That(GoldenOps.CaseNames(dir), Is.EqualTo(new[] { "bogus" }));
            using var backend = new CpuBackend();
            var r = GoldenOps.Run(dir, "bogus", backend);
            Assert.That(r.Pass, Is.False);
            Assert.That(r.Op, Is.EqualTo("frobnicate"));
            Assert.That(r.Error, Does.Contain("'frobnicate'").And.Contain("no engine runner"));
            Assert.Throws<ArgumentException>(() => GoldenOps.Run(dir, "not-a-case", backend));
        });
    }

    /// <summary>A case whose reference gradient is wrong (the input itself) fails on that gradient alone, as do missing files.</summary>
    [Test]
    public void RunnerFailsAWrongReferenceNamingTheTensor()
    {
        const string c = "relu_n2_c3_7x9";
        WithScratchManifest($$"""
            { "cases": [
              { "name": "wrong_grad", "op": "relu", "params": {}, "inputs": { "x": "{{c}}.in.x.npy" }, "grads": { "x": "{{c}}.in.x.npy" },
                "output": "{{c}}.out.npy", "grad_output": "{{c}}.gout.npy" },
              { "name": "missing_file", "op": "relu", "params": {}, "inputs": { "x": "{{c}}.in.x.npy" }, "grads": { "x": "{{c}}.grad.x.npy" },
                "output": "absent.npy", "grad_output": "{{c}}.gout.npy" } ] }
            """, dir =>
        {
            foreach (var f in new[] { "in.x", "out", "gout", "grad.x" })
                File.Copy(GoldenFiles.Path("ops", $"{c}.{f}.npy"), Path.Combine(dir, $"{c}.{f}.npy"));
            using var backend = new CpuBackend();
            var wrong = GoldenOps.Run(dir, "wrong_grad", backend);
            Assert.That(wrong.Pass, Is.False);
            Assert.That(wrong.WorstTensor, Is.EqualTo("d/dx"));
            Assert.That(wrong.WorstRelError, Is.GreaterThan(GoldenOps.Tolerance));
            Assert.That(wrong.Comparisons.Select(x => (x.Tensor, x.Pass)), Is.EqualTo(new[] { ("output", true), ("d/dx", false) }));
            Assert.That(wrong.Error, Does.StartWith("d/dx: max rel error"));

            var missing = GoldenOps.Run(dir, "missing_file", backend);
            Assert.That(missing.Pass, Is.False);
            Assert.That(missing.Exception, Is.Not.Null);
            Assert.That(missing.Error, Does.Contain("absent.npy"));
        });
    }

    /// <summary>The runner reads the op goldens with the engine's Npy; it must read them exactly as the independent reader does.</summary>
    [Test]
    public void EngineNpyReadsEveryOpGoldenFileLikeTheIndependentReader()
    {
        var files = Directory.GetFiles(OpsDir, "*.npy");
        Assert.That(files, Is.Not.Empty);
        foreach (var f in files)
        {
            var (a, aShape) = Npy.Read(f);
            var (b, bShape) = NpyFile.Read(f);
            Assert.That(aShape, Is.EqualTo(bShape), f);
            Assert.That(a.AsSpan().SequenceEqual(b), Is.True, f);
        }
    }

    [Test]
    public void GoldenFolderIsFoundFromAnyFolderInsideTheRepositoryAndExplicitFoldersAreChecked()
    {
        var repo = Path.GetFullPath(Path.Combine(OpsDir, "..", "..", ".."));
        Assert.That(GoldenOps.FromFolder(OpsDir), Is.EqualTo(Path.GetFullPath(OpsDir)));
        Assert.That(GoldenOps.FromFolder(repo), Is.EqualTo(Path.GetFullPath(OpsDir)));
        var scratch = Directory.CreateTempSubdirectory("golden-none-");
        try
        {
            var e = Assert.Throws<DirectoryNotFoundException>(() => GoldenOps.FromFolder(scratch.FullName));
            Assert.That(e!.Message, Does.Contain(scratch.FullName));
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(GoldenOps.RepoVariable)))
            {
                Assert.That(GoldenOps.Find(Path.Combine(OpsDir, "..")), Is.EqualTo(Path.GetFullPath(OpsDir)));
                Assert.That(GoldenOps.TryFind(out var found, out var searched, scratch.FullName), Is.EqualTo(found is not null));
                Assert.That(searched[0], Does.StartWith(scratch.FullName), "the message says where it looked, starting with the given folder");
            }
        }
        finally { scratch.Delete(recursive: true); }
    }

    private static void WithScratchManifest(string manifest, Action<string> test)
    {
        var dir = Directory.CreateTempSubdirectory("golden-scratch-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "manifest.json"), manifest);
            test(dir.FullName);
        }
        finally { dir.Delete(recursive: true); }
    }

    private static string FirstCaseOutput()
    {
        using var doc = GoldenFiles.Manifest("ops");
        return doc.RootElement.GetProperty("cases")[0].GetProperty("output").GetString()!;
    }

    private static (float[] Data, int[] Shape) Load(string file) => NpyFile.Read(GoldenFiles.Path("ops", file));

    private static int Int(JsonElement p, string name) => p.GetProperty(name).GetInt32();
}
