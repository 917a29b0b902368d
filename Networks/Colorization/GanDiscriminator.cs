using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks.Blocks;

namespace ILGpuSat.Networks.Colorization;

/// <summary>
/// The SpaceNet GAN colorizer's discriminator: RGB windows [N, 3, Window, Window] to one logit each [N, 1] (no
/// activation: the losses take logits). Five 3 x 3 convolutions of 64, 128, 256, 512 and 1024 filters (times
/// <see cref="GanColorizerConfig.DiscriminatorWidth"/>), each followed by leaky ReLU and 2 x 2 max-pooling, then
/// one linear layer over the flattened (Window / 32)^2 x 1024 features.
/// </summary>
public sealed class GanDiscriminator : Module
{
    private readonly Conv2d[] _convs = new Conv2d[5];
    private readonly Linear _linear;

    public GanDiscriminator(LayerFactory nn, GanColorizerConfig config)
    {
        ArgumentNullException.ThrowIfNull(nn);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int previous = 3;
        int[] filters = [64, 128, 256, 512, 1024];
        for (int i = 0; i < 5; i++)
        {
            int c = Widths.Scale(filters[i], config.DiscriminatorWidth);
            _convs[i] = RegisterModule($"conv{i + 1}", nn.Conv2d(previous, c, 3, padding: 1));
            previous = c;
        }
        int side = config.Window / 32;
        _linear = RegisterModule("linear", new Linear(previous * side * side, 1, nn.Backend, nn.Rng));
    }

    public GanColorizerConfig Config { get; }

    /// <summary>The discriminator's weights (convolutions and the linear layer, not biases): the L2 penalty's target.</summary>
    public IEnumerable<Tensor> Weights => _convs.Select(c => c.Weight).Append(_linear.Weight);

    public Tensor Forward(Tensor rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        int w = Config.Window;
        if (rgb.Rank != 4 || rgb.Size(1) != 3 || rgb.Size(2) != w || rgb.Size(3) != w)
            throw new ArgumentException($"gan-colorizer: the discriminator takes RGB windows [N, 3, {w}, {w}], got {Tensor.Format(rgb.Shape)}.");
        var x = rgb;
        for (int i = 0; i < 5; i++)
        {
            var y = _convs[i].Forward(x);
            if (i > 0) x.ReleaseIfNoGrad();
            var a = y.ReplacedBy(F.LeakyRelu(y, Config.Slope));
            x = a.ReplacedBy(F.MaxPool2d(a, 2));
        }
        var flat = x.ReplacedBy(F.Flatten(x));
        return flat.ReplacedBy(_linear.Forward(flat));
    }
}
