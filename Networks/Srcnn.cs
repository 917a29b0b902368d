using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks.Blocks;

namespace ILGpuSat.Networks;

/// <summary>srcnn: <see cref="Width"/> scales the 64 and 32 channels.</summary>
public sealed record SrcnnConfig(double Width = 1) : ModelConfig
{
    public override ModelConfig WithWidth(double width) => this with { Width = width };

    public override void Validate() => Widths.Check(Width, "srcnn: width");
}

/// <summary>
/// SRCNN (Dong et al. 2014/2016), the 9-5-5 network: <c>conv1</c> 9x9 1->64 (patch extraction), ReLU,
/// <c>conv2</c> 5x5 64->32 (non-linear mapping), ReLU, <c>conv3</c> 5x5 32->1 (reconstruction), with biases,
/// on the bicubic-upsampled LR image. As in the paper it predicts the image itself, not a residual.
/// Unlike the paper (valid convolutions, a smaller output) every layer pads "same", so the output has the
/// input's size and is scored like the other models.
/// Initialisation: He normal (ReLU gain) for conv1 and conv2, and the paper's Gaussian of std 1e-3 for conv3
/// only; zero biases. The paper's std 1e-3 everywhere was chosen for SGD at lr 1e-4. Three such layers pass
/// on roughly 1e-5 of their input's scale (each multiplies it by about sqrt(fan-in) * 1e-3), and with Adam at
/// lr 1e-3 the first steps move every weight by about the learning rate, as much as the weight itself, so the
/// initial scale is gone after a step anyway. He in the rectified layers keeps the signal at unit scale from the
/// start; the small last layer keeps the untrained output near 0 (mid-grey) instead of noise of unit scale.
/// </summary>
public sealed class Srcnn : SatNetwork, IInferenceFoldable
{
    public const float PaperInitStd = 1e-3f;

    private readonly Conv2d _conv1, _conv2, _conv3;
    private readonly SrcnnConfig _config;
    private FusedConv2d? _fused1, _fused2;

    public Srcnn(LayerFactory nn, SrcnnConfig config)
    {
        ArgumentNullException.ThrowIfNull(nn);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        int c64 = Widths.Scale(64, config.Width), c32 = Widths.Scale(32, config.Width);
        _conv1 = RegisterModule("conv1", nn.Conv2d(1, c64, 9, padding: 4));
        _conv2 = RegisterModule("conv2", nn.Conv2d(c64, c32, 5, padding: 2));
        _conv3 = RegisterModule("conv3", nn.Conv2d(c32, 1, 5, padding: 2));
        nn.KaimingNormal(_conv1.Weight, mode: FanMode.FanIn, nonlinearity: Nonlinearity.Relu);
        nn.KaimingNormal(_conv2.Weight, mode: FanMode.FanIn, nonlinearity: Nonlinearity.Relu);
        Init.Normal(_conv3.Weight, nn.Rng, 0f, PaperInitStd);
        foreach (var conv in new[] { _conv1, _conv2, _conv3 }) conv.Bias!.Fill(0f);
    }

    public override NetworkInput Input => NetworkInput.BicubicUpsampled;

    public override NetworkTasks Tasks => NetworkTasks.SuperResolution;

    public override NetworkOutput Forward(Tensor input)
    {
        CheckInput(input);
        if (!Training && _fused1 is not null && _fused2 is not null)
            return new NetworkOutput(Sequential.Chain([_fused1, _fused2, _conv3], input), null, null);
        // Intermediates are released after their last read (a no-op in grad mode).
        var h = ReluOf(_conv1.Forward(input));
        var h2 = ReluOf(_conv2.Forward(h));
        h.ReleaseIfNoGrad();
        var y = _conv3.Forward(h2);
        h2.ReleaseIfNoGrad();
        return new NetworkOutput(y, null, null);
    }

    private static Tensor ReluOf(Tensor x) => x.ReplacedBy(F.Relu(x));

    internal override SatNetwork Rebuild(LayerFactory nn) => new Srcnn(nn, _config);

    /// <summary>No batch norm to fold: conv1 and conv2 get their ReLU in the convolution's epilogue.</summary>
    void IInferenceFoldable.FoldForInference()
    {
        _fused1?.Dispose();
        _fused2?.Dispose();
        _fused1 = Fuse(_conv1);
        _fused2 = Fuse(_conv2);
    }

    private static FusedConv2d Fuse(Conv2d c) => InferenceFolding.FuseConv(c.Weight.Backend, c.Weight.ToArray(), c.Weight.Shape, c.Bias?.ToArray(),
        null, new ReLU(), c.Stride, c.Padding, c.Dilation);

    public override void Dispose()
    {
        _fused1?.Dispose();
        _fused2?.Dispose();
        base.Dispose();
    }
}
