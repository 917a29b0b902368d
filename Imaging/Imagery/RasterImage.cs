namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// A decoded raster as float planes: band-major, each plane Width*Height row-major, values in the
/// display range 0..1 (8-bit sources divided by 255, deeper sources stretched, see <see cref="ReadOptions"/>;
/// source units only when read with <see cref="StretchMode.Raw"/>).
/// Bands keep the file's order (or the order of <see cref="ReadOptions.Bands"/>): 1 = grey, 2 = grey+alpha,
/// 3 = RGB, 4 = RGBA, more = multispectral.
/// </summary>
public sealed class RasterImage
{
    public int Width { get; }
    public int Height { get; }
    public int Bands => Planes.Length;

    /// <summary>Band-major planes, each of length Width*Height (row-major).</summary>
    public float[][] Planes { get; }

    /// <summary>Per-pixel validity (false = nodata in any selected band); null when every pixel is valid.</summary>
    public bool[]? Valid { get; set; }

    /// <summary>GeoTIFF georeferencing carried from the source (null for PNG/JPEG or plain TIFF).</summary>
    public GeoReference? Geo { get; set; }

    /// <summary>Bits per sample of the source file (8, 16, 32), informative only.</summary>
    public int SourceBitDepth { get; set; } = 8;

    /// <summary>For stretched sources: per band the source values mapped to 0 and 1; null when not stretched.</summary>
    public BandStretch[]? Stretch { get; set; }

    public RasterImage(int width, int height, float[][] planes, bool[]? valid = null, GeoReference? geo = null, int sourceBitDepth = 8)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"RasterImage: width and height must be positive, got {width}x{height}");
        ArgumentNullException.ThrowIfNull(planes);
        if (planes.Length == 0)
            throw new ArgumentException("RasterImage: at least one band is required");
        long n = (long)width * height;
        for (int b = 0; b < planes.Length; b++)
            if (planes[b] is null || planes[b].Length != n)
                throw new ArgumentException($"RasterImage: plane {b} has length {planes[b]?.Length ?? 0}, expected {width}x{height} = {n}");
        if (valid is not null && valid.Length != n)
            throw new ArgumentException($"RasterImage: valid mask has length {valid.Length}, expected {n}");
        Width = width;
        Height = height;
        Planes = planes;
        Valid = valid;
        Geo = geo;
        SourceBitDepth = sourceBitDepth;
    }

    /// <summary>A zero-filled image.</summary>
    public static RasterImage Create(int width, int height, int bands)
    {
        if (bands <= 0) throw new ArgumentException($"RasterImage.Create: bands must be positive, got {bands}");
        if ((long)width * height > int.MaxValue)
            throw new ArgumentException($"RasterImage.Create: {width}x{height} exceeds one array");
        var planes = new float[bands][];
        for (int b = 0; b < bands; b++) planes[b] = new float[(long)width * height];
        return new RasterImage(width, height, planes);
    }

    public int PixelCount => Width * Height;

    public float this[int band, int y, int x]
    {
        get => Planes[band][y * Width + x];
        set => Planes[band][y * Width + x] = value;
    }

    /// <summary>True when the pixel is valid (no mask, or mask set).</summary>
    public bool IsValid(int index) => Valid is null || Valid[index];

    /// <summary>A new image with other planes (e.g. a resampled result) that keeps this image's bit depth;
    /// georeference and mask are not carried (their geometry would differ) unless the size is unchanged:
    /// a caller that changes the size sets them for the new geometry (as <c>Resampler</c> does).</summary>
    public RasterImage WithPlanes(float[][] planes, int width, int height)
    {
        bool sameSize = width == Width && height == Height;
        return new RasterImage(width, height, planes, sameSize ? Valid : null, sameSize ? Geo : null, SourceBitDepth)
        {
            Stretch = Stretch,
        };
    }

    /// <summary>Deep copy.</summary>
    public RasterImage Clone()
    {
        var planes = new float[Bands][];
        for (int b = 0; b < Bands; b++) planes[b] = (float[])Planes[b].Clone();
        return new RasterImage(Width, Height, planes, (bool[]?)Valid?.Clone(), Geo, SourceBitDepth) { Stretch = Stretch };
    }

    /// <summary>Three planes for RGB use: grey (1 or 2 bands) is replicated, alpha dropped, bands 1..3 otherwise.
    /// The arrays are shared with this image, not copied.</summary>
    public float[][] RgbPlanes()
    {
        if (Bands <= 2) return new[] { Planes[0], Planes[0], Planes[0] };
        return new[] { Planes[0], Planes[1], Planes[2] };
    }

    /// <summary>Interleaved HWC copy of all bands (what most other code and Python expect).</summary>
    public float[] ToInterleaved()
    {
        int n = PixelCount, c = Bands;
        var dst = new float[(long)n * c];
        for (int b = 0; b < c; b++)
        {
            var p = Planes[b];
            for (int i = 0; i < n; i++) dst[(long)i * c + b] = p[i];
        }
        return dst;
    }

    /// <summary>Build from an interleaved HWC buffer.</summary>
    public static RasterImage FromInterleaved(float[] data, int width, int height, int bands)
    {
        ArgumentNullException.ThrowIfNull(data);
        if ((long)width * height * bands != data.Length)
            throw new ArgumentException($"RasterImage.FromInterleaved: {data.Length} values do not make {width}x{height}x{bands}");
        var img = Create(width, height, bands);
        int n = width * height;
        for (int b = 0; b < bands; b++)
        {
            var p = img.Planes[b];
            for (int i = 0; i < n; i++) p[i] = data[(long)i * bands + b];
        }
        return img;
    }

    public override string ToString() => $"RasterImage {Width}x{Height}x{Bands} ({SourceBitDepth}-bit source{(Geo is null ? "" : ", georeferenced")})";
}

/// <summary>The linear stretch applied to one band: source value Low maps to 0, High to 1 (clamped).</summary>
public readonly record struct BandStretch(double Low, double High)
{
    public float Apply(double v) => High > Low ? (float)Math.Clamp((v - Low) / (High - Low), 0.0, 1.0) : 0f;
    public double Invert(float v) => Low + v * (High - Low);
}
