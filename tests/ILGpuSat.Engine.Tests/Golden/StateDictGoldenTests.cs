using System.Text;
using System.Text.Json;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// A PyTorch nn.Sequential (tests/golden/state_dict, see model.json) saved as safetensors: the
/// engine's equivalent modules load it under PyTorch's names and reproduce PyTorch's eval-mode
/// output; saving from the engine and loading again round-trips bit-exactly.
/// </summary>
[TestFixture]
public class StateDictGoldenTests
{
    /// <summary>The models of these tests live on one CPU backend for the fixture's lifetime.</summary>
    private static readonly CpuBackend Cpu = new();

    private static JsonDocument Meta() => JsonDocument.Parse(File.ReadAllBytes(GoldenFiles.Path("state_dict", "model.json")));

    /// <summary>The engine model equivalent to the PyTorch one, built from model.json.</summary>
    private static Sequential BuildModel(JsonElement layers)
    {
        var nn = new LayerFactory(Cpu, 0);
        var modules = new List<Layer>();
        foreach (var l in layers.EnumerateArray())
        {
            int I(string n) => l.GetProperty(n).GetInt32();
            bool B(string n) => l.GetProperty(n).GetBoolean();
            modules.Add(l.GetProperty("type").GetString() switch
            {
                "Conv2d" => nn.Conv2d(I("in_channels"), I("out_channels"), I("kernel_size"), stride: I("stride"),
                    padding: I("padding"), dilation: I("dilation"), bias: B("bias")),
                "ConvTranspose2d" => nn.ConvTranspose2d(I("in_channels"), I("out_channels"), I("kernel_size"), stride: I("stride"),
                    padding: I("padding"), outputPadding: I("output_padding"), bias: B("bias")),
                "BatchNorm2d" => nn.BatchNorm2d(I("num_features"), eps: (float)l.GetProperty("eps").GetDouble(),
                    momentum: (float)l.GetProperty("momentum").GetDouble()),
                "PReLU" => nn.PReLU(I("num_parameters")),
                "ReLU" => new ReLU(),
                "LeakyReLU" => new LeakyReLU((float)l.GetProperty("negative_slope").GetDouble()),
                var t => throw new InvalidDataException($"state_dict golden: layer type '{t}' has no engine module here."),
            });
        }
        return new Sequential(modules.ToArray());
    }

    /// <summary>
    /// model.safetensors is PyTorch's full state dict, with int64 num_batches_tracked buffers; the
    /// engine keeps those as float and must load the file strictly. model_f32.safetensors lacks them,
    /// so it loads only non-strictly (and must fail strictly, naming the missing keys).
    /// </summary>
    [TestCase("model.safetensors", true)]
    [TestCase("model_f32.safetensors", false)]
    public void LoadedPyTorchWeightsReproducePyTorchOutput(string file, bool strict)
    {
        using var meta = Meta();
        using var scope = new TensorScope();
        using var model = BuildModel(meta.RootElement.GetProperty("layers"));
        var path = GoldenFiles.Path("state_dict", file);
        if (!strict)
        {
            var ex = Assert.Throws<ArgumentException>(() => model.Load(path, strict: true));
            Assert.That(ex!.Message, Does.Contain("num_batches_tracked").And.Contain(file));
        }
        model.Load(path, strict);
        model.Eval();

        // Every tensor PyTorch saved reached the module under the same name, with the same values.
        var pytorch = SafeTensorsFile.Read(path);
        var engine = model.StateDict();
        foreach (var (name, t) in pytorch)
        {
            Assert.That(engine.ContainsKey(name), $"engine state dict has no '{name}'");
            Assert.That(engine[name].Shape, Is.EqualTo(t.Shape), $"{name}: shape");
            var want = t.DType == "F32" ? t.Floats : t.Longs.Select(v => (float)v).ToArray();
            Assert.That(engine[name].ToArray(), Is.EqualTo(want), $"{name}: values");
        }
        if (strict)
            Assert.That(pytorch["1.num_batches_tracked"].Longs, Is.EqualTo(new long[] { 3 }), "the generator ran three training-mode forwards");

        var (x, xShape) = NpyFile.Read(GoldenFiles.Path("state_dict", "input.npy"));
        var (expected, expectedShape) = NpyFile.Read(GoldenFiles.Path("state_dict", "output_eval.npy"));
        using (Autograd.NoGrad())
        {
            var y = model.Forward(Tensor.FromArray(x, xShape, Cpu));
            GoldenAssert.Close($"{file}: eval output", y.ToArray(), y.Shape, expected, expectedShape);
        }
    }

