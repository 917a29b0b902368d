using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks.Blocks;

namespace ILGpuSat.Networks;

/// <summary>liu2018: the joint network. <see cref="TrunkWidth"/> scales Zhang's colorization trunk, <see cref="SrWidth"/> the
/// stem, the feedback's output and the SR branch.</summary>
public sealed record Liu2018Config(double TrunkWidth = 1, double SrWidth = 1) : ModelConfig
{
    public override ModelConfig WithWidth(double width) => this with { TrunkWidth = width, SrWidth = width };

    public override void Validate()
    {
        Widths.Check(TrunkWidth, "liu2018: trunkWidth");
        Widths.Check(SrWidth, "liu2018: srWidth");
    }
}

/// <summary>liu2018-sr: the SR branch alone (stem, encoder, three decoder streams, residual); no trunk, no feedback.</summary>
public sealed record Liu2018SrConfig(double Width = 1) : ModelConfig
{
    public override ModelConfig WithWidth(double width) => this with { Width = width };

    public override void Validate() => Widths.Check(Width, "liu2018-sr: width");
}

/// <summary>liu2018-color: Zhang's colorization network alone, on L* (its conv1 takes one channel; no stem).</summary>
public sealed record Liu2018ColorConfig(double Width = 1) : ModelConfig
{
    public override ModelConfig WithWidth(double width) => this with { Width = width };

    public override void Validate() => Widths.Check(Width, "liu2018-color: width");
}

/// <summary>
/// Liu et al. (2018), simultaneous 4x super-resolution and colorization, as ../shared/docs/liu2018-reference.md
/// reads the paper (the details it leaves open are fixed in docs/networks.md). One class for the joint
/// model and its two ablations; which branches exist is decided by the catalog name, never by a flag in a
/// config, so a weights file's model name alone says what it holds.
/// <code>
///   s   = stem(x)                              CBP 1->32, CBP 32->32              H x W
///   f, logits = trunk(s)                       Zhang conv1..conv8, 1x1 -> 313    H/4
///   b   = feedback(f)                          4x4 s2 deconv 256->64, 64->64      H x W
///   e1, e2, e3 = encoder(cat(s, b))            CBP ->32 | ->64 x3 | ->128 x3
///   SR  = x + decoder1(e1) + decoder2(e2) + decoder3(e3)                           (Eq. 4)
/// </code>
/// liu2018-sr drops trunk and feedback (the encoder reads s, 32 channels); liu2018-color is trunk(x) alone.
/// Input: the bicubic-upsampled LR L* [N, 1, H, W], H and W multiples of 8 when the trunk is present.
/// </summary>
public sealed class Liu2018 : SatNetwork
{
    private readonly Sequential? _stem;
    private readonly ZhangTrunk? _trunk;
    private readonly Sequential? _feedback;
    private readonly SrEncoder? _encoder;
    private readonly SrStream? _decoder1, _decoder2, _decoder3;
    private readonly Func<LayerFactory, Liu2018> _rebuild;

    private Liu2018(LayerFactory nn, bool colorBranch, bool srBranch, double trunkWidth, double srWidth)
    {
        ArgumentNullException.ThrowIfNull(nn);
        _rebuild = other => new Liu2018(other, colorBranch, srBranch, trunkWidth, srWidth);
        int stemChannels = Widths.Scale(32, srWidth);
        if (srBranch)
            _stem = RegisterModule("stem", new Sequential(ConvBlock.Cbp(nn, 1, stemChannels), ConvBlock.Cbp(nn, stemChannels, stemChannels)));
        if (colorBranch)
            _trunk = RegisterModule("trunk", new ZhangTrunk(nn, srBranch ? stemChannels : 1, trunkWidth));
        if (srBranch)
        {
            int encoderIn = stemChannels;
            if (colorBranch)
            {
                int c64 = Widths.Scale(64, srWidth);
                _feedback = RegisterModule("feedback", new Sequential(
                    ConvBlock.DeconvBp(nn, _trunk!.FeatureChannels, c64, 4, stride: 2, padding: 1),
                    ConvBlock.DeconvBp(nn, c64, c64, 4, stride: 2, padding: 1)));
                encoderIn += c64;
            }
            _encoder = RegisterModule("encoder", new SrEncoder(nn, encoderIn, srWidth));
            var taps = _encoder.TapChannels;
            _decoder1 = RegisterModule("decoder1", new SrStream(nn, taps[0], [32], srWidth));
            _decoder2 = RegisterModule("decoder2", new SrStream(nn, taps[1], [64, 32], srWidth));
            _decoder3 = RegisterModule("decoder3", new SrStream(nn, taps[2], [128, 64, 32], srWidth));
        }
        Tasks = (srBranch ? NetworkTasks.SuperResolution : 0) | (colorBranch ? NetworkTasks.ColorClassification : 0);
    }

    public static Liu2018 Joint(LayerFactory nn, Liu2018Config config) => new(nn, true, true, config.TrunkWidth, config.SrWidth);

    public static Liu2018 SrOnly(LayerFactory nn, Liu2018SrConfig config) => new(nn, false, true, 1, config.Width);

    public static Liu2018 ColorOnly(LayerFactory nn, Liu2018ColorConfig config) => new(nn, true, false, config.Width, 1);

    public override NetworkInput Input => NetworkInput.BicubicUpsampled;

    /// <summary>Its ConvBlocks and trunk fold themselves (see <see cref="InferenceFolding"/>).</summary>
    internal override SatNetwork Rebuild(LayerFactory nn) => _rebuild(nn);

    public override NetworkTasks Tasks { get; }

    /// <summary>Three stride-2 convolutions and one 2x transposed convolution in the trunk: sides must be multiples of 8.</summary>
    public override int SizeMultiple => _trunk is null ? 1 : 8;

    public override NetworkOutput Forward(Tensor input)
    {
        CheckInput(input);
        if (_stem is null) return new NetworkOutput(null, _trunk!.Forward(input).Logits, null);

        // Each intermediate is released after its last read (a no-op in grad mode): inference then holds the taps
        // and one stream's activations, not every activation of the network.
        var s = _stem.Forward(input);
        Tensor? logits = null;
        var encoderInput = s;
        if (_trunk is not null)
        {
            (var features, logits) = _trunk.Forward(s);
            var fed = _feedback!.Forward(features);
            features.ReleaseIfNoGrad();
            encoderInput = F.Cat([s, fed], 1);
            s.ReleaseIfNoGrad();
            fed.ReleaseIfNoGrad();
        }
        var (e1, e2, e3) = _encoder!.Forward(encoderInput);
        encoderInput.ReleaseIfNoGrad();
        var sr = AddStream(input, _decoder1!, e1, releaseSum: false);
        sr = AddStream(sr, _decoder2!, e2, releaseSum: true);
        sr = AddStream(sr, _decoder3!, e3, releaseSum: true);
        return new NetworkOutput(sr, logits, null);
    }

    /// <summary>sum + stream(tap) (one term of Eq. 4), releasing the tap, the stream's output and, when asked, the old sum.</summary>
    private static Tensor AddStream(Tensor sum, SrStream stream, Tensor tap, bool releaseSum)
    {
        var residual = stream.Forward(tap);
        tap.ReleaseIfNoGrad();
        var next = F.Add(sum, residual);
        residual.ReleaseIfNoGrad();
        if (releaseSum) sum.ReleaseIfNoGrad();
        return next;
    }
}
