namespace ILGpuSat.Inference.Misr;

/// <summary>How <see cref="MisrEnhancer.SuperResolve"/> runs a scene; the defaults suit PROBA-V-sized scenes and larger.</summary>
public sealed record MisrOptions
{
    /// <summary>
    /// LR pixels per tile side. A scene no larger runs whole; a larger one is cut into tiles that read
    /// <see cref="MisrEnhancer.Context"/> LR pixels beyond their core and are blended over <see cref="Overlap"/>,
    /// so memory is bounded by the tile (a 128 x 128 tile at x3 with 9 looks of 32 features needs about 1.5 GB).
    /// </summary>
    public int TileSize { get; init; } = 128;

    /// <summary>LR pixels shared by neighbouring tiles, over which their outputs are blended (raised cosine weights).</summary>
    public int Overlap { get; init; } = 8;

    /// <summary>
    /// LR pixels per side of the central window in which a tiled scene's registration filters and instance-norm
    /// statistics are measured, once, and then applied to every tile (so tiles agree with each other and with an
    /// untiled run of that window). The whole scene when it is no larger.
    /// </summary>
    public int StatisticsWindow { get; init; } = 128;

    /// <summary>
    /// At most this many windows of looks are fused and averaged when a scene has more looks than the network takes
    /// (DeepSUM's sliding window); 1 fuses only the clearest looks.
    /// </summary>
    public int MaxWindows { get; init; } = int.MaxValue;

    /// <summary>
    /// Standardise each scene by its reference look's own clear-pixel mean and standard deviation, instead of the
    /// model's constants (the statistics of its training images), and map the SR back the same way. A linear map,
    /// inverted exactly, so the output keeps the looks' units; it puts dim or low-contrast data (PROBA-V's 14-bit values
    /// in 16 bits, a satellite's digital numbers) in the range the network learned from, and on the simulated held-out
    /// scenes it scores 0.17 dB above the constants (docs/misr.md).
    /// </summary>
    public bool NormaliseScene { get; init; } = true;

    public static MisrOptions Default { get; } = new();

    internal void Validate()
    {
        if (TileSize < 1) throw new ArgumentException($"MisrOptions: TileSize must be positive, got {TileSize}.");
        if (Overlap < 0 || Overlap >= TileSize) throw new ArgumentException($"MisrOptions: Overlap must be 0 or more and smaller than TileSize ({TileSize}), got {Overlap}.");
        if (StatisticsWindow < 2) throw new ArgumentException($"MisrOptions: StatisticsWindow must be at least 2, got {StatisticsWindow}.");
        if (MaxWindows < 1) throw new ArgumentException($"MisrOptions: MaxWindows must be at least 1, got {MaxWindows}.");
    }
}

/// <summary>Network passes finished so far (windows x tiles, plus one measuring pass per window of a tiled scene).</summary>
public sealed record MisrProgress(int PassesDone, int PassesTotal);
