using System.Globalization;
using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Inference.Misr;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Misr;
using NUnit.Framework;
using Spectre.Console;

namespace ILGpuSat.Inference.Tests;

/// <summary>`ilgpusat misr` and <see cref="MisrEnhancer"/> end to end on tiny scenes in the PROBA-V layout with a tiny DeepSUM.</summary>
[TestFixture, NonParallelizable]
public sealed class MisrCommandTests
{
    private static readonly DeepSumConfig Tiny = new() { Frames = 3, Filters = 4, SisrLayers = 2, FilterSize = 3, FusionLayers = 1 };
    private string _folder = "";
    private string _model = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-misr-cli-").FullName;
        using var backend = new CpuBackend();
        using var net = new DeepSum(backend, 5, Tiny);
        _model = Path.Combine(_folder, "deepsum.safetensors");
        SafeTensors.Save(_model, net.StateDict(), new Dictionary<string, string>
        {
            ["ilgpusat.model"] = "deepsum", ["ilgpusat.scale"] = "3",
            ["ilgpusat.config"] = JsonSerializer.Serialize(Tiny, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }),
        });
        WriteScene("imgset0001", looks: 4);
        WriteScene("imgset0002", looks: 2, hr: false); // too few looks for 3 frames, and a test scene (no HR)
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private void WriteScene(string name, int looks, bool hr = true)
    {
        string dir = Path.Combine(_folder, "scenes", name);
        Directory.CreateDirectory(dir);
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) & 0xffff);
        for (int k = 0; k < looks; k++)
        {
            var look = Enumerable.Range(0, 64).Select(i => (float)((3000 + 4000 * Math.Sin(i * 0.3 + k) + 200 * rng.NextDouble()) / 65535)).ToArray();
            ImageWriter.Write(Path.Combine(dir, $"LR{k:D3}.png"), new RasterImage(8, 8, [look]), new WriteOptions { BitDepth = 16 });
            ImageWriter.Write(Path.Combine(dir, $"QM{k:D3}.png"), new RasterImage(8, 8, [Enumerable.Range(0, 64).Select(i => i % (k + 3) == 0 ? 0f : 1f).ToArray()]));
        }
        if (!hr) return;
        var truth = Enumerable.Range(0, 24 * 24).Select(i => (float)((3000 + 4000 * Math.Sin(i % 24 * 0.1)) / 65535)).ToArray();
        ImageWriter.Write(Path.Combine(dir, "HR.png"), new RasterImage(24, 24, [truth]), new WriteOptions { BitDepth = 16 });
        ImageWriter.Write(Path.Combine(dir, "SM.png"), new RasterImage(24, 24, [Enumerable.Repeat(1f, 24 * 24).ToArray()]));
    }

    private (int Code, string Output) Cli(params string[] args) => Raw([.. args, "--model", _model]);

    private static (int Code, string Output) Raw(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        try { return (Tools.Program.Main([.. args, "--device", "cpu"]), writer.ToString()); }
        finally { AnsiConsole.Console = previous; }
    }

    [Test]
    public void AFolderOfScenesGivesOne16BitSrPerSceneAndNamesTheSceneThatFailed()
    {
        string output = Path.Combine(_folder, "out");
        var (code, text) = Cli("misr", Path.Combine(_folder, "scenes"), "-o", output);
        Assert.That(code, Is.EqualTo(1), text);
        Assert.That(text, Does.Contain("imgset0002").And.Contain("2 LR look(s)").And.Contain("super-resolved 1 scene(s)"));
        var sr = ImageReader.Read(Path.Combine(output, "imgset0001.png"), new ReadOptions { Stretch = StretchMode.FullRange });
        Assert.That((sr.Width, sr.Height, sr.SourceBitDepth), Is.EqualTo((24, 24, 16)));
        Assert.That(sr.Planes[0].All(float.IsFinite), Is.True);
        Assert.That(File.Exists(Path.Combine(output, "imgset0002.png")), Is.False, "nothing is written for a failed scene");
        (code, text) = Cli("misr", Path.Combine(_folder, "scenes", "imgset0001"), "-o", output);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(text, Does.Contain("kept"));
    }

    [Test]
    public void TheEnhancerFusesTheClearestLooksAndRefusesOtherModels()
    {
        using var backend = new CpuBackend();
        using var enhancer = MisrEnhancer.Load(_model, backend);
        Assert.That((enhancer.Scale, enhancer.Config.Frames), Is.EqualTo((3, 3)));
        var scene = ProbaVScene.Load(Path.Combine(_folder, "scenes", "imgset0001"));
        var sr = enhancer.SuperResolve(scene);
        Assert.That(sr, Has.Length.EqualTo(24 * 24));
        Assert.That(sr.All(v => v is >= 0f and <= 1f), Is.True);
        var few = ProbaVScene.Load(Path.Combine(_folder, "scenes", "imgset0002"));
        var e = Assert.Throws<ArgumentException>(() => enhancer.SuperResolve(few));
        Assert.That(e!.Message, Does.Contain("2 looks").And.Contain("3"));

        var saved = TestModels.Save(_folder, "srcnn", new ILGpuSat.Networks.SrcnnConfig(Width: 0.125));
        var bad = Assert.Throws<InvalidDataException>(() => MisrEnhancer.Load(saved, backend));
        Assert.That(bad!.Message, Does.Contain("not a DeepSUM weights file"));
    }

    [Test]
    public void EvalMisrTabulatesTheBaselinesAndTheModelPerScene()
    {
        string output = Path.Combine(_folder, "eval");
        File.WriteAllLines(Path.Combine(_folder, "scenes", "norm.csv"), ["imgset0001 30.5", "imgset0002 31.0"]);
        var (code, text) = Raw("eval", "--misr", Path.Combine(_folder, "scenes"), "--models", _model, "--out", output);
        Assert.That(code, Is.EqualTo(0), text);
        var summary = File.ReadAllLines(Path.Combine(output, "misr_summary.md"));
        Assert.That(summary[0], Does.Contain("(1 scene)"), "only imgset0001 has an HR");
        Assert.That(summary.Skip(2).Select(l => l.Split('|')[1].Trim()), Is.EqualTo(new[] { "bicubic (clearest look)", "challenge baseline", "DeepSUM" }));
        var rows = File.ReadAllLines(Path.Combine(output, "misr_per_scene.csv"));
        Assert.That(rows, Has.Length.EqualTo(1 + 3));
        // Scores use norm.csv's N: the baseline's score is N / its own cPSNR, not 1.
        var baseline = rows.Single(r => r.StartsWith("imgset0001,\"challenge", StringComparison.Ordinal)).Split(',');
        double cpsnr = double.Parse(baseline[2], System.Globalization.CultureInfo.InvariantCulture), score = double.Parse(baseline[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(score, Is.EqualTo(30.5 / cpsnr).Within(1e-9));
    }

    [Test]
    public void TheBundledDeepSumLoadsAndFusesNineLooks()
    {
        using var backend = new CpuBackend();
        using var enhancer = MisrEnhancer.LoadDefault(backend);
        Assert.That((enhancer.Scale, enhancer.Config.Frames, enhancer.Config.UseRegNet, enhancer.IsSingleImage), Is.EqualTo((3, 9, true, false)));
        Assert.That(enhancer.Metadata["ilgpusat.stage"], Is.EqualTo("Joint"));
        var rng = new Random(3);
        var frames = Enumerable.Range(0, 9).Select(k => new ProbaVFrame($"LR{k:D3}",
            Enumerable.Range(0, 100).Select(i => (float)(0.4 + 0.2 * Math.Sin(i * 0.7 + k * 0.1) + 0.01 * rng.NextDouble())).ToArray(),
            Enumerable.Repeat(true, 100).ToArray())).ToList();
        var sr = enhancer.SuperResolve(ProbaVScene.Create("tiny", 10, 10, frames));
        Assert.That(sr, Has.Length.EqualTo(30 * 30));
        Assert.That(sr.All(v => v is > 0f and < 1f), Is.True);
    }
}
