using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ILGpuSat.Common;
using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.IO;

/// <summary>
/// NumPy .npy files (format versions 1-3), the project's one .npy codec. Writes little-endian float32
/// ('&lt;f4') or float64 ('&lt;f8') in C order, atomically;
/// reads '&lt;f4', '&lt;f8', '&lt;f2', '&lt;i8', '&lt;i4', '&lt;i2', '|i1', '|u1' and '|b1' (as float, or as double with <see cref="ReadDoubles"/>).
/// Every error names the file.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static (float[] Data, int[] Shape) Read(string path)
    {
        return Parse(ReadBytes(path), path);
    }

    /// <summary>Reads a file into a tensor on <paramref name="backend"/>.</summary>
    public static Tensor ReadTensor(string path, Backend backend)
    {
        var (data, shape) = Read(path);
        return Tensor.FromArray(data, shape, backend: backend);
    }

    public static (float[] Data, int[] Shape) Parse(ReadOnlySpan<byte> bytes, string name)
    {
        var (descr, shape, range) = Layout(bytes, name);
        var payload = bytes[range];
        var data = new float[payload.Length / ItemSize(descr)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = descr switch
            {
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(payload[(4 * i)..]),
                "<f8" => (float)BinaryPrimitives.ReadDoubleLittleEndian(payload[(8 * i)..]),
                _ => (float)Element(descr, payload, i),
            };
        }
        return (data, shape);
    }

    /// <summary>Reads any supported dtype as float64, with no rounding through float32 (colour priors and
    /// rebalancing weights are float64 in Zhang's files and are kept at full precision).</summary>
    public static (double[] Data, int[] Shape) ReadDoubles(string path)
    {
        byte[] bytes = ReadBytes(path);
        var (descr, shape, range) = Layout(bytes, path);
        ReadOnlySpan<byte> payload = bytes.AsSpan(range);
        var data = new double[payload.Length / ItemSize(descr)];
        for (int i = 0; i < data.Length; i++) data[i] = Element(descr, payload, i);
        return (data, shape);
    }

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read .npy file: {e.Message}", e);
        }
    }

    private static double Element(string descr, ReadOnlySpan<byte> payload, int i) => descr switch
    {
        "<f4" => BinaryPrimitives.ReadSingleLittleEndian(payload[(4 * i)..]),
        "<i4" => BinaryPrimitives.ReadInt32LittleEndian(payload[(4 * i)..]),
        "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(payload[(8 * i)..]),
        "<i8" => BinaryPrimitives.ReadInt64LittleEndian(payload[(8 * i)..]),
        "<f2" => (double)BinaryPrimitives.ReadHalfLittleEndian(payload[(2 * i)..]),
        "<i2" => BinaryPrimitives.ReadInt16LittleEndian(payload[(2 * i)..]),
        "|i1" => (sbyte)payload[i],
        _ => payload[i],
    };

    private static int ItemSize(string descr) => descr switch
    {
        "<f4" or "<i4" => 4,
        "<f8" or "<i8" => 8,
        "<f2" or "<i2" => 2,
        _ => 1,
    };

    /// <summary>Validates the header and returns the dtype, the shape and where exactly the payload bytes are.</summary>
    private static (string Descr, int[] Shape, Range Payload) Layout(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy file (bad magic).");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new InvalidDataException($"{name}: truncated .npy header.");
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            if (len > int.MaxValue) throw new InvalidDataException($"{name}: .npy header length {len} is too large.");
            headerLength = (int)len;
            headerStart = 12;
        }
        else throw new InvalidDataException($"{name}: unsupported .npy format version {major}.{bytes[7]}.");
        if ((long)headerStart + headerLength > bytes.Length)
            throw new InvalidDataException($"{name}: truncated .npy header (needs {headerLength} bytes, file has {bytes.Length - headerStart}).");

        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes.Slice(headerStart, headerLength));
        string descr = Field(DescrRegex(), header, "descr", name);
        string fortran = Field(FortranRegex(), header, "fortran_order", name);
        string shapeText = Field(ShapeRegex(), header, "shape", name);
        if (fortran == "True")
            throw new InvalidDataException($"{name}: Fortran-order arrays are not supported (save with C order).");

        var dims = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[dims.Length];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (!int.TryParse(dims[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"{name}: bad shape ({shapeText}) in .npy header.");
            count *= shape[i];
        }
        if (count == 0) throw new InvalidDataException($"{name}: empty array of shape ({shapeText}).");
        if (count > Array.MaxLength) throw new InvalidDataException($"{name}: array of shape ({shapeText}) is too large.");

        int itemSize = descr switch
        {
            "<f4" or "<i4" or "<f8" or "<i8" or "<f2" or "<i2" or "|i1" or "|u1" or "|b1" => ItemSize(descr),
            _ => throw new InvalidDataException($"{name}: unsupported dtype '{descr}' (supported: <f4, <f8, <f2, <i8, <i4, <i2, |i1, |u1, |b1; little-endian)."),
        };
        var payload = bytes[(headerStart + headerLength)..];
        long needed = count * itemSize;
        if (payload.Length < needed)
            throw new InvalidDataException($"{name}: truncated .npy data: shape ({shapeText}) of '{descr}' needs {needed} bytes, file has {payload.Length}.");
        int start = headerStart + headerLength;
        return (descr, shape, start..(start + (int)needed));

    }

    /// <summary>Writes float32 data in C order (atomically: temporary file, then rename).</summary>
    public static void Write(string path, float[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(path, shape, data.Length);
        AtomicFile.Write(path, stream => stream.Write(Encode(data, shape)));
    }

    /// <summary>Writes float64 data ('&lt;f8') in C order, atomically.</summary>
    public static void Write(string path, double[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(path, shape, data.Length);
        AtomicFile.Write(path, stream => stream.Write(Encode(data, shape)));
    }

    public static void Write(string path, Tensor tensor) => Write(path, tensor.ToArray(), tensor.Shape);

    private static void CheckShape(string path, int[] shape, long length)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"{path}: negative dimension in shape {Tensor.Format(shape)}.");
            count *= d;
        }
        if (count != length)
            throw new ArgumentException($"{path}: shape {Tensor.Format(shape)} needs {count} values, got {length}.");
    }

    /// <summary>The bytes of a version 1.0 .npy file of float32 values.</summary>
    public static byte[] Encode(float[] data, int[] shape)
    {
        var bytes = Header("<f4", shape, 4L * data.Length, out var body);
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(body[(4 * i)..], data[i]);
        return bytes;
    }

    /// <summary>The bytes of a version 1.0 .npy file of float64 values.</summary>
    public static byte[] Encode(double[] data, int[] shape)
    {
        var bytes = Header("<f8", shape, 8L * data.Length, out var body);
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(body[(8 * i)..], data[i]);
        return bytes;
    }

    /// <summary>A file buffer with magic and padded header written; <paramref name="body"/> is where the data goes.</summary>
    private static byte[] Header(string descr, int[] shape, long dataBytes, out Span<byte> body)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        // Pad with spaces so that magic + length + header is a multiple of 64, ending in a newline.
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + dataBytes];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        body = bytes.AsSpan(10 + header.Length);
        return bytes;
    }

    private static string Field(Regex regex, string header, string key, string name)
    {
        var m = regex.Match(header);
        if (!m.Success) throw new InvalidDataException($"{name}: .npy header has no '{key}' entry: {header.Trim()}");
        return m.Groups[1].Value;
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]+)['""]")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
