using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks.Misr;

/// <summary>
/// SISRNet: the same 2-D layers on every bicubic-upsampled frame ([M, 1, H, W], M = samples x frames):
/// SisrLayers x (reflection pad 1, 3 x 3 convolution, affine instance norm, leaky ReLU), 1 -&gt; F -&gt; ... -&gt; F
/// channels. Instance norm, not batch norm: brightness and contrast differ between the frames of one batch.
/// Pretrained alone through <see cref="SisrPretrainer"/>; DeepSUM keeps only these layers.
/// </summary>
public sealed class SisrNet : Module
{
    private readonly Conv2d[] _convs;
    private readonly InstanceNorm2d[] _norms;
    private readonly float _slope;

    public SisrNet(Backend backend, Random rng, DeepSumConfig config)
    {
        _slope = config.Slope;
        _convs = new Conv2d[config.SisrLayers];
        _norms = new InstanceNorm2d[config.SisrLayers];
        for (int i = 0; i < config.SisrLayers; i++)
        {
            _convs[i] = RegisterModule($"conv{i}", new Conv2d(i == 0 ? 1 : config.Filters, config.Filters, 3, backend, rng));
            Init.XavierNormal(_convs[i].Weight, rng);
            _convs[i].Bias!.Fill(0f);
            _norms[i] = RegisterModule($"norm{i}", new InstanceNorm2d(config.Filters, backend, config.NormEps, affine: true));
        }
    }

    /// <summary>Features [M, F, H, W] of frames [M, 1, H, W].</summary>
    public Tensor Forward(Tensor frames)
    {
        // Each intermediate is released after its last read (a no-op in grad mode), so inference holds one layer's
        // activations at a time; the caller's frames are never released.
        var h = frames;
        for (int i = 0; i < _convs.Length; i++)
        {
            var padded = F.ReflectPad2d(h, 1);
            if (i > 0) h.ReleaseIfNoGrad();
            var conv = _convs[i].Forward(padded);
            padded.ReleaseIfNoGrad();
            var normed = _norms[i].Forward(conv);
            conv.ReleaseIfNoGrad();
            h = F.LeakyRelu(normed, _slope);
            normed.ReleaseIfNoGrad();
        }
        return h;
    }
}

/// <summary>
/// SISRNet's pretraining (a single-image SR network on each frame): its features, a 3 x 3 convolution to one
/// channel (reflection padded), plus the bicubic input. Trained with the SR loss, then <see cref="Head"/> is dropped.
/// </summary>
public sealed class SisrPretrainer : Module
{
    public SisrPretrainer(SisrNet sisr, Backend backend, Random rng, DeepSumConfig config)
    {
        Sisr = RegisterModule("sisr", sisr);
        Head = RegisterModule("head", new Conv2d(config.Filters, 1, 3, backend, rng));
        Init.XavierNormal(Head.Weight, rng);
        Head.Bias!.Fill(0f);
    }

    public SisrNet Sisr { get; }

    public Conv2d Head { get; }

    /// <summary>SR [M, 1, H, W] of standardised bicubic frames [M, 1, H, W].</summary>
    public Tensor Forward(Tensor frames)
    {
        var features = Sisr.Forward(frames);
        var padded = features.ReplacedBy(F.ReflectPad2d(features, 1));
        var residual = padded.ReplacedBy(Head.Forward(padded));
        var sr = F.Add(frames, residual);
        residual.ReleaseIfNoGrad();
        return sr;
    }
}
