namespace ILGpuSat.Networks.Misr;

/// <summary>
/// DeepSUM's settings (Bordone Molini et al. 2019, as its authors' code builds it; docs/misr.md). Frames must be
/// 2 x FusionLayers + 1: each of FusionNet's 3 x 3 x 3 convolutions takes two frames off, down to one.
/// <see cref="Mean"/> and <see cref="Std"/> standardise the intensities the network sees (kept with the model,
/// as the colour models keep their Lab constants): input (x - Mean) / Std, output de-standardised the same way.
/// </summary>
public sealed record DeepSumConfig
{
    /// <summary>Frames fused at once (N = 9).</summary>
    public int Frames { get; init; } = 9;

    /// <summary>Feature channels of every sub-network (64).</summary>
    public int Filters { get; init; } = 64;

    /// <summary>SISRNet's 3 x 3 convolution layers (8).</summary>
    public int SisrLayers { get; init; } = 8;

    /// <summary>Side of RegNet's registration filters (9: shifts up to 4 HR pixels).</summary>
    public int FilterSize { get; init; } = 9;

    /// <summary>FusionNet's 3 x 3 x 3 layers (4, for 9 frames).</summary>
    public int FusionLayers { get; init; } = 4;

    /// <summary>Whether RegNet aligns frames 2..N to frame 1 (false: the slides' ablation without registration).</summary>
    public bool UseRegNet { get; init; } = true;

    /// <summary>Instance norm's epsilon (TensorFlow's 1e-3 in the authors' code).</summary>
    public float NormEps { get; init; } = 1e-3f;

    /// <summary>Leaky ReLU slope (TensorFlow's default 0.2).</summary>
    public float Slope { get; init; } = 0.2f;

    public float Mean { get; init; } = 0.45f;

    public float Std { get; init; } = 0.2f;

    public void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"deepsum: {what}");
        }
        Check(Filters >= 1 && SisrLayers >= 1 && FusionLayers >= 1, "filters, sisrLayers and fusionLayers must be positive.");
        Check(Frames == 2 * FusionLayers + 1, $"frames ({Frames}) must be 2 x fusionLayers + 1 = {2 * FusionLayers + 1}.");
        Check(FilterSize >= 1 && FilterSize % 2 == 1, $"filterSize must be odd, got {FilterSize}.");
        Check(NormEps > 0 && Slope >= 0 && Std > 0, "normEps and std must be positive, slope >= 0.");
    }
}
