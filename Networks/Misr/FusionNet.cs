using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks.Misr;

/// <summary>
/// FusionNet: FusionLayers x (reflection pad 1 in H and W, 3 x 3 x 3 convolution with no temporal padding, affine
/// instance norm per frame, leaky ReLU) over the registered, inpainted features [N, T, F, H, W], fusing the frames
/// "slowly" (9 -&gt; 7 -&gt; 5 -&gt; 3 -&gt; 1), then a 1 x 1 convolution to one channel: the residual [N, 1, H, W].
/// </summary>
public sealed class FusionNet : Module
{
    private readonly Conv3d[] _convs;
    private readonly InstanceNorm2d[] _norms;
    private readonly Conv2d _out;
    private readonly float _slope;

    public FusionNet(Backend backend, Random rng, DeepSumConfig config)
    {
        int f = config.Filters;
        _slope = config.Slope;
        _convs = new Conv3d[config.FusionLayers];
        _norms = new InstanceNorm2d[config.FusionLayers];
        for (int i = 0; i < config.FusionLayers; i++)
        {
            _convs[i] = RegisterModule($"conv{i}", new Conv3d(f, f, 3, 3, backend, rng));
            Init.XavierNormal(_convs[i].Weight, rng);
            _convs[i].Bias!.Fill(0f);
            _norms[i] = RegisterModule($"norm{i}", new InstanceNorm2d(f, backend, config.NormEps, affine: true));
        }
        _out = RegisterModule("out", new Conv2d(f, 1, 1, backend, rng));
        Init.XavierNormal(_out.Weight, rng);
        _out.Bias!.Fill(0f);
    }

    public Tensor Forward(Tensor features)
    {
        var x = features;
        for (int i = 0; i < _convs.Length; i++)
        {
            // Intermediates are released after their last read (no-ops in grad mode); the caller's features are kept.
            var padded = F.ReflectPad2d(x, 1);
            if (i > 0) x.ReleaseIfNoGrad();
            var y = padded.ReplacedBy(_convs[i].Forward(padded)); // [N, T - 2, F, H, W]
            int n = y.Size(0), t = y.Size(1), f = y.Size(2), h = y.Size(3), w = y.Size(4);
            var flat = y.ReplacedBy(F.Reshape(y, n * t, f, h, w));
            var normed = flat.ReplacedBy(_norms[i].Forward(flat));
            var act = normed.ReplacedBy(F.LeakyRelu(normed, _slope));
            x = act.ReplacedBy(F.Reshape(act, n, t, f, h, w));
        }
        if (x.Size(1) != 1) throw new ArgumentException($"FusionNet: {features.Size(1)} frames leave {x.Size(1)} after {_convs.Length} layers, not 1.");
        var fused = ReferenceEquals(x, features) ? x : x.ReplacedBy(F.Reshape(x, x.Size(0), x.Size(2), x.Size(3), x.Size(4)));
        var residual = _out.Forward(fused);
        if (!ReferenceEquals(fused, features)) fused.ReleaseIfNoGrad();
        return residual;
    }
}
