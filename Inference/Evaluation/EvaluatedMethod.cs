using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference.Evaluation;

/// <summary>
/// What a method makes of one LR grey input: the 4x grey result (sRGB grey, 0..1, one plane at the truth's size)
/// and, when the method colours, the 4x RGB result.
/// </summary>
public sealed record MethodOutput(float[] Grey, RasterImage? Colour);

/// <summary>One row of the tables: a named way from the LR grey image to a 4x result.</summary>
public interface IEvaluatedMethod : IDisposable
{
    /// <summary>The row label (a catalog name, or "bicubic").</summary>
    string Name { get; }

    /// <summary>Trainable parameters (0 for bicubic); the tables show them as fp32 MB.</summary>
    long Parameters { get; }

    /// <summary>Whether <see cref="MethodOutput.Colour"/> is set (the colour columns are blank otherwise).</summary>
    bool Colours { get; }

    MethodOutput Run(RasterImage lowResolution, int scale);
}

/// <summary>MATLAB-style bicubic x4 of the LR grey image (the first row of every table); no colour.</summary>
public sealed class BicubicMethod : IEvaluatedMethod
{
    public string Name => "bicubic";
    public long Parameters => 0;
    public bool Colours => false;

    public MethodOutput Run(RasterImage lowResolution, int scale)
    {
        ArgumentNullException.ThrowIfNull(lowResolution);
        var up = Imaging.Resampling.Resampler.Resize(lowResolution.Planes[0], lowResolution.Width, lowResolution.Height,
            lowResolution.Width * scale, lowResolution.Height * scale);
        for (int i = 0; i < up.Length; i++) up[i] = Math.Clamp(up[i], 0f, 1f);
        return new MethodOutput(up, null);
    }

    public void Dispose() { }
}
