namespace ILGpuSat.Kernels.Tests;

/// <summary>
/// The epilogues a fused convolution is tested with, and the unfused composition they must equal:
/// act(conv + bias) * postScale + postShift computed op by op (as the engine does without fusion).
/// </summary>
public static class FusedConvCases
{
    /// <summary>(name, activation, LeakyReLU slope, PReLU weights (0: none, 1: shared, OutC: per channel), with post-affine).</summary>
    public static IEnumerable<(string Name, ConvActivation Act, float Slope, bool PerChannelPrelu, bool PostAffine)> All()
    {
        yield return ("none", ConvActivation.None, 0f, false, false);
        yield return ("relu", ConvActivation.Relu, 0f, false, false);
        yield return ("leaky 0.2", ConvActivation.LeakyRelu, 0.2f, false, false);
        yield return ("prelu shared", ConvActivation.PRelu, 0f, false, false);
        yield return ("prelu per channel", ConvActivation.PRelu, 0f, true, false);
        yield return ("relu then affine (Zhang's relu, bn)", ConvActivation.Relu, 0f, false, true);
        yield return ("affine only", ConvActivation.None, 0f, false, true);
    }

    /// <summary>In place on conv + bias (NCHW, plane pixels per channel): the activation, then the post-affine.</summary>
    public static void Apply(float[] y, int channels, int plane, ConvActivation act, float slope, float[]? prelu, float[]? scale, float[]? shift)
    {
        for (int i = 0; i < y.Length; i++)
        {
            int c = i / plane % channels;
            float v = y[i];
            float a = act switch
            {
                ConvActivation.Relu => 0f,
                ConvActivation.LeakyRelu => slope,
                ConvActivation.PRelu => prelu![prelu.Length == 1 ? 0 : c],
                _ => 1f,
            };
            if (v < 0f) v *= a;
            if (scale is not null) v *= scale[c];
            if (shift is not null) v += shift[c];
            y[i] = v;
        }
    }

    /// <summary>Post-affine scales with both signs (a batch norm's gamma can be negative) and shifts.</summary>
    public static (float[] Scale, float[] Shift) PostAffine(Random rng, int channels)
    {
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = (float)(rng.NextDouble() * 1.5 + 0.25) * (c % 3 == 1 ? -1f : 1f);
            shift[c] = (float)(rng.NextDouble() * 2 - 1);
        }
        return (scale, shift);
    }
}
