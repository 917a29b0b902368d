using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.IO;

/// <summary>
/// NumPy .npy files (format versions 1-3). Writes little-endian float32 ('&lt;f4') in C order;
/// reads '&lt;f4', '&lt;f8', '&lt;f2', '&lt;i8', '&lt;i4', '&lt;i2', '|i1', '|u1' and '|b1' (converted to float).
/// Every error names the file.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static (float[] Data, int[] Shape) Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read .npy file: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Reads a file into a tensor on <paramref name="backend"/> (the default backend when null).</summary>
    public static Tensor ReadTensor(string path, Backend? backend = null)
    {
        var (data, shape) = Read(path);
        return Tensor.FromArray(data, shape, backend: backend);
    }

    public static (float[] Data, int[] Shape) Parse(ReadOnlySpan<byte> bytes, string name)
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
            "<f4" or "<i4" => 4,
            "<f8" or "<i8" => 8,
            "<f2" or "<i2" => 2,
            "|i1" or "|u1" or "|b1" => 1,
            _ => throw new InvalidDataException($"{name}: unsupported dtype '{descr}' (supported: <f4, <f8, <f2, <i8, <i4, <i2, |i1, |u1, |b1; little-endian)."),
        };
        var payload = bytes[(headerStart + headerLength)..];
        long needed = count * itemSize;
        if (payload.Length < needed)
            throw new InvalidDataException($"{name}: truncated .npy data: shape ({shapeText}) of '{descr}' needs {needed} bytes, file has {payload.Length}.");
        payload = payload[..(int)needed];

        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = descr switch
            {
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(payload[(4 * i)..]),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(payload[(4 * i)..]),
                "<f8" => (float)BinaryPrimitives.ReadDoubleLittleEndian(payload[(8 * i)..]),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(payload[(8 * i)..]),
                "<f2" => (float)BinaryPrimitives.ReadHalfLittleEndian(payload[(2 * i)..]),
                "<i2" => BinaryPrimitives.ReadInt16LittleEndian(payload[(2 * i)..]),
                "|i1" => (sbyte)payload[i],
                _ => payload[i],
            };
        }
        return (data, shape);
    }

    /// <summary>Writes float32 data in C order (atomically: temporary file, then rename).</summary>
    public static void Write(string path, float[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"{path}: negative dimension in shape {Tensor.Format(shape)}.");
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"{path}: shape {Tensor.Format(shape)} needs {count} values, got {data.Length}.");
        AtomicFile.Write(path, stream => stream.Write(Encode(data, shape)));
    }

    public static void Write(string path, Tensor tensor) => Write(path, tensor.ToArray(), tensor.Shape);

    /// <summary>The bytes of a version 1.0 .npy file of float32 values.</summary>
    public static byte[] Encode(float[] data, int[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        // Pad with spaces so that magic + length + header is a multiple of 64, ending in a newline.
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + 4L * data.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        var body = bytes.AsSpan(10 + header.Length);
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(body[(4 * i)..], data[i]);
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
