namespace ILGpuSat.Engine.Modules;

public enum FanMode { FanIn, FanOut }

public enum Nonlinearity { Linear, Relu, LeakyRelu, Tanh, Sigmoid }

/// <summary>
/// Weight initialisation as torch.nn.init. Every initialiser draws from the generator it is given
/// (there is no shared one: a model built twice from the same seed is identical, and two models
/// built on two threads do not disturb each other). Values are drawn on the host and uploaded once.
/// </summary>
public static class Init
{
    /// <summary>torch.nn.init.calculate_gain.</summary>
    public static float CalculateGain(Nonlinearity nonlinearity, float param = 0.01f) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Sigmoid => 1f,
        Nonlinearity.Tanh => 5f / 3f,
        Nonlinearity.Relu => MathF.Sqrt(2f),
        Nonlinearity.LeakyRelu => MathF.Sqrt(2f / (1f + param * param)),
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity)),
    };

    /// <summary>
    /// PyTorch's fan convention: fan_in = size(1) * receptive field, fan_out = size(0) * receptive
    /// field. For a conv weight OIHW that is in_channels*kh*kw; for a transposed conv weight IOHW
    /// PyTorch's rule gives out_channels*kh*kw, and we keep it so that initialisations match.
    /// </summary>
    public static (int FanIn, int FanOut) Fans(Tensor weight)
    {
        if (weight.Rank < 2)
            throw new ArgumentException($"init: fan in and fan out need a tensor with at least 2 dimensions, got {Tensor.Format(weight.ShapeSpan)}.");
        int receptive = 1;
        for (int i = 2; i < weight.Rank; i++) receptive *= weight.Size(i);
        return (weight.Size(1) * receptive, weight.Size(0) * receptive);
    }

    /// <summary>He normal init (torch.nn.init.kaiming_normal_): N(0, std^2), std = gain / sqrt(fan).</summary>
    public static void KaimingNormal(Tensor weight, Random rng, float a = 0f, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
    {
        float std = CalculateGain(nonlinearity, a) / MathF.Sqrt(Fan(weight, mode));
        Normal(weight, rng, 0f, std);
    }

    /// <summary>He uniform init (torch.nn.init.kaiming_uniform_): U(-b, b), b = gain * sqrt(3 / fan).</summary>
    public static void KaimingUniform(Tensor weight, Random rng, float a = 0f, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
    {
        float bound = CalculateGain(nonlinearity, a) * MathF.Sqrt(3f / Fan(weight, mode));
        Uniform(weight, rng, -bound, bound);
    }

    /// <summary>Glorot normal init (torch.nn.init.xavier_normal_): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).</summary>
    public static void XavierNormal(Tensor weight, Random rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(weight);
        Normal(weight, rng, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)));
    }

    public static void Uniform(Tensor t, Random rng, float low, float high)
    {
        var values = new float[t.Length];
        ArgumentNullException.ThrowIfNull(rng);
        for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * (float)rng.NextDouble();
        t.CopyFrom(values);
    }

    public static void Normal(Tensor t, Random rng, float mean, float std)
    {
        var values = new float[t.Length];
        ArgumentNullException.ThrowIfNull(rng);
        for (int i = 0; i < values.Length; i++)
        {
            // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            values[i] = mean + std * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        t.CopyFrom(values);
    }

    public static void Constant(Tensor t, float value) => t.Fill(value);

    /// <summary>PyTorch's default conv weight init: kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)).</summary>
    internal static void DefaultConvWeight(Tensor weight, Random rng)
        => KaimingUniform(weight, rng, MathF.Sqrt(5f), FanMode.FanIn, Nonlinearity.LeakyRelu);

    /// <summary>PyTorch's default conv bias init: U(+-1/sqrt(fan_in)) with the weight's fan_in.</summary>
    internal static void DefaultConvBias(Tensor bias, Tensor weight, Random rng)
    {
        float bound = 1f / MathF.Sqrt(Fans(weight).FanIn);
        Uniform(bias, rng, -bound, bound);
    }

    private static int Fan(Tensor weight, FanMode mode)
    {
        var (fanIn, fanOut) = Fans(weight);
        return mode == FanMode.FanIn ? fanIn : fanOut;
    }

}
