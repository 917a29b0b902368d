using System.Globalization;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Colorization;
using ILGpuSat.Training.Runs;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Runs;

/// <summary>The GAN colorizer's training loop on a toy colour mapping written here (no ../shared needed).</summary>
[TestFixture, NonParallelizable]
public sealed class GanColorizerTrainerTests
{
    private string _folder = "";
    private string _images = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-gan-").FullName;
        _images = Path.Combine(_folder, "images");
        Directory.CreateDirectory(_images);
        // A toy mapping from lightness to colour: dark pixels are blue, bright ones orange. The grey the trainer makes
        // (L* / 100) determines the colour, so a generator can learn it exactly.
        for (int k = 0; k < 12; k++)
        {
            int s = 48;
            var t = Enumerable.Range(0, s * s).Select(i => 0.5 + 0.45 * Math.Sin((i % s) * (0.1 + 0.02 * k) + (i / s) * 0.13 * (k % 3 + 1))).ToArray();
            float[] Plane(Func<double, double> f) => t.Select(v => (float)f(v)).ToArray();
            var rgb = new[] { Plane(v => 0.15 + 0.8 * v), Plane(v => 0.2 + 0.5 * v), Plane(v => 0.75 - 0.6 * v) };
            ImageWriter.Write(Path.Combine(_images, $"toy{k:D2}.png"), new RasterImage(s, s, rgb));
        }
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private GanTrainConfig Config(long steps) => new()
    {
        Data = [_images], Model = new GanColorizerConfig { Filters = 8, DiscriminatorWidth = 0.0625, Window = 32 },
        Batch = 6, Steps = steps, GeneratorLr = 2e-3, DiscriminatorLr = 2e-4, L2Start = 20, L2FadeSteps = steps, HeldOut = 0.2,
        LogInterval = 10, ValidateInterval = (int)steps, ValidationWindows = 8, CheckpointInterval = 10, Seed = 3,
    };

    private string Run(string name) => Path.Combine(_folder, name);

    [Test]
    public void TheGeneratorLearnsAToyColourMappingAndBothLossesAndTheAccuracyAreLogged()
    {
        using var backend = new CpuBackend();
        string run = Run("learn");
        GanColorizerTrainer.Start(Config(160), run, backend);
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(rows[0], Is.EqualTo("step,loss_d,loss_g,adversarial,l2,d_accuracy"));
        var l2 = rows.Skip(1).Select(r => double.Parse(r.Split(',')[4], CultureInfo.InvariantCulture)).ToArray();
        TestContext.Out.WriteLine("L2 per interval: " + string.Join(", ", l2.Select(v => v.ToString("G3", CultureInfo.InvariantCulture))));
        Assert.That(l2[^1], Is.LessThan(0.3 * l2[0]), "the colour error falls");
        var accuracy = rows.Skip(1).Select(r => double.Parse(r.Split(',')[5], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(accuracy, Is.All.InRange(0.0, 1.0));
        var validation = File.ReadAllLines(Path.Combine(run, "validation.csv"))[1].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        TestContext.Out.WriteLine($"held-out colour PSNR {validation[1]:F2} dB, grey as RGB {validation[2]:F2} dB");
        Assert.That(validation[1], Is.GreaterThan(validation[2] + 5), "the colours are learned, well beyond showing the grey");
        Assert.That(File.Exists(Path.Combine(run, "losses.png")) && File.Exists(Path.Combine(run, "accuracy.png")), Is.True);
    }

    [Test]
    public void AKilledRunResumesToTheSameWeightsOfBothNetworks()
    {
        using var backend = new CpuBackend();
        string whole = Run("whole"), killed = Run("killed");
        var config = Config(20);
        GanColorizerTrainer.Start(config, whole, backend);
        using var cts = new CancellationTokenSource();
        GanColorizerTrainer.Start(config, killed, backend, line => { if (line.StartsWith("step 10/", StringComparison.Ordinal)) cts.Cancel(); }, cts.Token);
        var store = new CheckpointStore(killed);
        Assert.That(store.ReadLatest().Pointer.Step, Is.EqualTo(10));
        Assert.That(store.ReadLatest().Pointer.Files.Select(f => f.Name), Has.Some.EndsWith("optim-g.safetensors").And.Some.EndsWith("optim-d.safetensors"));
        GanColorizerTrainer.Resume(killed, backend);
        var a = Engine.IO.SafeTensors.Read(Path.Combine(new CheckpointStore(whole).Folder, CheckpointStore.WeightsName(20))).Tensors;
        var b = Engine.IO.SafeTensors.Read(Path.Combine(store.Folder, CheckpointStore.WeightsName(20))).Tensors;
        Assert.That(b.Select(t => t.Name), Is.EqualTo(a.Select(t => t.Name)));
        Assert.That(a.Select(t => t.Name), Has.Some.StartsWith("generator.").And.Some.StartsWith("discriminator."));
        for (int i = 0; i < a.Count; i++) Assert.That(b[i].Value.Data, Is.EqualTo(a[i].Value.Data), a[i].Name);
        Assert.That(store.StepsOnDisk(), Is.EqualTo(new long[] { 10, 20 }), "older sets pruned, optimizer parts included");
    }

    [Test]
    public void BadConfigurationsAreNamed()
    {
        Assert.That(() => (Config(10) with { Data = [] }).Validate(), Throws.ArgumentException.With.Message.Contains("data"));
        Assert.That(() => (Config(10) with { Model = new GanColorizerConfig { Window = 40 } }).Validate(), Throws.ArgumentException.With.Message.Contains("multiple of 32"));
        Assert.That(() => (Config(10) with { Model = new GanColorizerConfig { Mix = 1.5f } }).Validate(), Throws.ArgumentException.With.Message.Contains("convex"));
        Assert.That(() => (Config(10) with { Grey = Path.Combine(_folder, "missing") }).Validate(), Throws.ArgumentException.With.Message.Contains("grey"));
        Assert.That(Config(100).L2Weight(0), Is.EqualTo(20));
        Assert.That(Config(100).L2Weight(50), Is.EqualTo(10));
        Assert.That(Config(100).L2Weight(150), Is.EqualTo(0), "faded out");
    }
}
