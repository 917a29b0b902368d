using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks.Misr;

/// <summary>
/// RegNet: from SISRNet's features of frame k and of the reference frame 0 (channels side by side, 2F), one
/// K x K registration filter per frame k = 1 .. N-1: a 3 x 3 convolution 2F -&gt; 2F (the authors' 2 x 3 x 3
/// convolution with stride 2 over the interleaved pair is exactly this), then 2F -&gt; F, F -&gt; F, F -&gt; F, each
/// with leaky ReLU, then F -&gt; K^2 logits (no activation), all reflection padded; the logits' spatial mean,
/// softmax over the K^2 taps. No normalisation, as the authors'. The filter then aligns the frame's features, its
/// bicubic input and its mask through <see cref="F.DynamicConv2d"/>.
/// </summary>
public sealed class RegNet : Module
{
    private readonly Conv2d[] _convs;
    private readonly Conv2d _taps;
    private readonly int _k;
    private readonly float _slope;

    public RegNet(Backend backend, Random rng, DeepSumConfig config)
    {
        int f = config.Filters;
        _k = config.FilterSize;
        _slope = config.Slope;
        (int In, int Out)[] shape = [(2 * f, 2 * f), (2 * f, f), (f, f), (f, f)];
        _convs = shape.Select((s, i) => RegisterModule($"conv{i}", new Conv2d(s.In, s.Out, 3, backend, rng))).ToArray();
        _taps = RegisterModule("taps", new Conv2d(f, _k * _k, 3, backend, rng));
        foreach (var conv in _convs.Append(_taps))
        {
            Init.XavierNormal(conv.Weight, rng);
            conv.Bias!.Fill(0f);
        }
    }

    /// <summary>Filters [N*(T-1), 1, K, K] (each summing to 1) from features [N, T, F, H, W], frame 0 the reference.</summary>
    public Tensor Forward(Tensor features)
    {
        var logits = Logits(features);
        var softmax = F.Softmax(logits, dim: 1);
        logits.ReleaseIfNoGrad();
        return softmax.ReplacedBy(F.Reshape(softmax, softmax.Size(0), 1, _k, _k));
    }

    /// <summary>The filters' logits [N*(T-1), K*K, 1, 1] (before the softmax over taps): RegNet's pretraining scores these.</summary>
    public Tensor Logits(Tensor features)
    {
        int n = features.Size(0), t = features.Size(1), f = features.Size(2), h = features.Size(3), w = features.Size(4);
        var others = F.Narrow(features, 1, 1, t - 1);
        var reference = F.Narrow(features, 1, 0, 1);
        var references = t - 1 == 1 ? reference : F.Cat(Enumerable.Repeat(reference, t - 1).ToArray(), dim: 1);
        var joined = F.Cat([others, references], dim: 2);
        others.ReleaseIfNoGrad();
        references.ReleaseIfNoGrad();
        if (!ReferenceEquals(reference, references)) reference.ReleaseIfNoGrad();
        var x = joined.ReplacedBy(F.Reshape(joined, n * (t - 1), 2 * f, h, w));
        foreach (var conv in _convs)
        {
            var padded = x.ReplacedBy(F.ReflectPad2d(x, 1));
            var y = padded.ReplacedBy(conv.Forward(padded));
            x = y.ReplacedBy(F.LeakyRelu(y, _slope));
        }
        var last = x.ReplacedBy(F.ReflectPad2d(x, 1));
        var taps = last.ReplacedBy(_taps.Forward(last));
        return taps.ReplacedBy(F.SpatialMean(taps));
    }

    /// <summary>Side of the filters (K).</summary>
    public int FilterSize => _k;
}