    [Test]
    public void EngineStateDictHasPyTorchKeysInPyTorchOrder()
    {
        using var meta = Meta();
        using var model = BuildModel(meta.RootElement.GetProperty("layers"));
        var expected = meta.RootElement.GetProperty("state_dict").EnumerateObject().Select(e => e.Name).ToArray();
        Assert.That(model.StateDict().Keys, Is.EqualTo(expected));
    }

    [Test]
    public void SaveThenLoadRoundTripsExactly()
    {
        using var meta = Meta();
        using var scope = new TensorScope();
        using var source = BuildModel(meta.RootElement.GetProperty("layers"));
        source.Load(GoldenFiles.Path("state_dict", "model.safetensors"));
        var path = Path.Combine(Path.GetTempPath(), $"ilgpusat-golden-{Guid.NewGuid():N}.safetensors");
        try
        {
            source.Save(path);

            // The file is valid safetensors in PyTorch's naming and holds the PyTorch values bit for bit.
            var written = SafeTensorsFile.Read(path);
            var pytorch = SafeTensorsFile.Read(GoldenFiles.Path("state_dict", "model_f32.safetensors"));
            foreach (var (name, t) in pytorch)
            {
                Assert.That(written.ContainsKey(name), $"saved file lacks '{name}'");
                Assert.That(written[name].DType, Is.EqualTo("F32"), name);
                Assert.That(written[name].Shape, Is.EqualTo(t.Shape), name);
                Assert.That(written[name].Floats, Is.EqualTo(t.Floats), name);
            }

            using var copy = BuildModel(meta.RootElement.GetProperty("layers"));
            copy.Load(path);
            var a = source.StateDict();
            var b = copy.StateDict();
            Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
            foreach (var (name, t) in a)
                Assert.That(b[name].ToArray(), Is.EqualTo(t.ToArray()), $"{name} after save/load");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void EngineSafeTensorsReaderMatchesIndependentReader()
    {
        var path = GoldenFiles.Path("state_dict", "model_f32.safetensors");
        var engine = SafeTensors.Load(path, Cpu);
        try
        {
            var mine = SafeTensorsFile.Read(path);
            Assert.That(engine.Keys, Is.EquivalentTo(mine.Keys));
            foreach (var (name, t) in mine)
            {
                Assert.That(engine[name].Shape, Is.EqualTo(t.Shape), name);
                Assert.That(engine[name].ToArray(), Is.EqualTo(t.Floats), name);
            }
        }
        finally
        {
            foreach (var t in engine.Values) t.Dispose();
        }
    }
}

/// <summary>Independent minimal safetensors reader (F32 and I64) used to check what the engine writes.</summary>
internal static class SafeTensorsFile
{
    public sealed record Entry(string DType, int[] Shape, float[] Floats, long[] Longs);

    public static Dictionary<string, Entry> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        ulong headerLen = BitConverter.ToUInt64(bytes, 0);
        if (headerLen > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"{path}: header length {headerLen} past the end.");
        int dataStart = 8 + (int)headerLen;
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLen));
        var result = new Dictionary<string, Entry>();
        foreach (var e in header.RootElement.EnumerateObject())
        {
            if (e.Name == "__metadata__") continue;
            var dtype = e.Value.GetProperty("dtype").GetString()!;
            var shape = e.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var off = e.Value.GetProperty("data_offsets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            int count = shape.Aggregate(1, (a, b) => a * b);
            var span = bytes.AsSpan(dataStart + (int)off[0], (int)(off[1] - off[0]));
            switch (dtype)
            {
                case "F32":
                    if (span.Length != count * 4) throw new InvalidDataException($"{path}: '{e.Name}' has {span.Length} bytes for {count} floats.");
                    result[e.Name] = new Entry(dtype, shape, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray(), []);
                    break;
                case "I64":
                    if (span.Length != count * 8) throw new InvalidDataException($"{path}: '{e.Name}' has {span.Length} bytes for {count} longs.");
                    result[e.Name] = new Entry(dtype, shape, [], System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(span).ToArray());
                    break;
                default:
                    throw new InvalidDataException($"{path}: '{e.Name}' has unsupported dtype {dtype}.");
            }
        }
        return result;
    }
}
