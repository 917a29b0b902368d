using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>ModelFile: what it writes, what it rebuilds, and that every bad file is refused naming the file.</summary>
[TestFixture]
public class ModelFileTests
{
    private static readonly CpuBackend Cpu = new();
    private string _dir = "";

    [OneTimeTearDown]
    public void DisposeBackend() => Cpu.Dispose();

    [SetUp]
    public void MakeFolder() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"ilgpusat-modelfile-{Guid.NewGuid():N}"));

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);

    /// <summary>A small liu2018 with non-trivial weights and running statistics (a few training-mode forwards).</summary>
    private static SatNetwork Trained(string name, ModelConfig config, int seed = 4)
    {
        var net = ModelCatalog.Create(name, new LayerFactory(Cpu, seed), config);
        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        var rng = new Random(seed);
        const int side = 16;
        for (int i = 0; i < 2; i++)
            net.Forward(Tensor.FromArray(Enumerable.Range(0, 2 * side * side).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), [2, 1, side, side], Cpu));
        foreach (var (key, t) in net.StateDict())
            if (key.EndsWith("out.weight") || key is "tail.weight" or "head_l.weight" or "head_ab.weight")
                t.CopyFrom(Enumerable.Range(0, (int)t.Length).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.1f).ToArray());
        return net;
    }

    [TestCase("liu2018")]
    [TestCase("regression-ed")]
    [TestCase("recurrent-residual")]
    public void F32RoundTripIsExact(string name)
    {
        var config = ModelCatalog.Get(name).DefaultConfig.WithWidth(0.0625);
        using var net = Trained(name, config);
        net.Normalization = new LabNormalization(0.02f, -1f, 1f / 128);
        var path = File("model.safetensors");
        ModelFile.Save(path, net, name, config, new Dictionary<string, string> { ["step"] = "1200", ["note"] = "ü" });

        var loaded = ModelFile.Load(path, Cpu);
        using var copy = loaded.Network;
        Assert.That(loaded.ModelName, Is.EqualTo(name));
        Assert.That(loaded.Config, Is.EqualTo(config));
        Assert.That(loaded.Normalization, Is.EqualTo(net.Normalization));
        Assert.That(copy.Normalization, Is.EqualTo(net.Normalization));
        Assert.That(loaded.Metadata["step"], Is.EqualTo("1200"));
        Assert.That(loaded.Metadata["note"], Is.EqualTo("ü"));
        Assert.That(loaded.Metadata[ModelFile.ModelKey], Is.EqualTo(name));
        var a = net.StateDict();
        var b = copy.StateDict();
        Assert.That(b.Keys, Is.EqualTo(a.Keys));
        foreach (var (key, t) in a) Assert.That(b[key].ToArray(), Is.EqualTo(t.ToArray()), key);

        using var scope = new TensorScope();
        using var _ = Autograd.NoGrad();
        net.Eval();
        copy.Eval();
        int side = net.Input == NetworkInput.LowResolution ? 16 : 24;
        var x = Tensor.Full([1, 1, side, side], 0.1f, Cpu);
        Assert.That(copy.Forward(x).Sr!.ToArray(), Is.EqualTo(net.Forward(x).Sr!.ToArray()));
    }

    [Test]
    public void F16StoresHalfPrecisionValuesAndSaturatesTheBatchCount()
    {
        var config = new Liu2018SrConfig(0.25);
        using var net = Trained("liu2018-sr", config);
        var count = net.StateDict()["stem.0.bn.num_batches_tracked"];
        count.Fill(100_000f);
        var path = File("model-f16.safetensors");
        ModelFile.Save(path, net, "liu2018-sr", config, dtype: SafeTensorsDType.F16);
        var f32 = File("model-f32.safetensors");
        ModelFile.Save(f32, net, "liu2018-sr", config);
        Assert.That(new FileInfo(path).Length, Is.LessThan(0.6 * new FileInfo(f32).Length), "about half the size of F32");

        var loaded = ModelFile.Load(path, Cpu);
        using var copy = loaded.Network;
        var b = copy.StateDict();
        foreach (var (key, t) in net.StateDict())
        {
            var want = t.ToArray().Select(v => (float)(Half)v).ToArray();
            if (key.EndsWith("num_batches_tracked")) want = t.ToArray().Select(v => Math.Min(v, ModelFile.F16MaxBatchesTracked)).ToArray();
            Assert.That(b[key].ToArray(), Is.EqualTo(want), key);
        }
        Assert.That(b["stem.0.bn.num_batches_tracked"].Item(), Is.EqualTo(65504f));
    }

    [Test]
    public void UnknownModelIsRefusedNamingFileAndCatalog()
    {
        var path = File("unknown.safetensors");
        using (var net = Trained("srcnn", new SrcnnConfig(0.125)))
            SafeTensors.Save(path, net.StateDict(), new Dictionary<string, string>
            {
                [ModelFile.ModelKey] = "srcnn-v2", [ModelFile.ConfigKey] = "{}", [ModelFile.NormalizationKey] = "{}",
            });
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, Cpu));
        Assert.That(e!.Message, Does.StartWith(path).And.Contain("srcnn-v2").And.Contain("liu2018-sr"));
    }

    [Test]
    public void WeightsOfAnotherShapeAreRefused()
    {
        var path = File("wide.safetensors");
        using (var net = Trained("srcnn", new SrcnnConfig(0.25)))
            ModelFile.Save(path, net, "srcnn", new SrcnnConfig(0.25));
        // The metadata now claims width 0.125: every weight has the wrong shape for it.
        var (tensors, metadata) = SafeTensors.Read(path);
        metadata[ModelFile.ConfigKey] = "{\"width\":0.125}";
        var lying = File("lying.safetensors");
        SafeTensors.Save(lying, tensors.Select(t => (t.Name, t.Value.Data, t.Value.Shape)), metadata);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(lying, Cpu));
        Assert.That(e!.Message, Does.StartWith(lying).And.Contain("conv1.weight").And.Contain("shape"));

        // A missing tensor is named too.
        var missing = File("missing.safetensors");
        SafeTensors.Save(missing, tensors.Where(t => t.Name != "conv2.bias").Select(t => (t.Name, t.Value.Data, t.Value.Shape)),
            SafeTensors.Read(path).Metadata);
        e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(missing, Cpu));
        Assert.That(e!.Message, Does.StartWith(missing).And.Contain("conv2.bias"));
    }

    [TestCase(ModelFile.ModelKey)]
    [TestCase(ModelFile.ConfigKey)]
    [TestCase(ModelFile.NormalizationKey)]
    public void MissingMetadataIsRefusedNamingTheKey(string dropped)
    {
        var path = File("model.safetensors");
        using (var net = Trained("srcnn", new SrcnnConfig(0.125)))
            ModelFile.Save(path, net, "srcnn", new SrcnnConfig(0.125));
        var (tensors, metadata) = SafeTensors.Read(path);
        metadata.Remove(dropped);
        var stripped = File("stripped.safetensors");
        SafeTensors.Save(stripped, tensors.Select(t => (t.Name, t.Value.Data, t.Value.Shape)), metadata);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(stripped, Cpu));
        Assert.That(e!.Message, Does.StartWith(stripped).And.Contain(dropped));
    }

    [TestCase(ModelFile.ConfigKey, "{\"width\":0.125,\"depth\":2}", "depth")]
    [TestCase(ModelFile.ConfigKey, "{\"width\":-1}", "width")]
    [TestCase(ModelFile.NormalizationKey, "{\"lScale\":0.01,\"gamma\":2}", "gamma")]
    [TestCase(ModelFile.NormalizationKey, "{\"lScale\":0}", "zero")]
    [TestCase(ModelFile.NormalizationKey, "not json", ModelFile.NormalizationKey)]
    public void MalformedMetadataIsRefused(string key, string value, string mentioned)
    {
        var path = File("model.safetensors");
        using (var net = Trained("srcnn", new SrcnnConfig(0.125)))
            ModelFile.Save(path, net, "srcnn", new SrcnnConfig(0.125));
        var (tensors, metadata) = SafeTensors.Read(path);
        metadata[key] = value;
        var bad = File("bad.safetensors");
        SafeTensors.Save(bad, tensors.Select(t => (t.Name, t.Value.Data, t.Value.Shape)), metadata);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(bad, Cpu));
        Assert.That(e!.Message, Does.StartWith(bad).And.Contain(mentioned));
    }

    [Test]
    public void PlainStateDictFileIsNotAModelFile()
    {
        var path = File("plain.safetensors");
        using (var net = Trained("srcnn", new SrcnnConfig(0.125))) net.Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, Cpu));
        Assert.That(e!.Message, Does.StartWith(path).And.Contain("no metadata"));
    }

    [Test]
    public void SaveRefusesMismatchedArguments()
    {
        using var net = Trained("srcnn", new SrcnnConfig(0.125));
        var path = File("x.safetensors");
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, "srcnn", new Liu2018SrConfig()));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, "srcnn2", new SrcnnConfig(0.125)));
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, "srcnn", new SrcnnConfig(0.125),
            new Dictionary<string, string> { [ModelFile.ModelKey] = "liu2018" }));
        Assert.That(e!.Message, Does.Contain(ModelFile.ModelKey));
        Assert.That(System.IO.File.Exists(path), Is.False, "nothing written on error");
    }
}
