using System.Buffers.Binary;
using System.Text;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Networks;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests;

public class IoTests
{
    private string _dir = null!;
    private CpuBackend _b = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "ilgpusat-io-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
        _b = new CpuBackend();
    }

    [TearDown]
    public void TearDown()
    {
        Directory.Delete(_dir, recursive: true);
        _b.Dispose();
    }

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>A .npy file with a hand-written header (as NumPy writes it) and raw payload.</summary>
    private static byte[] NpyBytes(string descr, string shape, byte[] payload, string fortran = "False")
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}";
        int pad = (64 - (10 + dict.Length + 1) % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange(new byte[] { 1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8) });
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(payload);
        return bytes.ToArray();
    }

    [Test]
    public void NpyRoundTrips()
    {
        var data = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3f).ToArray();
        foreach (var shape in new[] { new[] { 2, 3, 4 }, new[] { 24 }, new[] { 1, 24, 1, 1 } })
        {
            Npy.Write(P("a.npy"), data, shape);
            var (back, backShape) = Npy.Read(P("a.npy"));
            Assert.That(back, Is.EqualTo(data));
            Assert.That(backShape, Is.EqualTo(shape));
        }
        Npy.Write(P("scalar.npy"), [7f], []);
        var (s, sShape) = Npy.Read(P("scalar.npy"));
        Assert.That(s, Is.EqualTo(new[] { 7f }));
        Assert.That(sShape, Is.Empty);
        Assert.That(Directory.GetFiles(_dir).Where(f => f.EndsWith(".tmp")), Is.Empty, "no temporary files left behind");
    }

    [Test]
    public void NpyHeaderIsWhatNumPyWrites()
    {
        var bytes = Npy.Encode([1f, 2f], [2]);
        string header = Encoding.ASCII.GetString(bytes, 10, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        Assert.That(header, Does.StartWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"));
        Assert.That((10 + header.Length) % 64, Is.Zero);
        Assert.That(header, Does.EndWith("\n"));
    }

    [Test]
    public void NpyReadsOtherDtypesAsFloat()
    {
        var f8 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f8, 1.25);
        BinaryPrimitives.WriteDoubleLittleEndian(f8.AsSpan(8), -3.5);
        File.WriteAllBytes(P("f8.npy"), NpyBytes("<f8", "(2,)", f8));
        Assert.That(Npy.Read(P("f8.npy")).Data, Is.EqualTo(new[] { 1.25f, -3.5f }));

        var i8 = new byte[24];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteInt64LittleEndian(i8.AsSpan(8 * i), (i - 1) * 1000L);
        File.WriteAllBytes(P("i8.npy"), NpyBytes("<i8", "(1, 3)", i8));
        var (d, shape) = Npy.Read(P("i8.npy"));
        Assert.That(d, Is.EqualTo(new[] { -1000f, 0f, 1000f }));
        Assert.That(shape, Is.EqualTo(new[] { 1, 3 }));

        var i4 = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(i4, 313);
        BinaryPrimitives.WriteInt32LittleEndian(i4.AsSpan(4), -2);
        File.WriteAllBytes(P("i4.npy"), NpyBytes("<i4", "(2,)", i4));
        Assert.That(Npy.Read(P("i4.npy")).Data, Is.EqualTo(new[] { 313f, -2f }));
    }

    [Test]
    public void BadNpyFilesNameTheFile()
    {
        File.WriteAllBytes(P("magic.npy"), "NOTNUMPYATALL"u8.ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => Npy.Read(P("magic.npy")));
        Assert.That(ex!.Message, Does.Contain(P("magic.npy")).And.Contain("magic"));

        var full = Npy.Encode(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), [10]);
        File.WriteAllBytes(P("trunc.npy"), full[..^8]);
        ex = Assert.Throws<InvalidDataException>(() => Npy.Read(P("trunc.npy")));
        Assert.That(ex!.Message, Does.Contain(P("trunc.npy")).And.Contain("truncated"));

        File.WriteAllBytes(P("header.npy"), full[..40]);
        ex = Assert.Throws<InvalidDataException>(() => Npy.Read(P("header.npy")));
        Assert.That(ex!.Message, Does.Contain(P("header.npy")).And.Contain("truncated"));

        File.WriteAllBytes(P("dtype.npy"), NpyBytes("<c8", "(1,)", new byte[8]));
        ex = Assert.Throws<InvalidDataException>(() => Npy.Read(P("dtype.npy")));
        Assert.That(ex!.Message, Does.Contain(P("dtype.npy")).And.Contain("<c8"));

        File.WriteAllBytes(P("bigendian.npy"), NpyBytes(">f4", "(1,)", new byte[4]));
        Assert.Throws<InvalidDataException>(() => Npy.Read(P("bigendian.npy")));

        File.WriteAllBytes(P("fortran.npy"), NpyBytes("<f4", "(2, 2)", new byte[16], fortran: "True"));
        ex = Assert.Throws<InvalidDataException>(() => Npy.Read(P("fortran.npy")));
        Assert.That(ex!.Message, Does.Contain("Fortran"));

        var io = Assert.Throws<IOException>(() => Npy.Read(P("missing.npy")));
        Assert.That(io!.Message, Does.Contain(P("missing.npy")));
    }

    [Test]
    public void SafeTensorsWritesHalfPrecision()
    {
        using var scope = new TensorScope();
        var values = GradCheck.Uniform(new Random(2), 37).Select(v => v * 300f).Append(65504f).Append(-1e-7f).ToArray();
        var tensors = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(values, [values.Length], backend: _b) };
        SafeTensors.Save(P("h.safetensors"), tensors, dtype: SafeTensorsDType.F16);
        byte[] bytes = File.ReadAllBytes(P("h.safetensors"));
        long headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.That(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength), Does.Contain("\"dtype\":\"F16\""));
        Assert.That(bytes.Length, Is.EqualTo(8 + headerLength + 2 * values.Length), "two bytes a value");
        var (raw, _) = SafeTensors.Read(P("h.safetensors"));
        Assert.That(raw.Single().Value.Data, Is.EqualTo(values.Select(v => (float)(Half)v).ToArray()), "round to nearest half, read back exactly");

        tensors["big"] = Tensor.FromArray([70000f], [1], backend: _b);
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(P("h2.safetensors"), tensors, dtype: SafeTensorsDType.F16))!;
        Assert.That(e.Message, Does.Contain("'big'").And.Contain("F16"));
        Assert.That(File.Exists(P("h2.safetensors")), Is.False, "nothing written");
    }

    [Test]
    public void SafeTensorsRoundTripsWithMetadata()
    {
        using var scope = new TensorScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = Tensor.FromArray(GradCheck.Uniform(new Random(1), 2 * 3 * 3 * 3), [2, 3, 3, 3], backend: _b),
            ["bn.num_batches_tracked"] = Tensor.Scalar(5f, backend: _b),
            ["b"] = Tensor.FromArray([1f, -2f], [2], backend: _b),
        };
        SafeTensors.Save(P("m.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var (raw, meta) = SafeTensors.Read(P("m.safetensors"));
        Assert.That(meta["format"], Is.EqualTo("pt"));
        Assert.That(raw.Select(r => r.Name), Is.EqualTo(new[] { "conv.weight", "bn.num_batches_tracked", "b" }));

        var loaded = SafeTensors.Load(P("m.safetensors"), _b);
        foreach (var (name, t) in tensors)
        {
            Assert.That(loaded[name].Shape, Is.EqualTo(t.Shape), name);
            Assert.That(loaded[name].ToArray(), Is.EqualTo(t.ToArray()), name);
            loaded[name].Dispose();
        }
        // The header length is a multiple of 8 and the file is the header plus 4 bytes per float.
        var bytes = File.ReadAllBytes(P("m.safetensors"));
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(headerLength % 8, Is.Zero);
        Assert.That(bytes.Length, Is.EqualTo(8 + headerLength + 4 * (54 + 1 + 2)));
    }

    private static byte[] SafeTensorsBytes(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    [Test]
    public void SafeTensorsReadsIntegerAndDoubleTensors()
    {
        var bytes = SafeTensorsBytes("{\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", 16);
        int data = bytes.Length - 16;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(data), 42);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(data + 8), 0.5);
        File.WriteAllBytes(P("int.safetensors"), bytes);
        var loaded = SafeTensors.Load(P("int.safetensors"), _b);
        Assert.That(loaded["n"].Item(), Is.EqualTo(42f));
        Assert.That(loaded["n"].Shape, Is.Empty);
        Assert.That(loaded["d"].Item(), Is.EqualTo(0.5f));
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Test]
    public void BadSafeTensorsFilesNameTheFile()
    {
        void Bad(string name, byte[] bytes, string fragment)
        {
            File.WriteAllBytes(P(name), bytes);
            var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(P(name), _b));
            Assert.That(ex!.Message, Does.Contain(P(name)).And.Contain(fragment), name);
        }

        Bad("short.safetensors", [1, 2, 3], "not a safetensors file");
        var headerTooLong = SafeTensorsBytes("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(headerTooLong, 1000);
        Bad("header.safetensors", headerTooLong, "runs past the end");
        Bad("offsets.safetensors", SafeTensorsBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "outside the data section");
        Bad("size.safetensors", SafeTensorsBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16), "needs 12 bytes");
        Bad("dtype.safetensors", SafeTensorsBytes("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "C64");
        Bad("json.safetensors", SafeTensorsBytes("{\"w\": [", 0), "not valid JSON");
        Bad("entry.safetensors", SafeTensorsBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "malformed");
    }

    [Test]
    public void ModuleSaveLoadRoundTripsTheStateDict()
    {
        var rng = new Random(3);
        using var a = new ConvBnPreluStack(new LayerFactory(_b, rng), 3, 4, depth: 2);
        using var b = new ConvBnPreluStack(new LayerFactory(_b, rng), 3, 4, depth: 2);
        using (new TensorScope())
        {
            // Non-trivial running statistics.
            a.Forward(Tensor.FromArray(GradCheck.Uniform(rng, 2 * 3 * 5 * 5), [2, 3, 5, 5], backend: _b));
        }
        a.Save(P("stack.safetensors"));
        b.Load(P("stack.safetensors"));
        var sa = a.StateDict();
        var sb = b.StateDict();
        Assert.That(sb.Keys, Is.EqualTo(sa.Keys));
        foreach (var (key, t) in sa) Assert.That(sb[key].ToArray(), Is.EqualTo(t.ToArray()), key);
        Assert.That(sb["1.num_batches_tracked"].Item(), Is.EqualTo(1f));
    }

    [Test]
    public void StrictLoadListsMissingUnexpectedAndMismatchedKeys()
    {
        using var wide = new ConvBnPreluStack(new LayerFactory(_b, 0), 3, 4, depth: 1);
        using var narrow = new ConvBnPreluStack(new LayerFactory(_b, 0), 3, 2, depth: 2);
        narrow.Save(P("narrow.safetensors"));
        var ex = Assert.Throws<ArgumentException>(() => wide.Load(P("narrow.safetensors")));
        Assert.That(ex!.Message, Does.Contain(P("narrow.safetensors")));
        Assert.That(ex.Message, Does.Contain("unexpected keys: 3.weight"));
        Assert.That(ex.Message, Does.Contain("0.weight: checkpoint [2,3,3,3], model [4,3,3,3]"));

        using var deeper = new ConvBnPreluStack(new LayerFactory(_b, 0), 3, 2, depth: 3);
        ex = Assert.Throws<ArgumentException>(() => deeper.Load(P("narrow.safetensors")));
        Assert.That(ex!.Message, Does.Contain("missing keys: 6.weight, 7.weight"));

        // Non-strict loading takes what matches.
        deeper.Load(P("narrow.safetensors"), strict: false);
        Assert.That(deeper.StateDict()["0.weight"].ToArray(), Is.EqualTo(narrow.StateDict()["0.weight"].ToArray()));
    }
}
