using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks.Colorization;

/// <summary>
/// The SpaceNet GAN colorizer's generator: grey [N, 1, H, W] in [0, 1] to RGB [N, 3, H, W] in [0, 1], H and W even.
/// <code>
///   h0 = stem(grey)                                   3 x 3, 1 -> F, no activation
///   h1 = outer1(h0)                                   conv 3 x 3, conv 3 x 3 stride 2, deconv 4 x 4 stride 2, ReLU
///   h2 = outer2(Mix h1 + (1 - Mix) h0)                each outer layer reads a convex combination
///   h3 = outer3(Mix h2 + (1 - Mix) h1)                of the previous outer layer and the one before it
///   rgb = sigmoid(to_rgb(h3))                         1 x 1, F -> 3
/// </code>
/// Each outer layer halves and restores the size, so any even size runs (the colorize command pads odd ones).
/// </summary>
public sealed class GanGenerator : Module
{
    private readonly Conv2d _stem, _toRgb;
    private readonly (Conv2d Conv1, Conv2d Conv2, ConvTranspose2d Deconv)[] _outer;

    public GanGenerator(LayerFactory nn, GanColorizerConfig config)
    {
        ArgumentNullException.ThrowIfNull(nn);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int f = config.Filters;
        _stem = RegisterModule("stem", nn.Conv2d(1, f, 3, padding: 1));
        _outer = new (Conv2d, Conv2d, ConvTranspose2d)[3];
        for (int k = 1; k <= 3; k++)
            _outer[k - 1] = (RegisterModule($"outer{k}_conv1", nn.Conv2d(f, f, 3, padding: 1)),
                             RegisterModule($"outer{k}_conv2", nn.Conv2d(f, f, 3, stride: 2, padding: 1)),
                             RegisterModule($"outer{k}_deconv", nn.ConvTranspose2d(f, f, 4, stride: 2, padding: 1)));
        _toRgb = RegisterModule("to_rgb", nn.Conv2d(f, 3, 1));
    }

    public GanColorizerConfig Config { get; }

    /// <summary>Sides must be multiples of this (the stride-2 convolution and its transposed partner).</summary>
    public const int SizeMultiple = 2;

    public Tensor Forward(Tensor grey)
    {
        ArgumentNullException.ThrowIfNull(grey);
        if (grey.Rank != 4 || grey.Size(1) != 1)
            throw new ArgumentException($"gan-colorizer: the generator takes grey [N, 1, H, W], got {Tensor.Format(grey.Shape)}.");
        if (grey.Size(2) % SizeMultiple != 0 || grey.Size(3) % SizeMultiple != 0)
            throw new ArgumentException($"gan-colorizer: H and W must be even, got {Tensor.Format(grey.Shape)} (pad the image).");
        // Intermediates are released after their last read (no-ops in grad mode).
        var h = new Tensor[4];
        h[0] = _stem.Forward(grey);
        for (int k = 1; k <= 3; k++)
        {
            Tensor input = h[0];
            if (k > 1)
            {
                var recent = F.Mul(h[k - 1], Config.Mix);
                var older = F.Mul(h[k - 2], 1f - Config.Mix);
                input = F.Add(recent, older);
                recent.ReleaseIfNoGrad();
                older.ReleaseIfNoGrad();
                h[k - 2].ReleaseIfNoGrad();
            }
            var (conv1, conv2, deconv) = _outer[k - 1];
            var a = conv1.Forward(input);
            if (k > 1) input.ReleaseIfNoGrad();
            var b = a.ReplacedBy(conv2.Forward(a));
            var c = b.ReplacedBy(deconv.Forward(b));
            h[k] = c.ReplacedBy(F.Relu(c));
        }
        h[2].ReleaseIfNoGrad();
        var logits = _toRgb.Forward(h[3]);
        h[3].ReleaseIfNoGrad();
        return logits.ReplacedBy(F.Sigmoid(logits));
    }
}
