using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// A labelled contact sheet, as Deshpande et al.'s Fig. 4 and Schmitt et al.'s SAR figures lay them out: the reference
/// pictures (input, target, optical) on the first row, the hypotheses below in rows of <c>columns</c>, each shrunk to
/// fit a <c>thumb</c>-pixel square and captioned underneath, on white.
/// </summary>
public static class ContactSheet
{
    private const int Gap = 6, CaptionScale = 2, CaptionHeight = TinyFont.Height * CaptionScale + 6;

    public static RasterImage Compose(IReadOnlyList<(string Caption, RasterImage Picture)> references,
                                      IReadOnlyList<(string Caption, RasterImage Picture)> hypotheses, int thumb = 256, int columns = 4)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (thumb < 16 || columns < 1) throw new ArgumentException($"contact sheet: thumb {thumb} must be at least 16 and columns {columns} positive.");
        var rows = new List<IReadOnlyList<(string, RasterImage)>>();
        if (references.Count > 0) rows.Add(references);
        for (int i = 0; i < hypotheses.Count; i += columns) rows.Add(hypotheses.Skip(i).Take(columns).ToList());
        if (rows.Count == 0) throw new ArgumentException("contact sheet: nothing to show.");
        int across = rows.Max(r => r.Count);
        int cellH = thumb + CaptionHeight;
        int width = across * thumb + (across + 1) * Gap, height = rows.Count * cellH + (rows.Count + 1) * Gap;
        var canvas = new byte[width * height * 3];
        Array.Fill(canvas, (byte)255);
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < rows[r].Count; c++)
            {
                var (caption, picture) = rows[r][c];
                int x0 = Gap + c * (thumb + Gap), y0 = Gap + r * (cellH + Gap);
                Paste(canvas, width, Thumbnail(picture, thumb), x0, y0);
                string text = caption.Length * TinyFont.Advance * CaptionScale > thumb ? caption[..Math.Max(1, thumb / (TinyFont.Advance * CaptionScale))] : caption;
                TinyFont.Draw(canvas, width, height, x0, y0 + thumb + 4, text, CaptionScale, (0, 0, 0));
            }
        var planes = new[] { new float[width * height], new float[width * height], new float[width * height] };
        for (int i = 0; i < width * height; i++)
            for (int ch = 0; ch < 3; ch++) planes[ch][i] = canvas[i * 3 + ch] / 255f;
        return new RasterImage(width, height, planes);
    }

    private static RasterImage Thumbnail(RasterImage picture, int thumb)
    {
        double scale = Math.Min(1.0, (double)thumb / Math.Max(picture.Width, picture.Height));
        if (scale >= 1) return picture;
        int w = Math.Max(1, (int)Math.Round(picture.Width * scale)), h = Math.Max(1, (int)Math.Round(picture.Height * scale));
        var rgb = picture.RgbPlanes().Select(p => AreaAverage.Shrink(p, picture.Width, picture.Height, w, h)).ToArray();
        return new RasterImage(w, h, rgb);
    }

    private static void Paste(byte[] canvas, int width, RasterImage picture, int x0, int y0)
    {
        var rgb = picture.RgbPlanes();
        for (int y = 0; y < picture.Height; y++)
            for (int x = 0; x < picture.Width; x++)
                for (int ch = 0; ch < 3; ch++)
                    canvas[((y0 + y) * width + x0 + x) * 3 + ch] = (byte)Math.Round(255 * Math.Clamp(rgb[ch][y * picture.Width + x], 0f, 1f));
    }
}
