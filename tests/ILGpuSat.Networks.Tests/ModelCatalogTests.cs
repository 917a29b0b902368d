using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>The catalog's names, configs (JSON, strict), builders, widths and each model's input/output shapes.</summary>
[TestFixture]
public class ModelCatalogTests
{
    private static readonly CpuBackend Cpu = new();

    [OneTimeTearDown]
    public void DisposeBackend() => Cpu.Dispose();

    public static IEnumerable<string> Names => ModelCatalog.All.Select(s => s.Name);

    [Test]
    public void NamesAreUniqueAndEveryConfigTypeIsItsOwn()
    {
        Assert.That(Names, Is.Unique);
        Assert.That(Names, Is.EquivalentTo(new[] { "liu2018", "liu2018-sr", "liu2018-color", "srcnn", "recurrent-residual", "regression-ed" }));
        foreach (var spec in ModelCatalog.All)
            Assert.That(spec.DefaultConfig.GetType(), Is.EqualTo(spec.ConfigType), spec.Name);
    }

    [Test]
    public void UnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelCatalog.Get("liu2019"));
        Assert.That(e!.Message, Does.Contain("liu2019").And.Contain("liu2018-sr").And.Contain("regression-ed"));
        Assert.Throws<ArgumentException>(() => ModelCatalog.Create("LIU2018", new LayerFactory(Cpu, 0)));
    }

    [TestCaseSource(nameof(Names))]
    public void ConfigJsonRoundTrips(string name)
    {
        var spec = ModelCatalog.Get(name);
        foreach (var config in new[] { spec.DefaultConfig, spec.DefaultConfig.WithWidth(0.375) })
        {
            string json = ModelCatalog.ConfigJson(config);
            Assert.That(ModelCatalog.ParseConfig(name, json), Is.EqualTo(config), json);
        }
        Assert.That(ModelCatalog.ParseConfig(name, "{}"), Is.EqualTo(spec.DefaultConfig), "absent fields take the defaults");
    }

    [Test]
    public void ConfigJsonIsCamelCase()
    {
        Assert.That(ModelCatalog.ConfigJson(new Liu2018Config(0.5, 0.25)), Is.EqualTo("{\"trunkWidth\":0.5,\"srWidth\":0.25}"));
        Assert.That(ModelCatalog.ParseConfig("recurrent-residual", "{\"recursions\":4}"), Is.EqualTo(new RecurrentResidualConfig(Recursions: 4)));
    }

    [TestCase("srcnn", "{\"width\":0.5,\"depth\":3}", "depth")]
    [TestCase("liu2018", "{\"width\":0.5}", "width")]
    [TestCase("srcnn", "{\"width\":\"0.5\"}", "width")]
    [TestCase("srcnn", "[0.5]", "srcnn")]
    [TestCase("srcnn", "{\"width\":0.5", "srcnn")]
    [TestCase("srcnn", "null", "null")]
    [TestCase("srcnn", "{\"width\":0}", "width")]
    [TestCase("srcnn", "{\"width\":-1}", "width")]
    [TestCase("liu2018", "{\"srWidth\":1e300}", "srWidth")]
    [TestCase("recurrent-residual", "{\"recursions\":0}", "recursions")]
    [TestCase("recurrent-residual", "{\"recursions\":2.5}", "recursions")]
    [TestCase("recurrent-residual", "{\"residualScale\":0}", "residualScale")]
    [TestCase("regression-ed", "{\"leakySlope\":1}", "leakySlope")]
    public void BadConfigsAreRefusedNamingTheProblem(string name, string json, string mentioned)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelCatalog.ParseConfig(name, json));
        Assert.That(e!.Message, Does.Contain(name).And.Contain(mentioned));
    }

    [Test]
    public void AConfigOfAnotherModelIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelCatalog.Create("liu2018", new LayerFactory(Cpu, 0), new Liu2018SrConfig()));
        Assert.That(e!.Message, Does.Contain("Liu2018Config").And.Contain("Liu2018SrConfig"));
        Assert.Throws<ArgumentException>(() => ModelCatalog.Create("srcnn", new LayerFactory(Cpu, 0), new SrcnnConfig(Width: double.NaN)));
    }

    /// <summary>Parameter counts grow roughly with the square of the width; channel counts never drop below one.</summary>
    [TestCaseSource(nameof(Names))]
    public void WidthMultiplierScalesTheParameterCount(string name)
    {
        var spec = ModelCatalog.Get(name);
        long Count(double w)
        {
            using var net = ModelCatalog.Create(name, new LayerFactory(Cpu, 0), spec.DefaultConfig.WithWidth(w));
            return net.Parameters().Sum(p => p.Length);
        }
        long narrow = Count(0.0625), wider = Count(0.125), tiny = Count(1e-3);
        double ratio = (double)wider / narrow;
        Assert.That(ratio, Is.InRange(2.5, 4.1), $"{name}: {narrow} -> {wider} parameters when the width doubles");
        Assert.That(tiny, Is.GreaterThan(0).And.LessThan(narrow), $"{name}: every layer keeps at least one channel");
    }

    /// <summary>Input and output shapes of every model at its smallest size and one more, at a small width.</summary>
    [TestCase("liu2018", 8, 16)]
    [TestCase("liu2018", 24, 32)]
    [TestCase("liu2018-sr", 5, 7)]
    [TestCase("liu2018-sr", 12, 4)]
    [TestCase("liu2018-color", 8, 8)]
    [TestCase("liu2018-color", 16, 40)]
    [TestCase("srcnn", 3, 5)]
    [TestCase("srcnn", 16, 12)]
    [TestCase("recurrent-residual", 3, 4)]
    [TestCase("recurrent-residual", 10, 6)]
    [TestCase("regression-ed", 16, 16)]
    [TestCase("regression-ed", 32, 16)]
    public void ForwardShapes(string name, int h, int w)
    {
        using var scope = new TensorScope();
        using var net = Small(name);
        var tasks = net.Tasks;
        int outH = net.Input == NetworkInput.LowResolution ? h * net.Scale : h;
        int outW = net.Input == NetworkInput.LowResolution ? w * net.Scale : w;
        using var _ = Autograd.NoGrad();
        var y = net.Forward(Tensor.Zeros([2, 1, h, w], Cpu));
        Assert.That(y.Sr?.Shape, Is.EqualTo(tasks.HasFlag(NetworkTasks.SuperResolution) ? new[] { 2, 1, outH, outW } : null), "sr");
        Assert.That(y.ColorLogits?.Shape,
            Is.EqualTo(tasks.HasFlag(NetworkTasks.ColorClassification) ? new[] { 2, 313, outH / 4, outW / 4 } : null), "color logits");
        Assert.That(y.Ab?.Shape, Is.EqualTo(tasks.HasFlag(NetworkTasks.ColorRegression) ? new[] { 2, 2, outH, outW } : null), "ab");
    }

    [TestCase("liu2018", 12, 16)]
    [TestCase("liu2018-color", 16, 20)]
    [TestCase("regression-ed", 24, 16)]
    public void SidesThatAreNotMultiplesOfSizeMultipleAreRefused(string name, int h, int w)
    {
        using var scope = new TensorScope();
        using var net = Small(name);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros([1, 1, h, w], Cpu)));
        Assert.That(e!.Message, Does.Contain($"{h}x{w}").And.Contain(net.SizeMultiple.ToString()));
        Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros([1, 3, 16, 16], Cpu)), "three channels");
    }

    /// <summary>
    /// Zero-initialised residual heads: an untrained liu2018, liu2018-sr or recurrent-residual returns its input,
    /// regression-ed the bicubic upsampling of its input and grey; the heads still get gradients.
    /// </summary>
    [TestCase("liu2018")]
    [TestCase("liu2018-sr")]
    [TestCase("recurrent-residual")]
    [TestCase("regression-ed")]
    public void UntrainedResidualModelsReturnTheirBase(string name)
    {
        using var scope = new TensorScope();
        using var net = ModelCatalog.Create(name, new LayerFactory(Cpu, 3), ModelCatalog.Get(name).DefaultConfig.WithWidth(0.125));
        var rng = new Random(5);
        int side = net.Input == NetworkInput.LowResolution ? 16 : 24;
        var values = Enumerable.Range(0, 2 * side * side).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var x = Tensor.FromArray(values, [2, 1, side, side], Cpu);
        var y = net.Forward(x);
        if (net.Input == NetworkInput.LowResolution)
        {
            using var up = new Blocks.BicubicUpsampler(Cpu, 4);
            Assert.That(y.Sr!.ToArray(), Is.EqualTo(up.Forward(x).ToArray()), "SR = bicubic");
            Assert.That(y.Ab!.ToArray(), Is.All.EqualTo(0f), "a*b* = 0");
        }
        else
            Assert.That(y.Sr!.ToArray(), Is.EqualTo(values), "SR = input");
        F.MseLoss(y.Sr!, Tensor.Zeros(y.Sr!.Shape, Cpu)).Backward();
        var heads = net.NamedParameters().Where(p => p.Name.EndsWith("out.weight") || p.Name is "tail.weight" or "head_l.weight").ToList();
        Assert.That(heads, Is.Not.Empty);
        foreach (var (head, p) in heads)
            Assert.That(p.Grad!.ToArray().Max(Math.Abs), Is.GreaterThan(0f), $"{head} gets a gradient");
    }

    [Test]
    public void SameSeedBuildsTheSameWeights()
    {
        using var a = ModelCatalog.Create("liu2018", new LayerFactory(Cpu, 11), new Liu2018Config(0.0625, 0.125));
        using var b = ModelCatalog.Create("liu2018", new LayerFactory(Cpu, 11), new Liu2018Config(0.0625, 0.125));
        using var c = ModelCatalog.Create("liu2018", new LayerFactory(Cpu, 12), new Liu2018Config(0.0625, 0.125));
        var sa = a.StateDict();
        var sb = b.StateDict();
        foreach (var (key, t) in sa) Assert.That(sb[key].ToArray(), Is.EqualTo(t.ToArray()), key);
        Assert.That(c.StateDict()["trunk.conv5.0.weight"].ToArray(), Is.Not.EqualTo(sa["trunk.conv5.0.weight"].ToArray()));
    }

    [Test]
    public void TasksAndInputsAreTheDocumentedOnes()
    {
        var expected = new Dictionary<string, (NetworkTasks, NetworkInput, int)>
        {
            ["liu2018"] = (NetworkTasks.SuperResolution | NetworkTasks.ColorClassification, NetworkInput.BicubicUpsampled, 8),
            ["liu2018-sr"] = (NetworkTasks.SuperResolution, NetworkInput.BicubicUpsampled, 1),
            ["liu2018-color"] = (NetworkTasks.ColorClassification, NetworkInput.BicubicUpsampled, 8),
            ["srcnn"] = (NetworkTasks.SuperResolution, NetworkInput.BicubicUpsampled, 1),
            ["recurrent-residual"] = (NetworkTasks.SuperResolution, NetworkInput.BicubicUpsampled, 1),
            ["regression-ed"] = (NetworkTasks.SuperResolution | NetworkTasks.ColorRegression, NetworkInput.LowResolution, 16),
        };
        foreach (var (name, (tasks, input, multiple)) in expected)
        {
            using var net = Small(name);
            Assert.That((net.Tasks, net.Input, net.SizeMultiple, net.Scale), Is.EqualTo((tasks, input, multiple, 4)), name);
        }
    }

    private static SatNetwork Small(string name) =>
        ModelCatalog.Create(name, new LayerFactory(Cpu, 1), ModelCatalog.Get(name).DefaultConfig.WithWidth(0.0625));
}
