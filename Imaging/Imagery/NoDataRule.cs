using System.Globalization;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// How masked pixels leave the program. GDAL (and every GIS that follows it) takes a band's nodata value
/// literally: any sample equal to it is nodata. So the value written for masked pixels must be one that
/// no valid sample takes, and the GDAL_NODATA tag must say exactly that value. In order of preference:
/// <list type="number">
/// <item>the source's own nodata value, when it is an integer the output type holds and no valid sample takes it;</item>
/// <item>0, when no valid sample is 0;</item>
/// <item>the type's maximum (255 or 65535), when no valid sample takes it;</item>
/// <item>otherwise 0, with valid samples of 0 raised to 1: the darkest valid level moves up one step
/// (1/255 at 8 bits), the only change to valid data this rule ever makes.</item>
/// </list>
/// With no masked pixel and no source tag, no nodata value is written.
/// </summary>
internal static class NoDataRule
{
    /// <summary>Integer samples of every band and the nodata value they use (null when none is written).</summary>
    public static (ushort[][] Samples, ushort? NoData) Quantise(RasterImage image, int bitDepth, bool restoreSourceRange, string? sourceNoData)
    {
        int max = bitDepth == 16 ? 65535 : 255;
        var valid = image.Valid;
        var samples = new ushort[image.Bands][];
        Parallel.For(0, image.Bands, b =>
        {
            var p = image.Planes[b];
            var q = samples[b] = new ushort[p.Length];
            BandStretch? s = restoreSourceRange && bitDepth == 16 && image.Stretch is { } st && b < st.Length ? st[b] : null;
            for (int i = 0; i < p.Length; i++)
            {
                if (s is { } bs)
                {
                    float v = float.IsNaN(p[i]) ? 0f : p[i];
                    q[i] = (ushort)Math.Clamp(Math.Round(bs.Invert(Math.Clamp(v, 0f, 1f)), MidpointRounding.AwayFromZero), 0, max);
                }
                else q[i] = (ushort)SampleQuantizer.ToSample(p[i], max);
            }
        });

        bool masked = valid is not null && Array.IndexOf(valid, false) >= 0;
        double? tagged = Parse(sourceNoData);
        if (!masked && tagged is null) return (samples, null);

        var used = new bool[max + 1];
        foreach (var q in samples)
            for (int i = 0; i < q.Length; i++)
                if (valid is null || valid[i]) used[q[i]] = true;

        ushort noData;
        if (tagged is { } t && t == Math.Floor(t) && t >= 0 && t <= max && !used[(int)t]) noData = (ushort)t;
        else if (!used[0]) noData = 0;
        else if (!used[max]) noData = (ushort)max;
        else
        {
            noData = 0;
            foreach (var q in samples)
                for (int i = 0; i < q.Length; i++)
                    if (q[i] == 0 && (valid is null || valid[i])) q[i] = 1;
        }
        if (masked)
            foreach (var q in samples)
                for (int i = 0; i < q.Length; i++)
                    if (!valid![i]) q[i] = noData;
        return (samples, noData);
    }

    /// <summary>GDAL_NODATA text as a number; "nan" and unparsable text give null (no integer output can hold them).</summary>
    static double? Parse(string? text) =>
        text is not null && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;
}
