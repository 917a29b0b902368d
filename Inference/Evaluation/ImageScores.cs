using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// The scores of one method on one image. SR: Y-PSNR and SSIM (BT.601 Y, range 255, <see cref="Border"/> pixels cut
/// from each side) of the grey result against the grey truth. Colour (null when the method does not colour): RGB
/// PSNR (range 1, same border) against the colour truth, Hasler-Süsstrunk colourfulness of the result and of the
/// truth, and Zhang's ab-error AuC (thresholds 0..150) of the result's a*b* against the truth's.
/// </summary>
public sealed record ImageScores(string Method, string File, string Class, double YPsnr, double Ssim,
                                 double? ColourPsnr, double? Colourfulness, double TruthColourfulness, double? AbAuc, double Milliseconds)
{
    /// <summary>The SR convention: crop the scale factor.</summary>
    public const int Border = 4;

    public static ImageScores Compute(string method, EvaluationCase c, MethodOutput output, double milliseconds)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(output);
        int w = c.Width, h = c.Height;
        if (output.Grey.Length != w * h)
            throw new InvalidOperationException($"{method} on {c.File}: grey result has {output.Grey.Length} values, expected {w}x{h}.");
        var truthY = GreyLuma(c.TruthGrey);
        var y = GreyLuma(output.Grey);
        double yPsnr = ImageMetrics.Psnr(truthY, y, w, h, 255, Border);
        double ssim = ImageMetrics.Ssim(truthY, y, w, h, 255, Border);
        var t = c.Truth.Planes;
        double truthColourfulness = ColorMetrics.Colourfulness(t[0], t[1], t[2]);
        double? colourPsnr = null, colourfulness = null, auc = null;
        if (output.Colour is { } colour)
        {
            if (colour.Width != w || colour.Height != h || colour.Bands < 3)
                throw new InvalidOperationException($"{method} on {c.File}: colour result is {colour.Width}x{colour.Height}x{colour.Bands}, expected {w}x{h}x3.");
            var p = colour.Planes;
            colourPsnr = ImageMetrics.Psnr(t[..3], p[..3], w, h, 1.0, Border);
            colourfulness = ColorMetrics.Colourfulness(p[0], p[1], p[2]);
            var (_, ta, tb) = ToLab(t);
            var (_, pa, pb) = ToLab(p);
            auc = ColorMetrics.AbAuc(pa, pb, ta, tb);
        }
        return new ImageScores(method, c.File, c.Class, yPsnr, ssim, colourPsnr, colourfulness, truthColourfulness, auc, milliseconds);
    }

    /// <summary>BT.601 Y (16..235) of an sRGB grey plane: the MATLAB rgb2ycbcr luma with R = G = B.</summary>
    public static float[] GreyLuma(float[] grey) => ImageMetrics.LumaY(grey, grey, grey);

    /// <summary>CIE L*a*b* planes of sRGB planes (the colour scores read a*b*).</summary>
    internal static (float[] L, float[] A, float[] B) ToLab(float[][] rgb)
    {
        int n = rgb[0].Length;
        var l = new float[n]; var a = new float[n]; var b = new float[n];
        Lab.RgbToLab(rgb[0], rgb[1], rgb[2], l, a, b);
        return (l, a, b);
    }
}
