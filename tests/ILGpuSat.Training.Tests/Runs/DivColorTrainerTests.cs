using System.Globalization;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks.Colorization;
using ILGpuSat.Training.Runs;
using NUnit.Framework;

namespace ILGpuSat.Training.Tests.Runs;

/// <summary>divcolor's two-stage training on toy images written here (no ../shared needed).</summary>
[TestFixture, NonParallelizable]
public sealed class DivColorTrainerTests
{
    private string _folder = "";
    private string _images = "";

    [OneTimeSetUp]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ilgpusat-divcolor-").FullName;
        _images = Path.Combine(_folder, "images");
        Directory.CreateDirectory(_images);
        // Two colourings of the same lightness: half the images are reddish, half bluish, and nothing in the grey
        // says which. The prior mean can only guess the average; a VAE whose code carries the hue reconstructs both,
        // and a mixture over the codes can hold both hypotheses.
        for (int k = 0; k < 16; k++)
        {
            int s = 32, n = s * s;
            var l = Enumerable.Range(0, n).Select(i => (float)(55 + 20 * Math.Sin((i % s) * (0.2 + 0.03 * k)) * Math.Cos((i / s) * 0.15))).ToArray();
            float sign = k % 2 == 0 ? 1 : -1;
            var a = Enumerable.Repeat(30f * sign, n).ToArray();
            var b = Enumerable.Repeat(-25f * sign, n).ToArray();
            var rgb = new[] { new float[n], new float[n], new float[n] };
            Lab.LabToRgb(l, a, b, rgb[0], rgb[1], rgb[2]);
            ImageWriter.Write(Path.Combine(_images, $"toy{k:D2}.png"), new RasterImage(s, s, rgb));
        }
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private DivColorTrainConfig Config(long vae, long mdn) => new()
    {
        Data = [_images], Model = new DivColorConfig { Size = 16, Widths = [6, 8, 8, 8], Z = 4, Components = 2 },
        Batch = 8, VaeSteps = vae, MdnSteps = mdn, VaeLr = 3e-3, MdnLr = 1e-2, MinFactor = 1, PcaFields = 64, PcaComponents = 4,
        KlWarmupSteps = vae / 3, MdnSigma = 0.3, HeldOut = 0.25, LogInterval = 5, ValidateInterval = (int)vae, ValidationFields = 16, CheckpointInterval = 5, Seed = 2,
    };

    private string Run(string name) => Path.Combine(_folder, name);

