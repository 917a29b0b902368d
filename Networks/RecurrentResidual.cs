using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Networks.Blocks;

namespace ILGpuSat.Networks;

/// <summary>recurrent-residual: <see cref="Width"/> scales the 64 feature channels; <see cref="Recursions"/> is B, the number of
/// times the shared residual unit runs; <see cref="ResidualScale"/> multiplies the unit's output before it is added.</summary>
public sealed record RecurrentResidualConfig(double Width = 1, int Recursions = 9, double ResidualScale = 0.1) : ModelConfig
{
    public override ModelConfig WithWidth(double width) => this with { Width = width };

    public override void Validate()
    {
        Widths.Check(Width, "recurrent-residual: width");
        if (Recursions is < 1 or > 64)
            throw new ArgumentException($"recurrent-residual: recursions must be 1..64, got {Recursions}.");
        if (!double.IsFinite(ResidualScale) || ResidualScale <= 0 || ResidualScale > 1)
            throw new ArgumentException($"recurrent-residual: residualScale must be in (0, 1], got {ResidualScale}.");
    }
}

/// <summary>
/// The recurrent-residual SR baseline of Liu et al.'s Fig. 4, read as (docs/networks.md):
/// <code>
///   h0 = head(x)                                  CBP 1 -> 64
///   h_u = h_{u-1} + s * R_u(h_{u-1}),  u = 1..B    R_u = conv -> BN_u -> PReLU -> conv -> BN'_u
///   SR = x + tail(h_B)                            plain 3x3 conv 64 -> 1, zero-initialised
/// </code>
/// The two convolutions and the PReLU of the residual unit are one set of weights shared by all B
/// recursions (<c>unit.conv1</c>, <c>unit.prelu</c>, <c>unit.conv2</c>): that is the recurrence. Batch norm
/// is per recursion (<c>norms.{u}.bn1</c>, <c>norms.{u}.bn2</c>): recursion u sees activations of a different
/// scale than recursion 1, and one shared set of running statistics would average them, so eval mode would
/// normalise every recursion with statistics none of them had in training. s is fixed (0.1 by default), not
/// learned. The global skip adds the bicubic input to the output, as liu2018's Eq. 4 does.
/// </summary>
public sealed class RecurrentResidual : SatNetwork, IInferenceFoldable
{
    private readonly ConvBlock _head;
    private readonly Conv2d _conv1, _conv2;
    private readonly PReLU _prelu;
    private readonly (BatchNorm2d Bn1, BatchNorm2d Bn2)[] _norms;
    private readonly Conv2d _tail;
    private readonly float _scale;
    private readonly RecurrentResidualConfig _config;
    private (FusedConv2d First, FusedConv2d Second)[]? _folded;

    public RecurrentResidual(LayerFactory nn, RecurrentResidualConfig config)
    {
        ArgumentNullException.ThrowIfNull(nn);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        int c = Widths.Scale(64, config.Width);
        _scale = (float)config.ResidualScale;
        _head = RegisterModule("head", ConvBlock.Cbp(nn, 1, c));
        var unit = RegisterModule("unit", new SharedUnit(nn, c));
        (_conv1, _prelu, _conv2) = (unit.Conv1, unit.Prelu, unit.Conv2);
        var norms = RegisterModule("norms", new NormList());
        _norms = new (BatchNorm2d, BatchNorm2d)[config.Recursions];
        for (int u = 0; u < config.Recursions; u++) _norms[u] = norms.Add(nn, c);
        _tail = RegisterModule("tail", nn.Conv2d(c, 1, 3, padding: 1, bias: true));
        _tail.Weight.Fill(0f);
        _tail.Bias!.Fill(0f);
    }

    public override NetworkInput Input => NetworkInput.BicubicUpsampled;

    public override NetworkTasks Tasks => NetworkTasks.SuperResolution;

    public override NetworkOutput Forward(Tensor input)
    {
        CheckInput(input);
        // Intermediates are released after their last read (a no-op in grad mode).
        var h = _head.Forward(input);
        if (!Training && _folded is not null)
            foreach (var (first, second) in _folded) h = AddResidual(h, Sequential.Chain([first, second], h));
        else
            foreach (var (bn1, bn2) in _norms)
            {
                var r = Sequential.Chain([_conv1, bn1, _prelu, _conv2, bn2], h);
                h = AddResidual(h, F.Mul(r, _scale));
                r.ReleaseIfNoGrad();
            }
        var tail = _tail.Forward(h);
        h.ReleaseIfNoGrad();
        return new NetworkOutput(AddResidual(input, tail, releaseBase: false), null, null);
    }

