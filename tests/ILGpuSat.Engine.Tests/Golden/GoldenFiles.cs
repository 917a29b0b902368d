using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using ILGpuSat.Engine.Verification;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// Locates tests/golden (written by tests/golden/make_golden.py) and reads its files. The test
/// runner may execute from a copy of the build output, so besides walking up from
/// the test directory we fall back to this source file's compile-time location.
/// </summary>
internal static class GoldenFiles
{
    private static readonly Lazy<string> root = new(FindGoldenRoot);

    public static string Root => root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static JsonDocument Manifest(string area)
    {
        var file = Path(area, "manifest.json");
        return JsonDocument.Parse(File.ReadAllBytes(file));
    }

    /// <summary>
    /// tests/golden is the parent of the ops folder <see cref="GoldenOps.Find"/> locates (ILGPUSAT_REPO,
    /// else walking up from the test directory, the current directory, the program directory and
    /// this source file's compile-time folder).
    /// </summary>
    private static string FindGoldenRoot()
    {
        var src = ThisSourceFile();
        var ops = GoldenOps.Find(TestContext.CurrentContext.TestDirectory, System.IO.Path.GetDirectoryName(src));
        return System.IO.Path.GetDirectoryName(ops)!;
    }

    private static string ThisSourceFile([CallerFilePath] string path = "") => path;
}

/// <summary>
/// Minimal .npy reader for the golden files (little-endian float32, C order, format 1.x/2.x/3.x),
/// independent of the engine's own Npy so that a bug there cannot hide a bug elsewhere: the optimizer
/// and state-dict goldens read with it, and <see cref="OpGoldenTests"/> checks that the engine's Npy
/// (which <see cref="GoldenOps"/> reads the op cases with) agrees with it on every op golden file.
/// </summary>
internal static class NpyFile
{
    public static (float[] Data, int[] Shape) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not an .npy file.");
        int major = bytes[6];
        int headerLen, headerStart;
        if (major == 1) { headerLen = BitConverter.ToUInt16(bytes, 8); headerStart = 10; }
        else { headerLen = (int)BitConverter.ToUInt32(bytes, 8); headerStart = 12; }
        var header = Encoding.ASCII.GetString(bytes, headerStart, headerLen);
        if (!header.Contains("'descr': '<f4'"))
            throw new InvalidDataException($"{path}: expected dtype '<f4', header is {header}.");
        if (!header.Contains("'fortran_order': False"))
            throw new InvalidDataException($"{path}: Fortran order is not supported.");
        int open = header.IndexOf("'shape': (", StringComparison.Ordinal) + "'shape': (".Length;
        int close = header.IndexOf(')', open);
        var shape = header[open..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(int.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int dataStart = headerStart + headerLen;
        if (bytes.Length - dataStart != count * 4)
            throw new InvalidDataException($"{path}: {bytes.Length - dataStart} data bytes for shape ({string.Join(",", shape)}).");
        var data = new float[count];
        Buffer.BlockCopy(bytes, dataStart, data, 0, (int)(count * 4));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian host");
        return (data, shape);
    }
}
