using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Metrics;

/// <summary>
/// Per-region PSNR (the paper's Fig. 3): PSNR of each TileSize x TileSize tile (edge tiles may be smaller),
/// and a colour-mapped rendering at the image's own size so it overlays the image.
/// </summary>
public sealed class PsnrMap
{
    public int TilesX { get; }
    public int TilesY { get; }
    public int TileSize { get; }
    public int Width { get; }
    public int Height { get; }
    /// <summary>Row-major TilesX*TilesY values in dB (+Infinity for a tile without error).</summary>
    public double[] Values { get; }

    PsnrMap(int tilesX, int tilesY, int tileSize, int width, int height, double[] values)
    {
        TilesX = tilesX; TilesY = tilesY; TileSize = tileSize; Width = width; Height = height; Values = values;
    }

    public double this[int tx, int ty] => Values[ty * TilesX + tx];

    public static PsnrMap Compute(float[] reference, float[] test, int width, int height, int tileSize, double dataRange)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (width <= 0 || height <= 0 || reference.Length != (long)width * height || test.Length != reference.Length)
            throw new ArgumentException($"PsnrMap: planes of {reference.Length} and {test.Length} values do not match {width}x{height}");
        if (tileSize <= 0) throw new ArgumentException($"PsnrMap: tile size must be positive, got {tileSize}");
        if (!(dataRange > 0)) throw new ArgumentException($"PsnrMap: data range must be positive, got {dataRange}");
        int tx = (width + tileSize - 1) / tileSize, ty = (height + tileSize - 1) / tileSize;
        var v = new double[tx * ty];
        Parallel.For(0, ty, j =>
        {
            for (int i = 0; i < tx; i++)
            {
                int x0 = i * tileSize, y0 = j * tileSize, x1 = Math.Min(width, x0 + tileSize), y1 = Math.Min(height, y0 + tileSize);
                double s = 0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) { double d = (double)reference[y * width + x] - test[y * width + x]; s += d * d; }
                double mse = s / ((x1 - x0) * (y1 - y0));
                v[j * tx + i] = mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(dataRange * dataRange / mse);
            }
        });
        return new PsnrMap(tx, ty, tileSize, width, height, v);
    }

    /// <summary>Jet colour map (blue = low, red = high) for t in 0..1.</summary>
    public static (float R, float G, float B) Jet(double t)
    {
        t = double.IsNaN(t) ? 0 : Math.Clamp(t, 0, 1);
        static float C(double v) => (float)Math.Clamp(v, 0, 1);
        return (C(1.5 - Math.Abs(4 * t - 3)), C(1.5 - Math.Abs(4 * t - 2)), C(1.5 - Math.Abs(4 * t - 1)));
    }

    /// <summary>
    /// RGB rendering at Width x Height: each tile filled with the jet colour of its PSNR mapped linearly from
    /// <paramref name="minDb"/> (blue) to <paramref name="maxDb"/> (red); +Infinity shows as maxDb.
    /// A <paramref name="legendWidth"/>-pixel colour bar (minDb at the bottom) is appended on the right when positive.
    /// </summary>
    public RasterImage Render(double minDb, double maxDb, int legendWidth = 0)
    {
        if (!(maxDb > minDb)) throw new ArgumentException($"PsnrMap.Render: need maxDb > minDb, got {minDb}..{maxDb}");
        int gap = legendWidth > 0 ? 2 : 0;
        int w = Width + gap + Math.Max(0, legendWidth);
        var img = RasterImage.Create(w, Height, 3);
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                double v = this[x / TileSize, y / TileSize];
                var (r, g, b) = Jet(double.IsPositiveInfinity(v) ? 1 : (v - minDb) / (maxDb - minDb));
                int p = y * w + x;
                img.Planes[0][p] = r; img.Planes[1][p] = g; img.Planes[2][p] = b;
            }
            if (legendWidth > 0)
            {
                var (r, g, b) = Jet(Height == 1 ? 1 : 1.0 - (double)y / (Height - 1));
                for (int x = Width + gap; x < w; x++)
                {
                    int p = y * w + x;
                    img.Planes[0][p] = r; img.Planes[1][p] = g; img.Planes[2][p] = b;
                }
            }
        }
        return img;
    }

    /// <summary>Writes <see cref="Render"/> as a PNG (atomically, see <see cref="ImageWriter"/>).</summary>
    public void SavePng(string path, double minDb, double maxDb, int legendWidth = 12)
        => ImageWriter.Write(path, Render(minDb, maxDb, legendWidth), new WriteOptions { Format = ImageFileFormat.Png });
}
