using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference;

/// <summary>How <see cref="Enhancer.Enhance"/> runs; the defaults suit the trained model.</summary>
public sealed record EnhanceOptions
{
    /// <summary>LR pixels per tile side (rounded up to the model's size multiple); 0 = chosen from the backend's memory.</summary>
    public int TileSize { get; init; }

    /// <summary>LR pixels shared by neighbouring tiles, over which they are blended (rounded up to the size multiple).</summary>
    public int Overlap { get; init; } = 16;

    /// <summary>
    /// LR pixels of context each tile reads beyond its core, where it meets another tile; null = the least context
    /// at which the network's outputs no longer change (measured once per enhancer, see docs/inference.md), at most
    /// the receptive field. Only tiled runs use it.
    /// </summary>
    public int? Context { get; init; }

    /// <summary>Also return the 4x grey SR image (the sRGB grey of the SR L*).</summary>
    public bool GreySr { get; init; }

    /// <summary>Annealed-mean temperature of the colour head (Zhang et al.: 0.38).</summary>
    public float Temperature { get; init; } = Imaging.Color.AnnealedMean.DefaultTemperature;

    public static EnhanceOptions Default { get; } = new();

    internal void Validate()
    {
        if (TileSize < 0) throw new ArgumentException($"EnhanceOptions: TileSize must be 0 (automatic) or positive, got {TileSize}.");
        if (Overlap < 0) throw new ArgumentException($"EnhanceOptions: Overlap must be 0 or more, got {Overlap}.");
        if (TileSize > 0 && Overlap >= TileSize) throw new ArgumentException($"EnhanceOptions: Overlap ({Overlap}) must be smaller than TileSize ({TileSize}).");
        if (Context < 0) throw new ArgumentException($"EnhanceOptions: Context must be 0 or more (or null: measured), got {Context}.");
        if (!(Temperature > 0) || !float.IsFinite(Temperature)) throw new ArgumentException($"EnhanceOptions: Temperature must be positive, got {Temperature}.");
    }
}

/// <summary>Tiles finished so far out of all tiles of the image.</summary>
public sealed record EnhanceProgress(long TilesDone, long TilesTotal);

/// <summary>The 4x colour image (sRGB, 3 bands) and, when asked, the 4x grey SR image; georeference scaled, nodata kept.</summary>
public sealed record EnhanceResult(RasterImage Color, RasterImage? GreySr);

/// <summary>
/// How <see cref="Enhancer.EnhanceRows"/> cuts an image: <see cref="TilesX"/> x <see cref="TilesY"/> tiles of
/// <see cref="Core"/> LR pixels (the whole image when there is one tile), each reading <see cref="Context"/> LR
/// pixels beyond its core where it meets another tile (<see cref="ReceptiveField"/> is the bound), blended over
/// <see cref="Overlap"/>; one tile's estimated peak device bytes against the backend's budget.
/// </summary>
public sealed record TilingPlan(int TilesX, int TilesY, int Core, int Context, int Overlap, int ReceptiveField,
                                long TileBytes, long BudgetBytes);
