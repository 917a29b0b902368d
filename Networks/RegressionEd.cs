using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks.Blocks;

namespace ILGpuSat.Networks;

/// <summary>regression-ed: <see cref="Width"/> scales every channel count (64..512 down, 512..8 up); <see cref="LeakySlope"/> is the
/// LeakyReLU's negative slope.</summary>
public sealed record RegressionEdConfig(double Width = 1, double LeakySlope = 0.2) : ModelConfig
{
    public override ModelConfig WithWidth(double width) => this with { Width = width };

    public override void Validate()
    {
        Widths.Check(Width, "regression-ed: width");
        if (!double.IsFinite(LeakySlope) || LeakySlope < 0 || LeakySlope >= 1)
            throw new ArgumentException($"regression-ed: leakySlope must be in [0, 1), got {LeakySlope}.");
    }
}

/// <summary>
/// The joint colorization + SR encoder-decoder of Bicer and Kaynak, regressing a*b* with MSE, as docs/networks.md
/// reads it. Input: the LR L* itself [N, 1, h, w] (h, w multiples of 16); outputs at 4h x 4w.
/// <code>
///   encoder  3x3 conv, BN, LeakyReLU:  64 s2, 128 s2, 128, 256 s2, 256, 512 s2          h/16
///   decoder  3x3 conv, BN, LeakyReLU:  512, 256, 128, 64, 32, 16, each then nearest 2x  4h
///            8                                                                          4h
///   SR  = bicubic4(x) + head_l(d)      3x3 conv 8 -> 1, zero-initialised
///   Ab  = head_ab(d)                   3x3 conv 8 -> 2, zero-initialised (a*b* * AbScale)
/// </code>
/// Six 2x upsamplings undo the four stride-2 convolutions and add the 4x of super-resolution. bicubic4 is
/// <see cref="BicubicUpsampler"/> (MATLAB's kernel, as the data pipeline's bicubic). With both heads at zero an
/// untrained model returns bicubic L* and grey (a* = b* = 0). Keys: <c>encoder.3.conv.weight</c>,
/// <c>decoder.6.bn.weight</c>, <c>head_l.weight</c>, <c>head_ab.bias</c>.
/// </summary>
public sealed class RegressionEd : SatNetwork
{
    private static readonly (int Channels, int Stride)[] Down = [(64, 2), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)];
    private static readonly int[] Up = [512, 256, 128, 64, 32, 16, 8];
    private const int Upsamplings = 6;

    private readonly Sequential _encoder;
    private readonly ConvBlock[] _decoder;
    private readonly Conv2d _headL, _headAb;
    private readonly BicubicUpsampler _bicubic;
    private readonly RegressionEdConfig _config;

    public RegressionEd(LayerFactory nn, RegressionEdConfig config)
    {
        ArgumentNullException.ThrowIfNull(nn);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        float slope = (float)config.LeakySlope;
        int channels = 1;
        _encoder = RegisterModule("encoder", new Sequential());
        foreach (var (c, stride) in Down)
        {
            int o = Widths.Scale(c, config.Width);
            _encoder.Add(ConvBlock.Cbl(nn, channels, o, stride, slope));
            channels = o;
        }
        var decoder = RegisterModule("decoder", new Sequential());
        foreach (int c in Up)
        {
            int o = Widths.Scale(c, config.Width);
            decoder.Add(ConvBlock.Cbl(nn, channels, o, 1, slope));
            channels = o;
        }
        _decoder = decoder.Layers.Cast<ConvBlock>().ToArray();
        _headL = RegisterModule("head_l", nn.Conv2d(channels, 1, 3, padding: 1, bias: true));
        _headAb = RegisterModule("head_ab", nn.Conv2d(channels, 2, 3, padding: 1, bias: true));
        foreach (var head in new[] { _headL, _headAb })
        {
            head.Weight.Fill(0f);
            head.Bias!.Fill(0f);
        }
        _bicubic = new BicubicUpsampler(nn.Backend, Scale);
    }

    public override NetworkInput Input => NetworkInput.LowResolution;

    public override NetworkTasks Tasks => NetworkTasks.SuperResolution | NetworkTasks.ColorRegression;

    /// <summary>Four stride-2 convolutions: LR sides must be multiples of 16.</summary>
    public override int SizeMultiple => 16;

    public override NetworkOutput Forward(Tensor input)
    {
        CheckInput(input);
        // Intermediates are released after their last read (a no-op in grad mode).
        var d = _encoder.Forward(input);
        for (int i = 0; i < _decoder.Length; i++)
        {
            d = d.ReplacedBy(_decoder[i].Forward(d));
            if (i < Upsamplings) d = d.ReplacedBy(F.Interpolate(d, 2 * d.Size(2), 2 * d.Size(3), "nearest"));
        }
        var bicubic = _bicubic.Forward(input);
        var residual = _headL.Forward(d);
        var sr = F.Add(bicubic, residual);
        bicubic.ReleaseIfNoGrad();
        residual.ReleaseIfNoGrad();
        var ab = _headAb.Forward(d);
        d.ReleaseIfNoGrad();
        return new NetworkOutput(sr, null, ab);
    }

    /// <summary>Every block is a ConvBlock (folded by itself); the heads have no activation to fuse.</summary>
    internal override SatNetwork Rebuild(LayerFactory nn) => new RegressionEd(nn, _config);

    public override void Dispose()
    {
        _bicubic.Dispose();
        base.Dispose();
    }
}
