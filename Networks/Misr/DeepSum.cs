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
    /// quality maps; constants). With <paramref name="filters"/> ([N*(T-1), 1, K, K], as an earlier forward's
    /// <see cref="DeepSumOutput.Filters"/>) the frames are registered by those and RegNet does not run: a tiled inference
    /// estimates a scene's registration once, as the untiled network would, and applies it to every tile.
    /// </summary>
    public DeepSumOutput Forward(Tensor frames, Tensor masks, Tensor? filters = null)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(masks);
        if (frames.Rank != 5 || frames.Size(2) != 1 || frames.Size(1) != Config.Frames)
            throw new ArgumentException($"deepsum: frames must be [N, {Config.Frames}, 1, H, W], got {Tensor.Format(frames.Shape)}.");
        if (!masks.Shape.SequenceEqual(frames.Shape))
            throw new ArgumentException($"deepsum: masks {Tensor.Format(masks.Shape)} must have the frames' shape {Tensor.Format(frames.Shape)}.");
        if (masks.RequiresGrad) throw new ArgumentException("deepsum: masks are data and must not require a gradient.");
        int n = frames.Size(0), t = frames.Size(1), h = frames.Size(3), w = frames.Size(4);
        // Intermediates are released after their last read (no-ops in grad mode), so inference holds a few feature
        // stacks at a time; the caller's frames, masks and filters are never released.
        var features = Features(frames);
        var bicubic = frames;
        var aligned = masks;
        if (filters is not null && !Config.UseRegNet)
            throw new ArgumentException("deepsum: registration filters were given to a DeepSUM without RegNet.");
        if (Config.UseRegNet)
        {
            int k = Config.FilterSize;
            if (filters is not null && !filters.Shape.SequenceEqual([n * (t - 1), 1, k, k]))
                throw new ArgumentException($"deepsum: registration filters must be [{n * (t - 1)}, 1, {k}, {k}], got {Tensor.Format(filters.Shape)}.");
            filters ??= Reg.Forward(features);
            features = features.ReplacedBy(Register(features, filters));
            bicubic = Register(bicubic, filters);
            using (Autograd.NoGrad()) aligned = Register(masks, filters);
        }
        var selection = MutualInpainting.Selection(aligned.ToArray(), n, t, h * w);
        if (!ReferenceEquals(aligned, masks)) aligned.Dispose(); // made without gradient: nothing saved it
        features = features.ReplacedBy(MutualInpainting.Apply(features, selection));
        var inpainted = MutualInpainting.Apply(bicubic, selection);
        if (!ReferenceEquals(bicubic, frames)) bicubic.ReleaseIfNoGrad();
        Tensor? mean = null;
        for (int j = 0; j < t; j++)
        {
            var frame = F.Narrow(inpainted, 1, j, 1);
            var plane = frame.ReplacedBy(F.Reshape(frame, n, 1, h, w));
            if (mean is null) { mean = plane; continue; }
            var sum = F.Add(mean, plane);
            mean.ReleaseIfNoGrad();
            plane.ReleaseIfNoGrad();
            mean = sum;
        }
        inpainted.ReleaseIfNoGrad();
        mean = mean!.ReplacedBy(F.Mul(mean!, 1f / t));
        var residual = Fusion.Forward(features);
        features.ReleaseIfNoGrad();
        var sr = F.Add(residual, mean);
        residual.ReleaseIfNoGrad();
        mean.ReleaseIfNoGrad();
        return new DeepSumOutput(sr, filters);
    }

    /// <summary>SISRNet's features [N, T, F, H, W] of frames [N, T, 1, H, W], every frame through the same layers.</summary>
    public Tensor Features(Tensor frames)
    {
        int n = frames.Size(0), t = frames.Size(1), h = frames.Size(3), w = frames.Size(4);
        var flat = F.Reshape(frames, n * t, 1, h, w);
        var features = flat.ReplacedBy(Sisr.Forward(flat));
        return features.ReplacedBy(F.Reshape(features, n, t, Config.Filters, h, w));
    }

    // Frames 1..T-1 of [N, T, C, H, W] filtered by their registration filters; frame 0 unchanged.
    private static Tensor Register(Tensor x, Tensor filters)
    {
        int n = x.Size(0), t = x.Size(1), c = x.Size(2), h = x.Size(3), w = x.Size(4);
        var narrow = F.Narrow(x, 1, 1, t - 1);
        var others = narrow.ReplacedBy(F.Reshape(narrow, n * (t - 1), c, h, w));
        var filtered = others.ReplacedBy(F.DynamicConv2d(others, filters, reflect: true));
        var moved = filtered.ReplacedBy(F.Reshape(filtered, n, t - 1, c, h, w));
        var reference = F.Narrow(x, 1, 0, 1);
        var registered = F.Cat([reference, moved], dim: 1);
        reference.ReleaseIfNoGrad();
        moved.ReleaseIfNoGrad();
        return registered;
    }
}
