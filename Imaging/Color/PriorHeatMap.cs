using System.Globalization;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Color;

/// <summary>
/// Draws ab distributions as log-scale heat maps side by side (Liu et al. 2018, Fig. 2: ImageNet,
/// satellite, fused). Each panel is the ab plane on the bin grid: a to the right, b up, one square
/// per 10x10 bin, colour = log10 p on a viridis-like scale shared by all panels (legend bar on the
/// right); grey squares are outside the 313-bin gamut. Titles use a built-in bitmap font.
/// </summary>
public static class PriorHeatMap
{
    private const int Cell = 12, GridMin = -110, GridCells = 23;   // a, b in [-110, 110]
    private const int Plot = Cell * GridCells;
    private const int Left = 44, Top = 34, Bottom = 34, Gap = 24, BarWidth = 18, BarLabel = 64;
    private const double MaxDecades = 8; // dynamic range shown: hide the 1e-9 tail of Zhang's prior

    private static readonly (byte, byte, byte) Ink = (20, 20, 20), OutOfGamut = (215, 215, 215);

    /// <summary>Renders the panels and writes a PNG (whatever the extension) through <see cref="ImageWriter"/>,
    /// so the figure gets the same atomic write as every other image.</summary>
    public static void Write(string path, IReadOnlyList<(string Title, ColorPrior Prior)> panels, AbBins? bins = null)
    {
        var rgb = Render(panels, out int width, out int height, bins);
        var image = RasterImage.Create(width, height, 3);
        for (int b = 0; b < 3; b++)
        {
            var p = image.Planes[b];
            for (int i = 0; i < p.Length; i++) p[i] = rgb[3 * i + b] / 255f; // written back exactly by the 8-bit rounding
        }
        ImageWriter.Write(path, image, new WriteOptions { Format = ImageFileFormat.Png });
    }

    /// <summary>The figure as interleaved RGB bytes.</summary>
    public static byte[] Render(IReadOnlyList<(string Title, ColorPrior Prior)> panels, out int width, out int height, AbBins? bins = null)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("PriorHeatMap: no panels to draw.");
        bins ??= AbBins.Default;
        double hi = double.NegativeInfinity, lo = double.PositiveInfinity;
        foreach (var (_, prior) in panels)
            foreach (double p in prior.Probabilities)
                if (p > 0) { hi = Math.Max(hi, Math.Log10(p)); lo = Math.Min(lo, Math.Log10(p)); }
        lo = Math.Max(lo, hi - MaxDecades);
        if (hi - lo < 1e-9) lo = hi - 1;

        int panelWidth = Left + Plot;
        width = panels.Count * panelWidth + (panels.Count - 1) * Gap + Gap + BarWidth + BarLabel;
        height = Top + Plot + Bottom;
        var img = new byte[width * height * 3];
        Array.Fill(img, (byte)255);

        for (int k = 0; k < panels.Count; k++)
        {
            int x0 = k * (panelWidth + Gap) + Left, y0 = Top;
            var (title, prior) = panels[k];
            TinyFont.Draw(img, width, height, x0 + (Plot - TinyFont.Measure(title, 2)) / 2, 8, title, 2, Ink);
            FillRect(img, width, x0, y0, Plot, Plot, OutOfGamut);
            for (int q = 0; q < AbBins.Count; q++)
            {
                int ca = (int)((bins.A[q] - GridMin) / 10), cb = (int)((bins.B[q] - GridMin) / 10);
                double p = prior[q];
                double t = p > 0 ? Math.Clamp((Math.Log10(p) - lo) / (hi - lo), 0, 1) : 0;
                FillRect(img, width, x0 + ca * Cell, y0 + (GridCells - 1 - cb) * Cell, Cell, Cell, Viridis(t));
            }
            // Axes: ticks and labels at -100, 0, 100; "a" below, "b" at the left.
            foreach (int v in new[] { -100, 0, 100 })
            {
                int px = x0 + (v - GridMin) / 10 * Cell + Cell / 2;
                int py = y0 + (GridCells - 1 - (v - GridMin) / 10) * Cell + Cell / 2;
                string s = v.ToString(CultureInfo.InvariantCulture);
                FillRect(img, width, px, y0 + Plot, 1, 4, Ink);
                TinyFont.Draw(img, width, height, px - TinyFont.Measure(s, 1) / 2, y0 + Plot + 6, s, 1, Ink);
                FillRect(img, width, x0 - 4, py, 4, 1, Ink);
                TinyFont.Draw(img, width, height, x0 - 6 - TinyFont.Measure(s, 1), py - 3, s, 1, Ink);
            }
            TinyFont.Draw(img, width, height, x0 + Plot / 2 - 5, y0 + Plot + 18, "A", 2, Ink);
            TinyFont.Draw(img, width, height, x0 - Left + 2, y0 + Plot / 2 - 7, "B", 2, Ink);
        }

        // Shared colour bar: log10 p from lo (bottom) to hi (top).
        int bx = panels.Count * (panelWidth + Gap), by = Top;
        for (int y = 0; y < Plot; y++)
            FillRect(img, width, bx, by + y, BarWidth, 1, Viridis(1 - (double)y / (Plot - 1)));
        foreach (double t in new[] { 0.0, 0.5, 1.0 })
        {
            string s = (lo + t * (hi - lo)).ToString("0.0", CultureInfo.InvariantCulture);
            TinyFont.Draw(img, width, height, bx + BarWidth + 4, by + (int)((1 - t) * (Plot - 7)), s, 1, Ink);
        }
        TinyFont.Draw(img, width, height, bx - 4, 8, "LOG10 P", 1, Ink);
        return img;
    }

    private static readonly double[] ViridisStops = [68, 1, 84, 59, 82, 139, 33, 145, 140, 94, 201, 98, 253, 231, 37];

    // Piecewise-linear approximation of matplotlib's viridis.
    private static (byte, byte, byte) Viridis(double t)
    {
        double u = Math.Clamp(t, 0, 1) * 4;
        int i = Math.Min(3, (int)u);
        double f = u - i;
        byte C(int c) => (byte)Math.Round(ViridisStops[i * 3 + c] * (1 - f) + ViridisStops[(i + 1) * 3 + c] * f);
        return (C(0), C(1), C(2));
    }

    private static void FillRect(byte[] img, int width, int x, int y, int w, int h, (byte R, byte G, byte B) c)
    {
        int height = img.Length / (3 * width);
        for (int yy = Math.Max(0, y); yy < Math.Min(height, y + h); yy++)
            for (int xx = Math.Max(0, x); xx < Math.Min(width, x + w); xx++)
            {
                int i = (yy * width + xx) * 3;
                img[i] = c.R; img[i + 1] = c.G; img[i + 2] = c.B;
            }
    }
}
