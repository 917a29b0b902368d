using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks.Blocks;

/// <summary>
/// convolution -> BatchNorm -> activation, the block every catalog network is made of: CBP (conv, BN,
/// per-channel PReLU) in liu2018's stem, encoder, feedback and decoders, and conv, BN, LeakyReLU in
/// regression-ed. Children are named after what they are ("conv" or "deconv", "bn", "prelu" or "act"),
/// so a block at <c>stem.0</c> has the keys <c>stem.0.conv.weight</c>, <c>stem.0.bn.running_mean</c>,
/// <c>stem.0.prelu.weight</c>. The convolution has no bias: batch norm's beta takes its place.
/// </summary>
public sealed class ConvBlock : Layer, IInferenceFoldable
{
    private readonly Layer _conv;
    private readonly BatchNorm2d _bn;
    private readonly Layer _act;
    private Layer? _folded;

    private ConvBlock(string convName, Layer conv, BatchNorm2d bn, string actName, Layer act)
    {
        _conv = RegisterModule(convName, conv);
        _bn = RegisterModule("bn", bn);
        _act = RegisterModule(actName, act);
    }

    /// <summary>The block's convolution weight (OIHW for a convolution, IOHW for a transposed one).</summary>
    public Tensor ConvWeight => _conv is Conv2d c ? c.Weight : ((ConvTranspose2d)_conv).Weight;

    public BatchNorm2d Norm => _bn;

    /// <summary>PReLU's initial slope, also the slope He initialisation assumes for the convolution before it.</summary>
    public const float PreluInit = 0.25f;

    /// <summary>CBP: k x k convolution ("same" padding at stride 1) -> BN -> PReLU(per channel, 0.25). He normal
    /// initialisation for a leaky rectifier of slope 0.25 over the fan-in.</summary>
    public static ConvBlock Cbp(LayerFactory nn, int inChannels, int outChannels, int kernelSize = 3, int stride = 1)
    {
        var conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: kernelSize / 2, bias: false);
        nn.KaimingNormal(conv.Weight, a: PreluInit, mode: FanMode.FanIn, nonlinearity: Nonlinearity.LeakyRelu);
        return new ConvBlock("conv", conv, nn.BatchNorm2d(outChannels), "prelu", nn.PReLU(outChannels, PreluInit));
    }

    /// <summary>
    /// Transposed convolution -> BN -> PReLU: stride 1 ("same" padding, the SR decoders) or the 4x4 stride-2
    /// upsampling of the feedback (padding 1: exactly twice the input size). He initialisation over the
    /// transposed convolution's own fan-in, in_channels * k * k: that is PyTorch's "fan_out" of an IOHW
    /// weight (PyTorch computes fans as if the weight were OIHW), hence FanOut.
    /// </summary>
    public static ConvBlock DeconvBp(LayerFactory nn, int inChannels, int outChannels, int kernelSize, int stride, int padding)
    {
        var deconv = nn.ConvTranspose2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: false);
        nn.KaimingNormal(deconv.Weight, a: PreluInit, mode: FanMode.FanOut, nonlinearity: Nonlinearity.LeakyRelu);
        return new ConvBlock("deconv", deconv, nn.BatchNorm2d(outChannels), "prelu", nn.PReLU(outChannels, PreluInit));
    }

    /// <summary>3x3 convolution (stride 1 or 2, padding 1) -> BN -> LeakyReLU(slope), He normal for that slope.</summary>
    public static ConvBlock Cbl(LayerFactory nn, int inChannels, int outChannels, int stride, float slope)
    {
        var conv = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        nn.KaimingNormal(conv.Weight, a: slope, mode: FanMode.FanIn, nonlinearity: Nonlinearity.LeakyRelu);
        return new ConvBlock("conv", conv, nn.BatchNorm2d(outChannels), "act", new LeakyReLU(slope));
    }

    public override Tensor Forward(Tensor x)
        => !Training && _folded is not null ? _folded.Forward(x) : Sequential.Chain([_conv, _bn, _act], x);

    /// <summary>
    /// Eval mode from now on runs one fused convolution: BN folded into the weights and bias, the activation
    /// in the epilogue. A stride-1 transposed convolution becomes the equivalent convolution first; a strided
    /// one (the feedback's 4x4 stride-2 upsampling) keeps its transposed convolution with BN folded into its
    /// weight and bias, followed by the activation as its own op.
    /// </summary>
    void IInferenceFoldable.FoldForInference()
    {
        _folded?.Dispose();
        var backend = ConvWeight.Backend;
        switch (_conv)
        {
            case Conv2d c:
                _folded = InferenceFolding.FuseConv(backend, c.Weight.ToArray(), c.Weight.Shape, c.Bias?.ToArray(), _bn, _act,
                    c.Stride, c.Padding, c.Dilation);
                break;
            case ConvTranspose2d d when InferenceFolding.BecomesConv(d):
                var (w, shape, pad) = InferenceFolding.TransposedAsConv(d);
                _folded = InferenceFolding.FuseConv(backend, w, shape, d.Bias?.ToArray(), _bn, _act, 1, pad, d.Dilation);
                break;
            case ConvTranspose2d d:
                _folded = new FoldedTransposedBlock(d, _bn, _act);
                break;
            default:
                throw new InvalidOperationException($"ConvBlock: cannot fold a {_conv.GetType().Name}.");
        }
    }

    public override void Dispose()
    {
        _folded?.Dispose();
        base.Dispose();
    }

    /// <summary>A strided transposed convolution with BN folded into its IOHW weight (output channel = dimension 1) and bias, then the activation.</summary>
    private sealed class FoldedTransposedBlock : Layer
    {
        private readonly Tensor _weight, _bias;
        private readonly Layer _act;
        private readonly int _stride, _padding, _outputPadding, _dilation;

        public FoldedTransposedBlock(ConvTranspose2d d, BatchNorm2d bn, Layer act)
        {
            var (s, t) = InferenceFolding.BatchNormAffine(bn);
            float[] w = d.Weight.ToArray();
            int cin = d.Weight.Size(0), cout = d.Weight.Size(1), taps = d.Weight.Size(2) * d.Weight.Size(3);
            for (int c = 0; c < cin; c++)
                for (int o = 0; o < cout; o++)
                    for (int i = 0; i < taps; i++) w[(c * cout + o) * taps + i] *= s[o];
            _weight = RegisterBuffer("weight", Tensor.FromArray(w, d.Weight.Shape, d.Weight.Backend));
            _bias = RegisterBuffer("bias", Tensor.FromArray(InferenceFolding.FoldBias(d.Bias?.ToArray(), s, t), [cout], d.Weight.Backend));
            _act = act;
            (_stride, _padding, _outputPadding, _dilation) = (d.Stride, d.Padding, d.OutputPadding, d.Dilation);
        }

        public override Tensor Forward(Tensor x)
        {
            var y = F.ConvTranspose2d(x, _weight, _bias, _stride, _padding, _outputPadding, _dilation);
            return y.ReplacedBy(_act.Forward(y));
        }
    }
}
