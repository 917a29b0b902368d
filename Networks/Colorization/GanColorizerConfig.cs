namespace ILGpuSat.Networks.Colorization;

/// <summary>
/// The SpaceNet GAN colorizer's sizes (docs/colorizers.md): the generator's channels, the convex mixing weight of
/// its outer layers, the discriminator's width multiplier (1 = 64..1024 filters), its leaky-ReLU slope and the
/// training window it judges (64 x 64 in the original; the linear layer's size follows from it).
/// </summary>
public sealed record GanColorizerConfig
{
    public int Filters { get; init; } = 64;

    /// <summary>Outer layer k &gt; 1 reads Mix * h(k-1) + (1 - Mix) * h(k-2): a convex combination, so 0..1.</summary>
    public float Mix { get; init; } = 0.5f;

    public double DiscriminatorWidth { get; init; } = 1.0;

    public float Slope { get; init; } = 0.2f;

    /// <summary>Side of the windows the discriminator judges (a multiple of 32: five 2 x 2 poolings).</summary>
    public int Window { get; init; } = 64;

    public void Validate()
    {
        if (Filters < 1) throw new ArgumentException($"gan-colorizer: filters must be positive, got {Filters}.");
        if (!(Mix >= 0 && Mix <= 1)) throw new ArgumentException($"gan-colorizer: mix must lie in [0, 1] (a convex combination), got {Mix}.");
        Blocks.Widths.Check(DiscriminatorWidth, "gan-colorizer: discriminatorWidth");
        if (Window < 32 || Window % 32 != 0) throw new ArgumentException($"gan-colorizer: window must be a positive multiple of 32, got {Window}.");
    }
}
