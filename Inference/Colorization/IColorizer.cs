using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference.Colorization;

/// <summary>
/// A colour model at the same resolution, as <c>colorize</c> and <c>eval --colour</c> use every one of them: the grey it
/// reads from an image, and sRGB planes (3 x width x height, [0, 1]) from that grey (width x height, [0, 1]).
/// </summary>
public interface IColorizer : IDisposable
{
    /// <summary>What the method is, for tables and messages ("gan-colorizer (bundled)", "divcolor (run-a)").</summary>
    string Name { get; }

    /// <summary>True when the model learned from band 1 of separate grey images (SAR), false for L* / 100 of colour images.</summary>
    bool ReadsBand { get; }

    float[][] Colorize(float[] grey, int width, int height, CancellationToken cancellationToken = default);
}

/// <summary>A colorizer that draws several hypotheses, most probable first (divcolor's mixture components by weight).</summary>
public interface IHypothesisColorizer : IColorizer
{
    /// <summary>How many hypotheses it can draw (the mixture's components).</summary>
    int MaxHypotheses { get; }

    IReadOnlyList<ColourHypothesis> Hypotheses(float[] grey, int width, int height, int count, CancellationToken cancellationToken = default);
}

/// <summary>One colouring and the probability the model gives it.</summary>
public sealed record ColourHypothesis(double Weight, float[][] Rgb);

/// <summary>Helpers every colorizer shares.</summary>
public static class Colorizers
{
    /// <summary>
    /// The grey a colorizer reads from an image: band 1 for a model trained on grey / colour pairs (a SAR PNG stored as
    /// R = G = B is read as its value); otherwise a one-band image as it is and a colour image's L* / 100.
    /// </summary>
    public static float[] GreyOf(this IColorizer colorizer, RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(colorizer);
        ArgumentNullException.ThrowIfNull(image);
        if (colorizer.ReadsBand || image.Bands < 3) return image.Planes[0];
        return Lab.UnitLightness(image.Planes[0], image.Planes[1], image.Planes[2]);
    }

    /// <summary>sRGB planes from L* = 100 grey and a*b* planes of the same size (out-of-gamut colours clipped).</summary>
    public static float[][] RgbOf(float[] grey, float[] a, float[] b)
    {
        int n = grey.Length;
        var l = new float[n];
        for (int i = 0; i < n; i++) l[i] = 100f * grey[i];
        var rgb = new[] { new float[n], new float[n], new float[n] };
        Lab.LabToRgb(l, a, b, rgb[0], rgb[1], rgb[2]);
        return rgb;
    }
}
