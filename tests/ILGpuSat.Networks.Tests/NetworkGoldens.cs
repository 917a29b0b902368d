using System.Text.Json;
using ILGpuSat.Engine;
using ILGpuSat.Engine.IO;
using ILGpuSat.Engine.Verification;
using ILGpuSat.Kernels;
using ILGpuSat.Tests.Common;
using NUnit.Framework;

namespace ILGpuSat.Networks.Tests;

/// <summary>One case of tests/golden/networks/manifest.json (written by tests/golden/make_network_golden.py).</summary>
public sealed record NetworkGoldenCase(string Name, JsonElement Entry)
{
    public string Folder => Path.Combine(NetworkGoldens.Root, Name);

    public string ConfigJson => Entry.GetProperty("config").GetRawText();

    public string File(string key) => Path.Combine(Folder, Entry.GetProperty("files").GetProperty(key).GetString()!);

    public bool Has(string key) => Entry.GetProperty("files").TryGetProperty(key, out _);

    public long Count(string key) => Entry.GetProperty(key).GetInt64();

    public override string ToString() => Name;
}

/// <summary>The network goldens: where they are, and reading their tensors.</summary>
public static class NetworkGoldens
{
    private static readonly Lazy<JsonDocument> manifest = new(() =>
        JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(Root, "manifest.json"))));

    public static string Root => Path.Combine(RepositoryPaths.Root, "tests", "golden", "networks");

    public static IReadOnlyList<NetworkGoldenCase> Cases =>
        manifest.Value.RootElement.GetProperty("cases").EnumerateArray()
            .Select(e => new NetworkGoldenCase(e.GetProperty("name").GetString()!, e)).ToList();

    public static NetworkGoldenCase Case(string name) => Cases.Single(c => c.Name == name);

    public static Tensor Load(string path, Backend backend)
    {
        var (data, shape) = Npy.Read(path);
        return Tensor.FromArray(data, shape, backend);
    }

    /// <summary>Safetensors as host arrays by name (an int64 num_batches_tracked comes as float).</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> Named(string path) =>
        SafeTensors.Read(path).Tensors.ToDictionary(t => t.Name, t => t.Value);

    /// <summary>NUnit assertion with the metric and tolerance of the op goldens (<see cref="GoldenComparison"/>).</summary>
    public static void AssertClose(string what, Tensor actual, float[] expected, int[] expectedShape, double tolerance)
    {
        var c = GoldenComparison.Of(what, actual.ToArray(), actual.Shape, expected, expectedShape, tolerance);
        if (!double.IsNaN(c.RelError)) TestContext.Out.WriteLine($"{what}: max rel error {c.RelError:E2}");
        if (!c.Pass) Assert.Fail(c.Problem ?? what);
    }
}
