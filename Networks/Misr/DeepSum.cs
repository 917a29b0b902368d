using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks.Misr;

/// <summary>DeepSUM's output: the SR image [N, 1, H, W] (standardised) and RegNet's filters [N*(T-1), 1, K, K] (null without RegNet).</summary>
public sealed record DeepSumOutput(Tensor Sr, Tensor? Filters);

/// <summary>
/// DeepSUM (Bordone Molini, Valsesia, Fracastoro, Magli 2019): multi-image SR of unregistered frames, as its
/// authors' code builds it (docs/misr.md lists the readings and departures).
/// <code>
///   x     = standardised bicubic-upsampled frames    [N, T, 1, H, W], frame 0 the reference (the clearest)
///   f     = SISRNet(x) per frame                      [N, T, F, H, W]
///   w     = RegNet(f)                                 one K x K filter per frame 1..T-1
///   f, x  = frames 1..T-1 filtered by w (reflection padded); masks too (clear where > 0.5)
///   f, x  = mutual inpainting by the registered masks
///   SR    = FusionNet(f) + mean over frames of x       [N, 1, H, W]
/// </code>
/// </summary>
public sealed class DeepSum : Module
{
    public DeepSum(Backend backend, int seed, DeepSumConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var rng = new Random(seed);
        Sisr = RegisterModule("sisr", new SisrNet(backend, rng, config));
        Reg = RegisterModule("reg", new RegNet(backend, rng, config));
        Fusion = RegisterModule("fusion", new FusionNet(backend, rng, config));
    }

    public DeepSumConfig Config { get; }

    public SisrNet Sisr { get; }

    public RegNet Reg { get; }

    public FusionNet Fusion { get; }

    /// <summary>
    /// SR of standardised bicubic frames [N, T, 1, H, W] with their masks [N, T, 1, H, W] (1 = clear, nearest-upsampled
    /// quality maps; constants).
    /// </summary>
    public DeepSumOutput Forward(Tensor frames, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(masks);
        if (frames.Rank != 5 || frames.Size(2) != 1 || frames.Size(1) != Config.Frames)
            throw new ArgumentException($"deepsum: frames must be [N, {Config.Frames}, 1, H, W], got {Tensor.Format(frames.Shape)}.");
        if (!masks.Shape.SequenceEqual(frames.Shape))
            throw new ArgumentException($"deepsum: masks {Tensor.Format(masks.Shape)} must have the frames' shape {Tensor.Format(frames.Shape)}.");
        if (masks.RequiresGrad) throw new ArgumentException("deepsum: masks are data and must not require a gradient.");
        int n = frames.Size(0), t = frames.Size(1), h = frames.Size(3), w = frames.Size(4);
        var features = Features(frames);
        var bicubic = frames;
        var aligned = masks;
        Tensor? filters = null;
        if (Config.UseRegNet)
        {
            filters = Reg.Forward(features);
            features = Register(features, filters);
            bicubic = Register(bicubic, filters);
            using (Autograd.NoGrad()) aligned = Register(masks, filters);
        }
        var selection = MutualInpainting.Selection(aligned.ToArray(), n, t, h * w);
        features = MutualInpainting.Apply(features, selection);
        bicubic = MutualInpainting.Apply(bicubic, selection);
        Tensor mean = F.Reshape(F.Narrow(bicubic, 1, 0, 1), n, 1, h, w);
        for (int k = 1; k < t; k++) mean = F.Add(mean, F.Reshape(F.Narrow(bicubic, 1, k, 1), n, 1, h, w));
        mean = F.Mul(mean, 1f / t);
        return new DeepSumOutput(F.Add(Fusion.Forward(features), mean), filters);
    }

    /// <summary>SISRNet's features [N, T, F, H, W] of frames [N, T, 1, H, W], every frame through the same layers.</summary>
    public Tensor Features(Tensor frames)
    {
        int n = frames.Size(0), t = frames.Size(1), h = frames.Size(3), w = frames.Size(4);
        return F.Reshape(Sisr.Forward(F.Reshape(frames, n * t, 1, h, w)), n, t, Config.Filters, h, w);
    }

    // Frames 1..T-1 of [N, T, C, H, W] filtered by their registration filters; frame 0 unchanged.
    private static Tensor Register(Tensor x, Tensor filters)
    {
        int n = x.Size(0), t = x.Size(1), c = x.Size(2), h = x.Size(3), w = x.Size(4);
        var others = F.Reshape(F.Narrow(x, 1, 1, t - 1), n * (t - 1), c, h, w);
        var moved = F.Reshape(F.DynamicConv2d(others, filters, reflect: true), n, t - 1, c, h, w);
        return F.Cat([F.Narrow(x, 1, 0, 1), moved], dim: 1);
    }
}
