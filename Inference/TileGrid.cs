namespace ILGpuSat.Inference;

/// <summary>
/// How one image axis is cut into tiles. Tile k's core covers LR [Start(k), Start(k) + Core); the network reads
/// [Start(k) - Context, Start(k) + Core + Context) of the reflect-padded image and everything outside the core
/// is cropped away, so a core pixel sees the same neighbourhood (up to the receptive field) as in an untiled run.
/// Starts step by Core - Overlap and every number is a multiple of <see cref="Multiple"/> (the model's size
/// multiple in LR pixels), so strided layers see the same phase in every tile. The last core may run past the
/// image into the reflection; that part is cropped. One tile when the whole axis fits: then Core is the axis
/// rounded up to the multiple, which is the untiled run.
/// </summary>
internal sealed record TileAxis(int Extent, int Core, int Overlap, int Context, int Multiple, int Count)
{
    public int Stride => Core - Overlap;

    public int Start(int k) => k * Stride;

    /// <summary>
    /// Reflected LR pixels read beyond the image's edges: enough for the bicubic x4 and bilinear x4 kernels, and no
    /// more. The receptive-field context is only needed where a tile meets another tile; at the image's own edges
    /// an untiled run has nothing there either, so a tile reads what the untiled run reads. Without this, a small
    /// image padded by liu2018's 64-pixel context would cost several times its own forward.
    /// </summary>
    public int BorderPad => BorderPadFor(Multiple);

    /// <summary><see cref="BorderPad"/> for a size multiple.</summary>
    public static int BorderPadFor(int multiple) => RoundUp(4, multiple);

    /// <summary>LR pixels tile k reads before its core: the full context inside the image, at most <see cref="BorderPad"/> beyond it.</summary>
    public int Before(int k) => Math.Min(Context, Start(k) + BorderPad);

    /// <summary>
    /// Where tile k's window ends: the full context after its core inside the image, at most <see cref="BorderPad"/>
    /// past the image's (rounded) edge, even when the last core itself runs further (that part is cropped anyway).
    /// Every tile and the untiled run thus read the image's right and bottom edges alike.
    /// </summary>
    public int End(int k) => Math.Min(Start(k) + Core + Context, RoundUp(Extent, Multiple) + BorderPad);

    /// <summary>LR pixels the network reads along this axis for tile k (a multiple of <see cref="Multiple"/>).</summary>
    public int SpanOf(int k) => End(k) - (Start(k) - Before(k));

    public static TileAxis Create(int extent, int tile, int overlap, int context, int multiple)
    {
        int whole = RoundUp(extent, multiple);
        context = RoundUp(context, multiple);
        if (tile >= whole) return new TileAxis(extent, whole, 0, context, multiple, 1);
        tile = RoundUp(Math.Max(tile, multiple), multiple);
        overlap = RoundUp(overlap, multiple);
        // At most half a tile, so no pixel lies in more than two tiles along an axis (the weights then sum to 1).
        overlap = Math.Min(overlap, tile / 2 / multiple * multiple);
        if (tile >= whole) return new TileAxis(extent, whole, 0, context, multiple, 1);
        int stride = tile - overlap;
        int count = (extent - tile + stride - 1) / stride + 1;
        return new TileAxis(extent, tile, overlap, context, multiple, count);
    }

    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// Blend weight of output pixel <paramref name="u"/> (0-based within tile k's core, in output pixels at
    /// <paramref name="scale"/>x). Inside an overlap with a neighbour the weight is a raised cosine that goes
    /// smoothly to 0 at this tile's edge; the two tiles' weights are sin^2 and cos^2 of the same angle and sum
    /// to 1, so no normalisation is needed and the blend is seamless. At image borders (no neighbour) it is 1.
    /// </summary>
    public float Weight(int k, int u, int scale)
    {
        int ramp = Overlap * scale;
        if (ramp == 0) return 1f;
        if (k > 0 && u < ramp) return Rise(u, ramp);
        int fromEnd = Core * scale - 1 - u;
        if (k < Count - 1 && fromEnd < ramp) return Rise(fromEnd, ramp);
        return 1f;
    }

    private static float Rise(int i, int ramp)
    {
        double s = Math.Sin(0.5 * Math.PI * (i + 0.5) / ramp);
        return (float)(s * s);
    }

    /// <summary>Symmetric reflection without repeating the edge (numpy 'reflect'), for any index.</summary>
    public static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }
}
