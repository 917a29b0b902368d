using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks.Blocks;

/// <summary>
/// One of liu2018's SR decoder streams: 3x3 stride-1 transposed convolutions with BN and PReLU, in groups of
/// three per channel count from the tap's down to 32 (stream 3: 128 x3, 64 x3, 32 x3), then a plain 3x3
/// convolution to one channel (<c>out</c>, with bias) giving the stream's residual F_j. Blocks are named
/// 0, 1, ... (<c>decoder3.4.deconv.weight</c>), the last convolution <c>decoder3.out.weight</c>.
/// <c>out</c> starts at zero (weight and bias), so an untrained stream adds nothing and an untrained
/// network returns its input (see docs/networks.md: with He initialisation here an untrained model is
/// 26-28 dB worse than bicubic and must first unlearn that).
/// </summary>
public sealed class SrStream : Layer
{
    private readonly List<ConvBlock> _blocks = new();
    private readonly Conv2d _out;

    /// <param name="groups">Full-width channel counts of the groups, e.g. [128, 64, 32].</param>
    public SrStream(LayerFactory nn, int inChannels, IReadOnlyList<int> groups, double width, int blocksPerGroup = 3)
    {
        int channels = inChannels;
        foreach (int group in groups)
        {
            int c = Widths.Scale(group, width);
            for (int i = 0; i < blocksPerGroup; i++)
            {
                var block = ConvBlock.DeconvBp(nn, channels, c, 3, stride: 1, padding: 1);
                _blocks.Add(RegisterModule(_blocks.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), block));
                channels = c;
            }
        }
        _out = RegisterModule("out", nn.Conv2d(channels, 1, 3, padding: 1, bias: true));
        _out.Weight.Fill(0f);
        _out.Bias!.Fill(0f);
    }

    public override Tensor Forward(Tensor x) => Sequential.Chain(_blocks.Append<Layer>(_out), x);
}
