using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks;

/// <summary>
/// <c>depth</c> blocks of Conv2d(k x k, "same" padding, no bias) -> BatchNorm2d -> PReLU(per channel),
/// the first taking <c>inChannels</c> and every block producing <c>width</c> channels. As a flat
/// Sequential its PyTorch equivalent is nn.Sequential(conv, bn, prelu, conv, bn, prelu, ...), so
/// state-dict keys are "0.weight", "1.running_mean", "2.weight", "3.weight", ...
/// The convolutions get He normal initialisation for PReLU's initial slope 0.25 (He et al. 2015);
/// the conv has no bias because batch norm's beta takes its place.
/// Used by the profiler and as a small test network.
/// </summary>
public sealed class ConvBnPreluStack : Sequential
{
    public ConvBnPreluStack(LayerFactory nn, int inChannels, int width, int depth, int kernelSize = 3)
    {
        if (inChannels <= 0 || width <= 0 || depth <= 0)
            throw new ArgumentException($"ConvBnPreluStack: in channels {inChannels}, width {width} and depth {depth} must be positive.");
        if (kernelSize <= 0 || kernelSize % 2 == 0)
            throw new ArgumentException($"ConvBnPreluStack: kernel size {kernelSize} must be odd for 'same' padding.");
        const float slope = 0.25f;
        int channels = inChannels;
        for (int i = 0; i < depth; i++)
        {
            var conv = nn.Conv2d(channels, width, kernelSize, padding: kernelSize / 2, bias: false);
            nn.KaimingNormal(conv.Weight, a: slope, nonlinearity: Nonlinearity.LeakyRelu);
            Add(conv);
            Add(nn.BatchNorm2d(width));
            Add(nn.PReLU(width, slope));
            channels = width;
        }
        InChannels = inChannels;
        Width = width;
        Depth = depth;
    }

    public int InChannels { get; }
    public int Width { get; }
    public int Depth { get; }
}
