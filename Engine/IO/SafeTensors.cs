using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ILGpuSat.Common;
using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.IO;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
/// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data section; an
/// optional "__metadata__" map of strings), then the raw little-endian data. Writes F32 or F16; reads F32,
/// F64, F16, BF16, I64, I32, I16, I8, U8 and BOOL (converted to float, so PyTorch state dicts with
/// an int64 num_batches_tracked load). Every error names the file.
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>Writes the tensors in the given order (atomically: temporary file, then rename), as float32
    /// or, with <paramref name="dtype"/> F16, as IEEE half precision (round to nearest even; half the size, for
    /// shipping weights). A finite value beyond half's range (65504) is refused, naming the tensor, rather
    /// than silently written as infinity.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
                            SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Save(path, tensors.Select(kv => (kv.Key, kv.Value.ToArray(), kv.Value.Shape)), metadata, dtype);
    }

    /// <summary>As the tensor overload, from host arrays (name, values, shape) in order: for state that is
    /// already on the host, so it is not uploaded only to be downloaded again.</summary>
    public static void Save(string path, IEnumerable<(string Name, float[] Data, int[] Shape)> arrays, IReadOnlyDictionary<string, string>? metadata = null,
                            SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (dtype is not (SafeTensorsDType.F32 or SafeTensorsDType.F16))
            throw new ArgumentOutOfRangeException(nameof(dtype), $"{path}: safetensors are written as F32 or F16, not {dtype}.");
        int itemSize = dtype == SafeTensorsDType.F16 ? 2 : 4;
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header[MetadataKey] = meta;
        }
        long offset = 0;
        var payload = new List<float[]>();
        foreach (var (name, values, shape) in arrays)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
                throw new ArgumentException($"{path}: '{name}' is not a valid tensor name.");
            if (values.LongLength != shape.Aggregate(1L, (a, d) => a * d))
                throw new ArgumentException($"{path}: tensor '{name}' has {values.Length} values for shape {Tensor.Format(shape)}.");
            long size = itemSize * values.LongLength;
            if (dtype == SafeTensorsDType.F16)
                foreach (float v in values)
                    if (float.IsFinite(v) && !Half.IsFinite((Half)v))
                        throw new ArgumentException($"{path}: tensor '{name}' holds {v}, beyond the range of F16 (65504); save it as F32.");
            header[name] = new JsonObject
            {
                ["dtype"] = dtype.ToString(),
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
            payload.Add(values);
        }

        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The reference implementation pads the header with spaces to a multiple of 8 bytes.
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var a in payload)
            {
                var bytes = new byte[itemSize * a.Length];
                if (itemSize == 2)
                    for (int i = 0; i < a.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)a[i]);
                else
                    for (int i = 0; i < a.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), a[i]);
                stream.Write(bytes);
            }
        });
    }

    /// <summary>Reads every tensor (in header order) onto <paramref name="backend"/>.</summary>
    public static Dictionary<string, Tensor> Load(string path, Backend backend)
    {
        var (arrays, _) = Read(path);
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, (data, shape)) in arrays)
                result[name] = Tensor.FromArray(data, shape, backend: backend).Keep();
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Reads every tensor as host arrays, plus the metadata map.</summary>
    public static (List<(string Name, (float[] Data, int[] Shape) Value)> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read safetensors file: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Only the metadata map, from the header (what a loader reads to choose the model class before any tensor).</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> length = stackalloc byte[8];
            if (stream.ReadAtLeast(length, 8, throwOnEndOfStream: false) < 8)
                throw new InvalidDataException($"{path}: not a safetensors file (shorter than its 8-byte header length).");
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(length);
            if (headerLength > (ulong)(stream.Length - 8) || headerLength > int.MaxValue)
                throw new InvalidDataException($"{path}: safetensors header length {headerLength} runs past the end of the file ({stream.Length} bytes).");
            var header = new byte[8 + (int)headerLength];
            length.CopyTo(header);
            stream.ReadExactly(header.AsSpan(8));
            return Parse(header, path, headerOnly: true).Metadata;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read safetensors file: {e.Message}", e);
        }
    }

    public static (List<(string Name, (float[] Data, int[] Shape) Value)> Tensors, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> bytes, string name)
        => Parse(bytes, name, headerOnly: false);

    private static (List<(string Name, (float[] Data, int[] Shape) Value)> Tensors, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> bytes, string name, bool headerOnly)
    {
        if (bytes.Length < 8) throw new InvalidDataException($"{name}: not a safetensors file (shorter than its 8-byte header length).");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{name}: safetensors header length {headerLength} runs past the end of the file ({bytes.Length} bytes).");
        var headerBytes = bytes.Slice(8, (int)headerLength);
        var data = bytes[(8 + (int)headerLength)..];

        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes.ToArray()) as JsonObject
                ?? throw new InvalidDataException($"{name}: safetensors header is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: safetensors header is not valid JSON: {e.Message}", e);
        }

        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, string DType, int[] Shape, long Begin, long End)>();
        foreach (var (key, node) in header)
        {
            if (key == MetadataKey)
            {
                if (node is not JsonObject meta) throw new InvalidDataException($"{name}: __metadata__ must be an object.");
                foreach (var (mk, mv) in meta)
                    metadata[mk] = mv is JsonValue v && v.TryGetValue(out string? s) ? s : throw new InvalidDataException($"{name}: __metadata__ value of '{mk}' is not a string.");
                continue;
            }
            entries.Add(Entry(key, node, name));
        }
        if (headerOnly) return ([], metadata);

        var tensors = new List<(string, (float[], int[]))>();
        foreach (var (key, dtype, shape, begin, end) in entries.OrderBy(e => e.Begin))
        {
            long count = 1;
            foreach (int d in shape) count *= d;
            int itemSize = ItemSize(dtype, key, name);
            if (begin < 0 || end < begin || end > data.Length)
                throw new InvalidDataException($"{name}: tensor '{key}' has data offsets [{begin}, {end}] outside the data section of {data.Length} bytes.");
            if (end - begin != count * itemSize)
                throw new InvalidDataException($"{name}: tensor '{key}' of shape {Tensor.Format(shape)} and dtype {dtype} needs {count * itemSize} bytes, its offsets span {end - begin}.");
            if (count == 0) throw new InvalidDataException($"{name}: tensor '{key}' is empty (shape {Tensor.Format(shape)}).");
            tensors.Add((key, (Convert(data[(int)begin..(int)end], dtype, (int)count), shape)));
        }
        return (tensors, metadata);
    }

    private static (string, string, int[], long, long) Entry(string key, JsonNode? node, string file)
    {
        try
        {
            var o = (JsonObject)node!;
            string dtype = o["dtype"]!.GetValue<string>();
            int[] shape = o["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
            var offsets = o["data_offsets"]!.AsArray();
            if (offsets.Count != 2) throw new InvalidDataException("data_offsets must hold two numbers");
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"negative dimension in shape {Tensor.Format(shape)}");
            return (key, dtype, shape, offsets[0]!.GetValue<long>(), offsets[1]!.GetValue<long>());
        }
        catch (Exception e) when (e is InvalidCastException or NullReferenceException or InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"{file}: malformed safetensors entry for '{key}': {e.Message}", e);
        }
    }

    private static int ItemSize(string dtype, string key, string file) => dtype switch
    {
        "F32" or "I32" => 4,
        "F64" or "I64" => 8,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"{file}: tensor '{key}' has unsupported dtype '{dtype}'."),
    };

    private static float[] Convert(ReadOnlySpan<byte> b, string dtype, int count)
    {
        var r = new float[count];
        for (int i = 0; i < count; i++)
        {
            r[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]),
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(b[(2 * i)..]),
                // bfloat16 is the top half of a float32.
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]) << 16),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]),
                "I8" => (sbyte)b[i],
                _ => b[i],
            };
        }
        return r;
    }
}

/// <summary>Element types <see cref="SafeTensors.Save"/> writes.</summary>
public enum SafeTensorsDType
{
    F32,
    F16,
}
