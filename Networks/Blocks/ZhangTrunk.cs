using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks.Blocks;

/// <summary>
/// The colorization network of Zhang et al. (2016), as their released model is built: eight blocks
/// <c>conv1</c>..<c>conv8</c>, each a Sequential of 3x3 convolutions with bias, each followed by ReLU, and
/// in conv1..conv7 a BatchNorm after the last ReLU (Zhang's order: conv, relu, ..., conv, relu, bn), then
/// the 1x1 convolution to the 313 ab-bin logits (<c>logits</c>).
/// <code>
/// conv1  64, 64 s2          H/2    conv5  512 x3, dilation 2   H/8
/// conv2  128, 128 s2        H/4    conv6  512 x3, dilation 2   H/8
/// conv3  256, 256, 256 s2   H/8    conv7  512 x3               H/8
/// conv4  512 x3             H/8    conv8  4x4 s2 deconv 256, 256, 256 (no BN)   H/4
/// logits 1x1 256 -> 313 at H/4
/// </code>
/// Keys read like Zhang's: <c>conv5.0.weight</c> is conv5's first convolution, <c>conv1.4.weight</c> conv1's
/// batch norm. Every channel count is scaled by the width multiplier. Input sides must be multiples of 8
/// (three stride-2 convolutions, then one 2x transposed convolution back to H/4).
/// Initialisation: He normal for ReLU over the fan-in (the transposed convolution over its own fan-in,
/// in_channels * 16), zero biases; the 1x1 classifier He normal with gain 1, so that initial logits have unit scale.
/// </summary>
public sealed class ZhangTrunk : Module, IInferenceFoldable
{
    public const int Bins = 313;

    private readonly Sequential[] _blocks;
    private readonly Conv2d _logits;
    private Sequential[]? _folded;

    public ZhangTrunk(LayerFactory nn, int inChannels, double width)
    {
        int C(int c) => Widths.Scale(c, width);
        int c64 = C(64), c128 = C(128), c256 = C(256), c512 = C(512);
        _blocks =
        [
            RegisterModule("conv1", Block(nn, [(inChannels, c64, 1, 1), (c64, c64, 2, 1)])),
            RegisterModule("conv2", Block(nn, [(c64, c128, 1, 1), (c128, c128, 2, 1)])),
            RegisterModule("conv3", Block(nn, [(c128, c256, 1, 1), (c256, c256, 1, 1), (c256, c256, 2, 1)])),
            RegisterModule("conv4", Block(nn, [(c256, c512, 1, 1), (c512, c512, 1, 1), (c512, c512, 1, 1)])),
            RegisterModule("conv5", Block(nn, [(c512, c512, 1, 2), (c512, c512, 1, 2), (c512, c512, 1, 2)])),
            RegisterModule("conv6", Block(nn, [(c512, c512, 1, 2), (c512, c512, 1, 2), (c512, c512, 1, 2)])),
            RegisterModule("conv7", Block(nn, [(c512, c512, 1, 1), (c512, c512, 1, 1), (c512, c512, 1, 1)])),
            RegisterModule("conv8", Conv8(nn, c512, c256)),
        ];
        _logits = RegisterModule("logits", nn.Conv2d(c256, Bins, 1));
        nn.KaimingNormal(_logits.Weight, mode: FanMode.FanIn, nonlinearity: Nonlinearity.Linear);
        _logits.Bias!.Fill(0f);
        FeatureChannels = c256;
    }

    /// <summary>Channels of conv8's output (256 at full width): what <see cref="Forward"/> returns as features.</summary>
    public int FeatureChannels { get; }

    /// <summary>conv8's features [N, 256w, H/4, W/4] (after its last ReLU) and the logits [N, 313, H/4, W/4].</summary>
    public (Tensor Features, Tensor Logits) Forward(Tensor x)
    {
        var features = Sequential.Chain(!Training && _folded is not null ? _folded : _blocks, x);
        return (features, _logits.Forward(features));
    }

    /// <summary>
    /// Eval mode from now on runs each block's conv + bias + ReLU as one fused convolution. The batch norm
    /// after a block's last ReLU cannot go into that convolution's weights (ReLU sits between) nor into the next
    /// block's first convolution (its zero padding would then pad with BN(0) = shift instead of 0 at the image
    /// border), so it becomes that last convolution's post-activation affine: relu(conv + b) * scale + shift in
    /// the same epilogue. conv8's stride-2 transposed convolution keeps its own op, followed by ReLU.
    /// </summary>
    void IInferenceFoldable.FoldForInference()
    {
        if (_folded is not null) foreach (var f in _folded) f.Dispose();
        _folded = _blocks.Select(FoldBlock).ToArray();
    }

    private static Sequential FoldBlock(Sequential block)
    {
        var folded = new Sequential();
        var layers = block.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            switch (layers[i])
            {
                case Conv2d conv:
                    var act = i + 1 < layers.Count && layers[i + 1] is ReLU relu ? relu : null;
                    var post = act is not null && i + 2 < layers.Count && layers[i + 2] is BatchNorm2d bn ? bn : null;
                    folded.Add(InferenceFolding.FuseConv(conv.Weight.Backend, conv.Weight.ToArray(), conv.Weight.Shape, conv.Bias?.ToArray(),
                        null, act, conv.Stride, conv.Padding, conv.Dilation, post));
                    i += (act is null ? 0 : 1) + (post is null ? 0 : 1);
                    break;
                case ConvTranspose2d deconv:
                    folded.Add(new ConvTranspose2dView(deconv));
                    break;
                case ReLU:
                    folded.Add(new ReLU());
                    break;
                default:
                    throw new InvalidOperationException($"ZhangTrunk: cannot fold a {layers[i].GetType().Name} here.");
            }
        }
        return folded;
    }

    /// <summary>The trained transposed convolution, run as is inside a folded block (the block does not own it).</summary>
    private sealed class ConvTranspose2dView(ConvTranspose2d d) : Layer
    {
        public override Tensor Forward(Tensor x) => d.Forward(x);
    }

    public override void Dispose()
    {
        if (_folded is not null) foreach (var f in _folded) f.Dispose();
        base.Dispose();
    }

    private static Sequential Block(LayerFactory nn, (int In, int Out, int Stride, int Dilation)[] convs)
    {
        var block = new Sequential();
        foreach (var (cin, cout, stride, dilation) in convs)
        {
            var conv = nn.Conv2d(cin, cout, 3, stride: stride, padding: dilation, dilation: dilation, bias: true);
            nn.KaimingNormal(conv.Weight, mode: FanMode.FanIn, nonlinearity: Nonlinearity.Relu);
            conv.Bias!.Fill(0f);
            block.Add(conv).Add(new ReLU());
        }
        block.Add(nn.BatchNorm2d(convs[^1].Out));
        return block;
    }

    private static Sequential Conv8(LayerFactory nn, int c512, int c256)
    {
        var deconv = nn.ConvTranspose2d(c512, c256, 4, stride: 2, padding: 1, bias: true);
        nn.KaimingNormal(deconv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        deconv.Bias!.Fill(0f);
        var block = new Sequential(deconv, new ReLU());
        for (int i = 0; i < 2; i++)
        {
            var conv = nn.Conv2d(c256, c256, 3, padding: 1, bias: true);
            nn.KaimingNormal(conv.Weight, mode: FanMode.FanIn, nonlinearity: Nonlinearity.Relu);
            conv.Bias!.Fill(0f);
            block.Add(conv).Add(new ReLU());
        }
        return block;
    }
}
