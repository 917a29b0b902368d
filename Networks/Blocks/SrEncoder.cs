using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks.Blocks;

/// <summary>
/// liu2018's multi-scale SR encoder: CBP -> 32 (<c>e1</c>), CBP -> 64 x3 (<c>e2</c>), CBP -> 128 x3 (<c>e3</c>),
/// all 3x3 at stride 1, channel counts scaled by the width multiplier. <see cref="Forward"/> returns the
/// three taps, each the output of its group's last block; keys are <c>e2.1.conv.weight</c> and so on.
/// </summary>
public sealed class SrEncoder : Module
{
    private readonly Sequential _e1, _e2, _e3;

    public SrEncoder(LayerFactory nn, int inChannels, double width)
    {
        int c32 = Widths.Scale(32, width), c64 = Widths.Scale(64, width), c128 = Widths.Scale(128, width);
        _e1 = RegisterModule("e1", Group(nn, inChannels, c32, 1));
        _e2 = RegisterModule("e2", Group(nn, c32, c64, 3));
        _e3 = RegisterModule("e3", Group(nn, c64, c128, 3));
        TapChannels = [c32, c64, c128];
    }

    /// <summary>Channels of e1, e2, e3.</summary>
    public IReadOnlyList<int> TapChannels { get; }

    public (Tensor E1, Tensor E2, Tensor E3) Forward(Tensor x)
    {
        var e1 = _e1.Forward(x);
        var e2 = _e2.Forward(e1);
        return (e1, e2, _e3.Forward(e2));
    }

    private static Sequential Group(LayerFactory nn, int inChannels, int channels, int blocks)
    {
        var group = new Sequential();
        for (int i = 0; i < blocks; i++) group.Add(ConvBlock.Cbp(nn, i == 0 ? inChannels : channels, channels));
        return group;
    }
}