    private static double[][] Csv(string path) => File.ReadAllLines(path).Skip(1)
        .Select(r => r.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();

    [Test]
    public void TheVaeReconstructsWhatTheGreyCannotTellAndTheMdnNllFalls()
    {
        using var backend = new CpuBackend();
        string run = Run("learn");
        var lines = new List<string>();
        DivColorTrainer.Start(Config(240, 80) with { KeepLast = 100 }, run, backend, lines.Add);
        TestContext.Out.WriteLine(string.Join("\n", lines.Where(l => l.Contains("validation"))));
        Assert.That(File.ReadLines(Path.Combine(run, "metrics.csv")).First(), Is.EqualTo("step,loss,histogram,mahalanobis,gradient,kl,nll"));
        var validation = Csv(Path.Combine(run, "validation.csv"));
        var vaeEnd = validation.Single(r => r[0] == 240);
        Assert.That(vaeEnd[1], Is.LessThan(0.5 * vaeEnd[2]), "the code carries the hue: reconstruction well below the prior mean's error");
        Assert.That(vaeEnd[3], Is.NaN, "no MDN yet");
        var metrics = Csv(Path.Combine(run, "metrics.csv"));
        var nll = metrics.Where(r => r[0] > 240).Select(r => r[6]).ToArray();
        Assert.That(nll[^1], Is.LessThan(nll[0] - 1), "the MDN's NLL falls");
        Assert.That(metrics.Where(r => r[0] <= 240).Select(r => r[6]), Is.All.NaN, "the VAE stage logs no NLL");
        var end = validation[^1];
        Assert.That(end[0], Is.EqualTo(320));
        Assert.That(end[5], Is.LessThanOrEqualTo(end[4]), "the best of K is no worse than the top hypothesis");
        Assert.That(end[5], Is.LessThan(0.75 * vaeEnd[2]), "one of the MDN's two hypotheses finds the hue the grey does not tell");
        Assert.That(end[6], Is.GreaterThan(0), "the hypotheses differ");
        foreach (var file in new[] { "vae_losses.png", "mdn_nll.png", DivColorTrainer.PcaName }) Assert.That(File.Exists(Path.Combine(run, file)), Is.True, file);
        var metadata = Engine.IO.SafeTensors.ReadMetadata(Path.Combine(new CheckpointStore(run).Folder, CheckpointStore.WeightsName(320)));
        Assert.That(metadata[DivColorFile.StageKey], Is.EqualTo(DivColorFile.MdnStage));
        Assert.That(metadata[ColorizerGrey.Key], Is.EqualTo(ColorizerGrey.Lightness));
        var vaeOnly = Engine.IO.SafeTensors.ReadMetadata(Path.Combine(new CheckpointStore(run).Folder, CheckpointStore.WeightsName(240)));
        Assert.That(vaeOnly[DivColorFile.StageKey], Is.EqualTo(DivColorFile.VaeStage), "the last VAE step's checkpoint has no trained MDN");
        Assert.That(File.Exists(Path.Combine(run, DivColorTrainer.VarianceName)), Is.True);
    }

    [Test]
    public void AKilledRunResumesToTheSameWeightsAcrossTheStages()
    {
        using var backend = new CpuBackend();
        string whole = Run("whole"), killed = Run("killed");
        var config = Config(10, 10) with { KlWarmupSteps = 4, ValidateInterval = 0 };
        DivColorTrainer.Start(config, whole, backend);
        using var cts = new CancellationTokenSource();
        DivColorTrainer.Start(config, killed, backend, line => { if (line.StartsWith("step 15/", StringComparison.Ordinal)) cts.Cancel(); }, cts.Token);
        var store = new CheckpointStore(killed);
        Assert.That(store.ReadLatest().Pointer.Step, Is.EqualTo(15));
        Assert.That(store.ReadLatest().Pointer.Files.Select(f => f.Name), Has.Some.EndsWith("optim-vae.safetensors").And.Some.EndsWith("optim-mdn.safetensors"));
        DivColorTrainer.Resume(killed, backend);
        var a = Engine.IO.SafeTensors.Read(Path.Combine(new CheckpointStore(whole).Folder, CheckpointStore.WeightsName(20))).Tensors;
        var b = Engine.IO.SafeTensors.Read(Path.Combine(store.Folder, CheckpointStore.WeightsName(20))).Tensors;
        Assert.That(b.Select(t => t.Name), Is.EqualTo(a.Select(t => t.Name)));
        for (int i = 0; i < a.Count; i++) Assert.That(b[i].Value.Data, Is.EqualTo(a[i].Value.Data), a[i].Name);
        Assert.That(File.ReadAllText(Path.Combine(killed, "metrics.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(whole, "metrics.csv"))));
    }

    [Test]
    public void BadConfigurationsAreNamedAndTheWarmupRamps()
    {
        Assert.That(() => (Config(10, 5) with { Data = [] }).Validate(), Throws.ArgumentException.With.Message.Contains("data"));
        Assert.That(() => (Config(10, 5) with { PcaFields = 4 }).Validate(), Throws.ArgumentException.With.Message.Contains("pcaFields"));
        Assert.That(() => (Config(10, 5) with { MdnSigma = 0 }).Validate(), Throws.ArgumentException.With.Message.Contains("mdnSigma"));
        Assert.That(() => (Config(10, 5) with { Model = new DivColorConfig { Size = 40 } }).Validate(), Throws.ArgumentException.With.Message.Contains("multiple of 16"));
        var c = Config(300, 10) with { KlWarmupSteps = 100, KlWeight = 2 };
        Assert.That(c.KlWeightAt(0), Is.EqualTo(0));
        Assert.That(c.KlWeightAt(50), Is.EqualTo(1));
        Assert.That(c.KlWeightAt(250), Is.EqualTo(2));
        Assert.That(c.Steps, Is.EqualTo(310));
    }
}
