namespace ILGpuSat.Imaging.Imagery;

/// <summary>How deeper-than-8-bit samples become 0..1.</summary>
public enum StretchMode
{
    /// <summary>Percentile stretch for 16-bit and float TIFFs (remote-sensing data rarely fills its type's
    /// range), full range for 16-bit PNG (a display encoding) and for 8-bit data.</summary>
    Auto,
    /// <summary>Per-band percentile stretch (<see cref="ReadOptions.LowPercentile"/>..<see cref="ReadOptions.HighPercentile"/>) over valid pixels.</summary>
    Percentile,
    /// <summary>Divide by the type's maximum (255, 65535); floats are taken as already 0..1 (clamped).</summary>
    FullRange,
    /// <summary>Source values unchanged (not the 0..1 display range): for band maths such as NDVI and for
    /// checking data; nodata pixels are still masked and set to 0.</summary>
    Raw,
}

/// <summary>Options for <see cref="ImageReader.Read"/>.</summary>
public sealed record ReadOptions
{
    /// <summary>1-based band numbers to keep, in output order (GDAL convention), e.g. [3,2,1] for RGB from
    /// a B,G,R,NIR multispectral file; null keeps every band.</summary>
    public int[]? Bands { get; init; }

    public StretchMode Stretch { get; init; } = StretchMode.Auto;

    /// <summary>Lower percentile (0..100) mapped to 0 by the percentile stretch.</summary>
    public double LowPercentile { get; init; } = 2.0;

    /// <summary>Upper percentile (0..100) mapped to 1 by the percentile stretch.</summary>
    public double HighPercentile { get; init; } = 98.0;

    /// <summary>Nodata value in source units; overrides the file's GDAL_NODATA tag when set.</summary>
    public double? NoData { get; init; }

    /// <summary>Ignore the file's GDAL_NODATA tag (no mask unless <see cref="NoData"/> is set).</summary>
    public bool IgnoreFileNoData { get; init; }

    /// <summary>Largest accepted Width*Height (one plane must fit one .NET array).</summary>
    public long MaxPixels { get; init; } = int.MaxValue;

    /// <summary>Largest accepted number of bands in the file.</summary>
    public int MaxBands { get; init; } = 64;

    public static ReadOptions Default { get; } = new();
}
