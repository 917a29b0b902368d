using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ILGpuSat.Training.Color;

/// <summary>
/// Minimal .npy reader/writer for the colour tables: reads little-endian float64/float32/int64/int32
/// C-order arrays as doubles and writes float64. (The Engine's Npy is float32 only; the priors are
/// float64 in Zhang's files and keep full precision here.)
/// </summary>
public static partial class NpyDoubles
{
    [GeneratedRegex(@"'descr':\s*'([<|=])([fi])(\d)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();

    /// <summary>Reads an array as doubles with its shape.</summary>
    public static (double[] Data, int[] Shape) Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        byte[] magic = reader.ReadBytes(6);
        if (magic.Length != 6 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new InvalidDataException($"NpyDoubles.Read: {path} is not a .npy file.");
        byte major = reader.ReadByte();
        reader.ReadByte();
        int headerLen = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
        string header = Encoding.ASCII.GetString(reader.ReadBytes(headerLen));
        var descr = DescrRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !shapeMatch.Success || header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"NpyDoubles.Read: {path}: unsupported header {header.Trim()} (need little-endian f4/f8/i4/i8, C order).");
        int[] shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (p, d) => p * d);
        char kind = descr.Groups[2].Value[0];
        int size = descr.Groups[3].Value[0] - '0';
        var data = new double[count];
        for (long i = 0; i < count; i++)
            data[i] = (kind, size) switch
            {
                ('f', 8) => reader.ReadDouble(),
                ('f', 4) => reader.ReadSingle(),
                ('i', 8) => reader.ReadInt64(),
                ('i', 4) => reader.ReadInt32(),
                _ => throw new InvalidDataException($"NpyDoubles.Read: {path}: dtype {kind}{size} not supported."),
            };
        return (data, shape);
    }

    /// <summary>Writes a float64 array (version 1.0 header, C order).</summary>
    public static void Write(string path, ReadOnlySpan<double> data, params int[] shape)
    {
        long count = shape.Aggregate(1L, (p, d) => p * d);
        if (count != data.Length)
            throw new ArgumentException($"NpyDoubles.Write: shape [{string.Join(",", shape)}] holds {count} values, data has {data.Length}.");
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)0x93);
        writer.Write(Encoding.ASCII.GetBytes("NUMPY"));
        writer.Write((byte)1);
        writer.Write((byte)0);
        writer.Write((ushort)header.Length);
        writer.Write(Encoding.ASCII.GetBytes(header));
        foreach (double v in data) writer.Write(v);
    }
}
