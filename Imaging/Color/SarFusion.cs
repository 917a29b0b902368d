using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Color;

/// <summary>How the SAR image's samples are read as the backscatter sigma0 scaled to [0, 1].</summary>
public enum SarUnits
{
    /// <summary>
    /// Whole-number samples (8- or 16-bit integers) are display values already scaled (<see cref="Scaled"/>); samples
    /// with fractions are floats: dB when any is negative, else linear power.
    /// </summary>
    Auto,
    /// <summary>Display values already in [0, 1] after the file's full range (8-bit / 255, 16-bit / 65535), used as they are:
    /// the sar-optical data set's PNGs, whose producers divided each image by its 99% quantile and clipped.</summary>
    Scaled,
    /// <summary>Linear sigma0 (power, as GRD products calibrated to sigma0): converted to dB, then scaled.</summary>
    Linear,
    /// <summary>sigma0 in dB: scaled from [<see cref="SarFusionOptions.DbMin"/>, <see cref="SarFusionOptions.DbMax"/>] to [0, 1].</summary>
    Decibels,
}

/// <summary>Settings of <see cref="SarFusion"/>.</summary>
public sealed record SarFusionOptions
{
    public SarUnits Units { get; init; } = SarUnits.Auto;

    /// <summary>dB mapped to 0: -25 dB, the usual floor of Sentinel-1 IW backscatter over land (water and shadow lie below).</summary>
    public double DbMin { get; init; } = -25;

    /// <summary>dB mapped to 1: 0 dB, above which only strong point scatterers (buildings, ships) lie.</summary>
    public double DbMax { get; init; } = 0;

    internal void Validate()
    {
        if (!(DbMax > DbMin) || double.IsInfinity(DbMin) || double.IsInfinity(DbMax))
            throw new ArgumentException($"SarFusionOptions: the dB range must be finite with min < max, got [{DbMin}, {DbMax}].");
    }
}

/// <summary>
/// The Lab fusion that makes colour targets for SAR colorization (Schmitt et al. 2018): the optical image in CIE
/// L*a*b*, its L* replaced by 100 x sigma0 (sigma0 scaled to [0, 1], <see cref="SarUnits"/>), its a*b* kept, back
/// to sRGB (skimage's lab2rgb, clipped to [0, 1]). The result has the SAR's structure and brightness and the
/// optical image's hues: an "artificial colour SAR" image a network learns to produce from the SAR alone.
/// </summary>
public static class SarFusion
{
    /// <summary>sigma0 scaled to [0, 1] from band 1 of a SAR image read with <see cref="StretchMode.Raw"/>.</summary>
    public static float[] ScaledSigma0(RasterImage sar, SarFusionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sar);
        options ??= new SarFusionOptions();
        options.Validate();
        var raw = sar.Planes[0];
        bool isFloat = IsFloatLike(raw);
        var units = options.Units;
        if (units == SarUnits.Auto) units = !isFloat ? SarUnits.Scaled : raw.Any(v => v < 0) ? SarUnits.Decibels : SarUnits.Linear;
        double full = sar.SourceBitDepth switch { 8 => 255.0, 16 => 65535.0, _ => 1.0 };
        var scaled = new float[raw.Length];
        double span = options.DbMax - options.DbMin;
        for (int i = 0; i < raw.Length; i++)
        {
            double v = raw[i];
            double s = units switch
            {
                SarUnits.Scaled => v / full,
                SarUnits.Linear => (10 * Math.Log10(Math.Max(v, 1e-10)) - options.DbMin) / span,
                _ => (v - options.DbMin) / span,
            };
            scaled[i] = (float)Math.Clamp(s, 0, 1);
        }
        return scaled;
    }

    // Raw float samples hold fractions or negatives; raw integer samples read as floats are whole numbers.
    private static bool IsFloatLike(float[] values) => values.Any(v => v != MathF.Round(v));

    /// <summary>
    /// The fused sRGB image (3 planes, [0, 1]) of sigma0 scaled to [0, 1] and an optical sRGB image of the same
    /// size (3 planes, [0, 1]).
    /// </summary>
    public static float[][] Fuse(float[] sigma0, float[][] opticalRgb)
    {
        ArgumentNullException.ThrowIfNull(sigma0);
        ArgumentNullException.ThrowIfNull(opticalRgb);
        if (opticalRgb.Length != 3) throw new ArgumentException($"SarFusion: the optical image needs 3 bands (RGB), got {opticalRgb.Length}.");
        int n = sigma0.Length;
        foreach (var p in opticalRgb)
            if (p.Length != n) throw new ArgumentException($"SarFusion: the optical planes hold {p.Length} pixels, the SAR {n}.");
        var l = new float[n];
        var a = new float[n];
        var b = new float[n];
        Lab.RgbToLab(opticalRgb[0], opticalRgb[1], opticalRgb[2], l, a, b);
        for (int i = 0; i < n; i++) l[i] = 100f * sigma0[i];
        var rgb = new[] { new float[n], new float[n], new float[n] };
        Lab.LabToRgb(l, a, b, rgb[0], rgb[1], rgb[2]);
        return rgb;
    }
}
