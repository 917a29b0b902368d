using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference;

/// <summary>How <see cref="Enhancer.Enhance"/> runs; the defaults suit the trained model.</summary>
public sealed record EnhanceOptions
{
    /// <summary>LR pixels per tile side (rounded up to the model's size multiple); 0 = chosen from the backend's memory.</summary>
    public int TileSize { get; init; }

    /// <summary>LR pixels shared by neighbouring tiles, over which they are blended (rounded up to the size multiple).</summary>
    public int Overlap { get; init; } = 16;

    /// <summary>Also return the 4x grey SR image (the sRGB grey of the SR L*).</summary>
    public bool GreySr { get; init; }

    /// <summary>Annealed-mean temperature of the colour head (Zhang et al.: 0.38).</summary>
    public float Temperature { get; init; } = 0.38f;

    public static EnhanceOptions Default { get; } = new();

    internal void Validate()
    {
        if (TileSize < 0) throw new ArgumentException($"EnhanceOptions: TileSize must be 0 (automatic) or positive, got {TileSize}.");
        if (Overlap < 0) throw new ArgumentException($"EnhanceOptions: Overlap must be 0 or more, got {Overlap}.");
        if (TileSize > 0 && Overlap >= TileSize) throw new ArgumentException($"EnhanceOptions: Overlap ({Overlap}) must be smaller than TileSize ({TileSize}).");
        if (!(Temperature > 0) || !float.IsFinite(Temperature)) throw new ArgumentException($"EnhanceOptions: Temperature must be positive, got {Temperature}.");
    }
}

/// <summary>Tiles finished so far out of all tiles of the image.</summary>
public sealed record EnhanceProgress(long TilesDone, long TilesTotal);

/// <summary>The 4x colour image (sRGB, 3 bands) and, when asked, the 4x grey SR image; georeference scaled, nodata kept.</summary>
public sealed record EnhanceResult(RasterImage Color, RasterImage? GreySr);
