namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// GeoTIFF georeferencing tags, carried verbatim from a source file to an output file.
/// Raster space follows the GeoTIFF spec: (I, J) = (column, row); with RasterPixelIsArea (the default)
/// (0,0) is the outer corner of the first pixel, with RasterPixelIsPoint it is that pixel's centre.
/// </summary>
public sealed record GeoReference
{
    /// <summary>Tag 33550: (ScaleX, ScaleY, ScaleZ).</summary>
    public double[]? ModelPixelScale { get; init; }
    /// <summary>Tag 33922: one or more (I, J, K, X, Y, Z) tie points.</summary>
    public double[]? ModelTiepoint { get; init; }
    /// <summary>Tag 34264: 4x4 row-major raster-to-model matrix.</summary>
    public double[]? ModelTransformation { get; init; }
    /// <summary>Tag 34735: GeoKey directory (CRS definition).</summary>
    public ushort[]? GeoKeyDirectory { get; init; }
    /// <summary>Tag 34736.</summary>
    public double[]? GeoDoubleParams { get; init; }
    /// <summary>Tag 34737.</summary>
    public string? GeoAsciiParams { get; init; }
    /// <summary>Tag 42113 as written by GDAL (ASCII number, e.g. "0" or "-9999").</summary>
    public string? GdalNoData { get; init; }

    public const ushort GTRasterTypeGeoKey = 1025;
    public const ushort RasterPixelIsArea = 1;
    public const ushort RasterPixelIsPoint = 2;

    /// <summary>True when there is anything that places the raster on the ground.</summary>
    public bool HasGeoTransform => ModelTransformation is { Length: 16 } || (ModelTiepoint is { Length: >= 6 } && ModelPixelScale is { Length: >= 2 });

    /// <summary>Value of a short GeoKey stored in the directory itself, or null.</summary>
    public ushort? GetShortKey(ushort keyId)
    {
        var d = GeoKeyDirectory;
        if (d is null || d.Length < 4) return null;
        int count = d[3];
        for (int k = 0; k < count && 4 + 4 * k + 3 < d.Length; k++)
        {
            int o = 4 + 4 * k;
            if (d[o] == keyId && d[o + 1] == 0 && d[o + 2] == 1) return d[o + 3];
        }
        return null;
    }

    public bool IsPixelIsPoint => GetShortKey(GTRasterTypeGeoKey) == RasterPixelIsPoint;

    /// <summary>Model (map) coordinates of raster position (col, row) in this file's raster space.</summary>
    public (double X, double Y) RasterToModel(double col, double row)
    {
        if (ModelTransformation is { Length: 16 } m)
            return (m[0] * col + m[1] * row + m[3], m[4] * col + m[5] * row + m[7]);
        if (ModelTiepoint is { Length: >= 6 } t && ModelPixelScale is { Length: >= 2 } s)
            return (t[3] + (col - t[0]) * s[0], t[4] - (row - t[1]) * s[1]);
        throw new InvalidOperationException("GeoReference: no ModelTransformation nor tie point + pixel scale");
    }

    /// <summary>
    /// The georeference of this raster resampled by <paramref name="factor"/> (4 for a 4x super-resolved
    /// output covering the same ground): pixel size / factor, the same ground footprint, CRS keys copied.
    /// Raster positions of tie points scale with the footprint: for PixelIsArea a corner position I becomes
    /// I*factor; for PixelIsPoint (pixel-centre convention) a centre I becomes (I + 0.5)*factor - 0.5.
    /// </summary>
    public GeoReference ScaledBy(double factor)
    {
        if (!(factor > 0) || double.IsInfinity(factor))
            throw new ArgumentException($"GeoReference.ScaledBy: factor must be positive and finite, got {factor}");
        bool point = IsPixelIsPoint;
        double Map(double i) => point ? (i + 0.5) * factor - 0.5 : i * factor;

        double[]? scale = null;
        if (ModelPixelScale is { } s)
        {
            scale = (double[])s.Clone();
            if (scale.Length >= 1) scale[0] /= factor;
            if (scale.Length >= 2) scale[1] /= factor;
        }

        double[]? ties = null;
        if (ModelTiepoint is { } t)
        {
            ties = (double[])t.Clone();
            for (int k = 0; k + 5 < ties.Length; k += 6)
            {
                ties[k] = Map(ties[k]);
                ties[k + 1] = Map(ties[k + 1]);
            }
        }

        double[]? transform = null;
        if (ModelTransformation is { Length: 16 } m)
        {
            // Old raster coordinate = A * new + c with A = 1/factor and c = 0 (area) or 0.5/factor - 0.5 (point):
            // the linear columns for I and J shrink by factor, the translation absorbs c.
            transform = (double[])m.Clone();
            double c = point ? 0.5 / factor - 0.5 : 0.0;
            for (int r = 0; r < 4; r++)
            {
                int row = 4 * r;
                transform[row + 3] = m[row + 3] + c * (m[row] + m[row + 1]);
                transform[row] = m[row] / factor;
                transform[row + 1] = m[row + 1] / factor;
            }
        }

        return this with
        {
            ModelPixelScale = scale,
            ModelTiepoint = ties,
            ModelTransformation = transform,
            GeoKeyDirectory = (ushort[]?)GeoKeyDirectory?.Clone(),
            GeoDoubleParams = (double[]?)GeoDoubleParams?.Clone(),
        };
    }
}
