using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// Pictures side by side: one row per image, one column per picture (each RGB, or grey replicated), on a black
/// canvas with <see cref="Gap"/>-pixel gaps; a picture smaller than its cell sits at the cell's top-left.
/// </summary>
public static class PictureGrid
{
    public const int Gap = 4;

    public static RasterImage Compose(IReadOnlyList<IReadOnlyList<RasterImage>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0 || rows.Any(r => r.Count == 0)) throw new ArgumentException("picture grid: needs at least one row and one picture per row.");
        int columns = rows.Max(r => r.Count);
        var colWidth = Enumerable.Range(0, columns).Select(c => rows.Max(r => c < r.Count ? r[c].Width : 0)).ToArray();
        var rowHeight = rows.Select(r => r.Max(p => p.Height)).ToArray();
        int width = colWidth.Sum() + Gap * (columns - 1), height = rowHeight.Sum() + Gap * (rows.Count - 1);
        var canvas = RasterImage.Create(width, height, 3);
        int y0 = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            int x0 = 0;
            for (int c = 0; c < rows[r].Count; c++)
            {
                Paste(canvas, rows[r][c], x0, y0);
                x0 += colWidth[c] + Gap;
            }
            y0 += rowHeight[r] + Gap;
        }
        return canvas;
    }

    /// <summary>Copies <paramref name="picture"/>'s RGB (grey replicated) into <paramref name="canvas"/> at (x0, y0), clamped to 0..1.</summary>
    public static void Paste(RasterImage canvas, RasterImage picture, int x0, int y0)
    {
        var src = picture.RgbPlanes();
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < picture.Height; y++)
                for (int x = 0; x < picture.Width; x++)
                    canvas.Planes[ch][(y0 + y) * canvas.Width + x0 + x] = Math.Clamp(src[ch][y * picture.Width + x], 0f, 1f);
    }

    /// <summary>Each pixel repeated <paramref name="factor"/> times along both axes (how an LR input is shown beside 4x results).</summary>
    public static RasterImage Nearest(RasterImage image, int factor)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width * factor, h = image.Height * factor;
        var planes = image.Planes.Select(p =>
        {
            var dst = new float[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) dst[y * w + x] = p[y / factor * image.Width + x / factor];
            return dst;
        }).ToArray();
        return new RasterImage(w, h, planes);
    }

    public static RasterImage Grey(float[] plane, int width, int height) => new(width, height, [plane]);
}
