using NUnit.Framework;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ILGpuSat.Imaging.Tests.Color;

/// <summary>Reads the JSON references written by tests/golden/color/make_color_refs.py.</summary>
internal sealed class ColorGolden : IDisposable
{
    private readonly JsonDocument _doc;

    private ColorGolden(JsonDocument doc) => _doc = doc;

    /// <summary>The golden folder, found from this source file's location (tests run from a copied bin folder).</summary>
    public static string Folder([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "golden", "color"));

    public static ColorGolden Open(string name)
    {
        string path = Path.Combine(Folder(), name);
        if (!File.Exists(path)) Assert.Fail($"golden file {path} is missing; run tests/golden/color/make_color_refs.py");
        return new ColorGolden(JsonDocument.Parse(File.ReadAllText(path)));
    }

    public double Scalar(string key) => _doc.RootElement.GetProperty(key).GetDouble();

    public double[] Vector(string key) =>
        _doc.RootElement.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>A 2-D array as rows.</summary>
    public double[][] Matrix(string key) =>
        _doc.RootElement.GetProperty(key).EnumerateArray()
            .Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();

    /// <summary>Column c of a 2-D array as floats (a plane of one channel).</summary>
    public float[] Column(string key, int c) => Matrix(key).Select(r => (float)r[c]).ToArray();

    public void Dispose() => _doc.Dispose();
}