    /// <summary>h + r, releasing r and (unless it is the network's input) h.</summary>
    private static Tensor AddResidual(Tensor h, Tensor r, bool releaseBase = true)
    {
        var next = F.Add(h, r);
        r.ReleaseIfNoGrad();
        if (releaseBase) h.ReleaseIfNoGrad();
        return next;
    }

    internal override SatNetwork Rebuild(LayerFactory nn) => new RecurrentResidual(nn, _config);

    /// <summary>
    /// The shared weights meet a different batch norm in every recursion, so folding gives each recursion its
    /// own pair of convolutions (B x 2 weight copies): conv1 + bn1 + PReLU fused, and conv2 + bn2 with the
    /// residual scale s folded in as well (r * s), no activation.
    /// </summary>
    void IInferenceFoldable.FoldForInference()
    {
        DisposeFolded();
        var backend = _conv1.Weight.Backend;
        float[] w1 = _conv1.Weight.ToArray(), w2 = _conv2.Weight.ToArray();
        _folded = _norms.Select(n =>
        {
            var first = InferenceFolding.FuseConv(backend, w1, _conv1.Weight.Shape, null, n.Bn1, _prelu, 1, _conv1.Padding, 1);
            var (s, t) = InferenceFolding.BatchNormAffine(n.Bn2);
            for (int o = 0; o < s.Length; o++) { s[o] *= _scale; t[o] *= _scale; }
            int outC = _conv2.Weight.Size(0);
            var second = new FusedConv2d(Tensor.FromArray(InferenceFolding.ScaleOutputChannels(w2, outC, s), _conv2.Weight.Shape, backend),
                Tensor.FromArray(t, [outC], backend), Kernels.ConvActivation.None, padding: _conv2.Padding);
            return (first, second);
        }).ToArray();
    }

    private void DisposeFolded()
    {
        if (_folded is null) return;
        foreach (var (a, b) in _folded) { a.Dispose(); b.Dispose(); }
        _folded = null;
    }

    public override void Dispose()
    {
        DisposeFolded();
        base.Dispose();
    }

    /// <summary>The residual unit's shared weights: conv1, prelu, conv2 (3x3, no bias: each is followed by a batch norm).</summary>
    private sealed class SharedUnit : Module
    {
        public SharedUnit(LayerFactory nn, int c)
        {
            Conv1 = RegisterModule("conv1", nn.Conv2d(c, c, 3, padding: 1, bias: false));
            Prelu = RegisterModule("prelu", nn.PReLU(c, ConvBlock.PreluInit));
            Conv2 = RegisterModule("conv2", nn.Conv2d(c, c, 3, padding: 1, bias: false));
            nn.KaimingNormal(Conv1.Weight, a: ConvBlock.PreluInit, mode: FanMode.FanIn, nonlinearity: Nonlinearity.LeakyRelu);
            nn.KaimingNormal(Conv2.Weight, a: ConvBlock.PreluInit, mode: FanMode.FanIn, nonlinearity: Nonlinearity.LeakyRelu);
        }

        public Conv2d Conv1 { get; }
        public PReLU Prelu { get; }
        public Conv2d Conv2 { get; }
    }

    /// <summary>The per-recursion batch norms, children "0", "1", ..., each holding bn1 and bn2.</summary>
    private sealed class NormList : Module
    {
        private int _count;

        public (BatchNorm2d, BatchNorm2d) Add(LayerFactory nn, int c)
        {
            var pair = RegisterModule((_count++).ToString(System.Globalization.CultureInfo.InvariantCulture), new NormPair(nn, c));
            return (pair.Bn1, pair.Bn2);
        }
    }

    private sealed class NormPair : Module
    {
        public NormPair(LayerFactory nn, int c)
        {
            Bn1 = RegisterModule("bn1", nn.BatchNorm2d(c));
            Bn2 = RegisterModule("bn2", nn.BatchNorm2d(c));
        }

        public BatchNorm2d Bn1 { get; }
        public BatchNorm2d Bn2 { get; }
    }
}
