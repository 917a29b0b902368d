using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Locates tests/golden/imaging (written by make_imaging_refs.py) and reads its .npy/.json files.
/// Tests may run from a copy of the build output, so the fallback is this source file's compile-time path.
/// </summary>
public static class ImagingGolden
{
    static readonly Lazy<string> root = new(Find);
    static readonly Lazy<JsonDocument> refs = new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "imaging_refs.json"))));

    public static string Dir => root.Value;
    public static string File_(string name) => Path.Combine(Dir, name);
    public static JsonElement Refs => refs.Value.RootElement;
    public static double Ref(string key) => Refs.GetProperty(key).GetDouble();

    static string Find()
    {
        var starts = new List<string?> { Environment.GetEnvironmentVariable("ILGPUSAT_REPO"), AppContext.BaseDirectory, Here() };
        foreach (var s in starts)
        {
            if (string.IsNullOrEmpty(s)) continue;
            for (var d = new DirectoryInfo(s); d is not null; d = d.Parent)
            {
                var g = Path.Combine(d.FullName, "tests", "golden", "imaging");
                if (File.Exists(Path.Combine(g, "imaging_refs.json"))) return g;
            }
        }
        throw new DirectoryNotFoundException("tests/golden/imaging/imaging_refs.json not found above " + string.Join(", ", starts));
    }

    static string Here([CallerFilePath] string p = "") => p;

    /// <summary>Minimal .npy reader: little-endian float32 or float64, C order.</summary>
    public static (float[] Data, int[] Shape) Npy(string name)
    {
        var bytes = File.ReadAllBytes(File_(name));
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{name}: not a .npy file");
        int major = bytes[6];
        int hlen = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, start, hlen);
        if (header.Contains("'fortran_order': True")) throw new InvalidDataException($"{name}: Fortran order");
        int s0 = header.IndexOf("'shape': (", StringComparison.Ordinal) + 10;
        var shape = header[s0..header.IndexOf(')', s0)].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long n = shape.Aggregate(1L, (a, b) => a * b);
        int off = start + hlen;
        var data = new float[n];
        if (header.Contains("'<f4'")) Buffer.BlockCopy(bytes, off, data, 0, (int)n * 4);
        else if (header.Contains("'<f8'")) for (long i = 0; i < n; i++) data[i] = (float)BitConverter.ToDouble(bytes, off + (int)i * 8);
        else throw new InvalidDataException($"{name}: unsupported dtype in {header}");
        return (data, shape);
    }
}
