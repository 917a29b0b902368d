using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Tests.Data;

/// <summary>Small synthetic images on disk and a simple resize for the data-pipeline tests.</summary>
internal sealed class DataFixtures : IDisposable
{
    public DataFixtures() => Root = Directory.CreateTempSubdirectory("ilgpusat-data-").FullName;

    public string Root { get; }

    public string Folder(string name)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A PNG with smooth random colours (seeded), so patches differ from each other.</summary>
    public string WritePng(string folder, string name, int width, int height, int seed)
    {
        var rng = new Random(seed);
        double f1 = rng.NextDouble() * 0.2, f2 = rng.NextDouble() * 0.2, ph = rng.NextDouble() * 6;
        var image = RasterImage.Create(width, height, 3);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            // Whole levels over 255, so the 8-bit PNG holds exactly these values.
            image[0, y, x] = (byte)(127 + 120 * Math.Sin(f1 * x + ph)) / 255f;
            image[1, y, x] = (byte)(127 + 120 * Math.Cos(f2 * y + 2 * ph)) / 255f;
            image[2, y, x] = (byte)rng.Next(256) / 255f;
        }
        string path = Path.Combine(folder, name);
        ImageWriter.Write(path, image, new WriteOptions { Format = ImageFileFormat.Png });
        return path;
    }

    public string WriteGarbage(string folder, string name)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5]);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }

    /// <summary>
    /// Stand-in for the bicubic: separable linear interpolation with half-pixel centres and edge
    /// clamping. Linear and separable like imresize, which is all the pipeline tests need.
    /// </summary>
    public static float[] LinearResize(float[] plane, int w, int h, int ow, int oh)
    {
        var mid = new float[h * ow];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < ow; x++) mid[y * ow + x] = Sample(i => plane[y * w + i], w, (x + 0.5) * w / ow - 0.5);
        var result = new float[oh * ow];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) result[y * ow + x] = Sample(i => mid[i * ow + x], h, (y + 0.5) * h / oh - 0.5);
        return result;
    }

    private static float Sample(Func<int, float> at, int n, double u)
    {
        int i0 = (int)Math.Floor(u);
        double t = u - i0;
        int a = Math.Clamp(i0, 0, n - 1), b = Math.Clamp(i0 + 1, 0, n - 1);
        return (float)((1 - t) * at(a) + t * at(b));
    }
}
