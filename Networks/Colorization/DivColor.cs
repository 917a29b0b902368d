using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks.Colorization;

/// <summary>divcolor's sizes: the field side (a multiple of 16), the four encoder widths, the code size and the mixture's components.</summary>
public sealed record DivColorConfig
{
    public int Size { get; init; } = 64;

    public IReadOnlyList<int> Widths { get; init; } = [32, 64, 128, 256];

    public int Z { get; init; } = 64;

    public int Components { get; init; } = 8;

    public void Validate()
    {
        if (Size < 16 || Size % 16 != 0) throw new ArgumentException($"divcolor: size must be a positive multiple of 16, got {Size}.");
        if (Widths.Count != 4 || Widths.Any(w => w < 1)) throw new ArgumentException("divcolor: widths must be four positive channel counts.");
        if (Z < 1 || Components < 1) throw new ArgumentException($"divcolor: z ({Z}) and components ({Components}) must be positive.");
    }
}

/// <summary>
/// divcolor (Deshpande, Lu, Chong, Forsyth 2017: diverse colorization with a VAE and a mixture density network), as
/// Tools/Bench/torch_colorizers.py defines it (docs/colorizers.md lists the readings):
/// <code>
///   grey features g1..g4 = GreyStack(L)               four 3 x 3 stride-2 conv + BN + ReLU: 1/2 .. 1/16
///   (mu, logvar)      = enc_fc(EncStack(ab))          the same form on the ab field, then a linear layer
///   ab'               = Decode(z, g)                  dec_fc(z) on the 1/16 grid; per scale: concat g, 3 x 3 conv +
///                                                     BN + ReLU, nearest x2; a 3 x 3 conv to ab / 110 (linear)
///   (weights, means)  = mdn(g4)                       K weight logits and K means of z
/// </code>
/// </summary>
public sealed class DivColor : Module
{
    private readonly (Conv2d Conv, BatchNorm2d Norm)[] _grey = new (Conv2d, BatchNorm2d)[4];
    private readonly (Conv2d Conv, BatchNorm2d Norm)[] _enc = new (Conv2d, BatchNorm2d)[4];
    private readonly (Conv2d Conv, BatchNorm2d Norm)[] _dec = new (Conv2d, BatchNorm2d)[4];
    private readonly Linear _encFc, _decFc, _mdn;
    private readonly Conv2d _toAb;

    public DivColor(LayerFactory nn, DivColorConfig config)
    {
        ArgumentNullException.ThrowIfNull(nn);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var c = config.Widths;
        foreach (var (name, stack, inputs) in new[] { ("grey", _grey, 1), ("enc", _enc, 2) })
            for (int i = 0; i < 4; i++)
                stack[i] = (RegisterModule($"{name}_conv{i + 1}", nn.Conv2d(i == 0 ? inputs : c[i - 1], c[i], 3, stride: 2, padding: 1)),
                            RegisterModule($"{name}_bn{i + 1}", nn.BatchNorm2d(c[i])));
        int side = config.Size / 16, flat = c[3] * side * side;
        _encFc = RegisterModule("enc_fc", new Linear(flat, 2 * config.Z, nn.Backend, nn.Rng));
        _decFc = RegisterModule("dec_fc", new Linear(config.Z, flat, nn.Backend, nn.Rng));
        int[] outs = [c[2], c[1], c[0], c[0]];
        for (int i = 0; i < 4; i++)
        {
            int inputs = (i == 0 ? c[3] : outs[i - 1]) + c[3 - i];
            _dec[i] = (RegisterModule($"dec_conv{i + 1}", nn.Conv2d(inputs, outs[i], 3, padding: 1)), RegisterModule($"dec_bn{i + 1}", nn.BatchNorm2d(outs[i])));
        }
        _toAb = RegisterModule("to_ab", nn.Conv2d(c[0], 2, 3, padding: 1));
        _mdn = RegisterModule("mdn", new Linear(flat, config.Components * (1 + config.Z), nn.Backend, nn.Rng));
    }

    public DivColorConfig Config { get; }

    /// <summary>
    /// Loads the entries of the state dict that <paramref name="part"/> selects, every one of them required (an
    /// ArgumentException names the missing); the others keep their values. Inference loads all but the encoder, a
    /// refit of the MDN all but its head.
    /// </summary>
    public void LoadPart(IReadOnlyDictionary<string, Tensor> state, Func<string, bool> part)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(part);
        var missing = StateDict().Keys.Where(k => part(k) && !state.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"missing {string.Join(", ", missing)}");
        LoadStateDict(state.Where(kv => part(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value), strict: false);
    }

    /// <summary>The VAE's parameters (grey encoder, encoder, decoder): the first training stage's.</summary>
    public IEnumerable<Tensor> VaeParameters()
    {
        var mixture = MixtureParameters().ToHashSet(ReferenceEqualityComparer.Instance);
        return Parameters().Where(p => !mixture.Contains(p));
    }

    /// <summary>
    /// Scales the MDN head's weights by <paramref name="scale"/> and zeroes its biases, so every component's mean starts
    /// near the origin of z, where the codes lie, and near the others with near-equal weights: the components then
    /// share the responsibilities and grow apart as the NLL trains them. From the default init their means lie far
    /// apart, one takes all the data and the rest never train (docs/colorizers.md).
    /// </summary>
    public void ShrinkMixtureHead(float scale)
    {
        _mdn.Weight.CopyFrom(_mdn.Weight.ToArray().Select(v => v * scale).ToArray());
        _mdn.Bias?.CopyFrom(new float[_mdn.Bias.Length]);
    }

    /// <summary>The MDN head's parameters: the second stage's, trained on the frozen grey features.</summary>
    public IEnumerable<Tensor> MixtureParameters() => _mdn.Parameters();

    /// <summary>The grey conditioning features at 1/2, 1/4, 1/8 and 1/16 of grey [N, 1, Size, Size].</summary>
    public Tensor[] GreyFeatures(Tensor grey) => Stack(_grey, Check(grey, 1, "grey"));

    /// <summary>The posterior's mean and log-variance [N, Z] of an ab field [N, 2, Size, Size] (ab / 110).</summary>
    public (Tensor Mu, Tensor LogVar) Encode(Tensor ab)
    {
        var features = Stack(_enc, Check(ab, 2, "ab"));
        var h = _encFc.Forward(F.Flatten(features[3]));
        return (F.Narrow(h, 1, 0, Config.Z), F.Narrow(h, 1, Config.Z, Config.Z));
    }

    /// <summary>ab / 110 [N, 2, Size, Size] (no squashing) from codes z [N, Z] and the grey features.</summary>
    public Tensor Decode(Tensor z, Tensor[] greyFeatures)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(greyFeatures);
        int n = z.Size(0), side = Config.Size / 16;
        var x = F.Reshape(_decFc.Forward(z), n, Config.Widths[3], side, side);
        for (int i = 0; i < 4; i++)
        {
            x = F.Cat([x, greyFeatures[3 - i]], dim: 1);
            x = F.Relu(_dec[i].Norm.Forward(_dec[i].Conv.Forward(x)));
            x = F.Interpolate(x, x.Size(2) * 2, x.Size(3) * 2, "nearest");
        }
        return _toAb.Forward(x);
    }

    /// <summary>The mixture over z from the grey features: weight logits [N, K] and means [N, K, Z].</summary>
    public (Tensor WeightLogits, Tensor Means) Mixture(Tensor[] greyFeatures)
    {
        ArgumentNullException.ThrowIfNull(greyFeatures);
        var h = _mdn.Forward(F.Flatten(greyFeatures[3]));
        int n = h.Size(0), k = Config.Components;
        return (F.Narrow(h, 1, 0, k), F.Reshape(F.Narrow(h, 1, k, k * Config.Z), n, k, Config.Z));
    }

    /// <summary>
    /// The <paramref name="count"/> most probable components of each sample's mixture, decoded: the weight logits
    /// [N x K, row-major], each sample's components by decreasing weight, and ab / 110 [count N, 2, S, S] with
    /// hypothesis r of sample n at row r N + n (rank-major, one decoder pass over all).
    /// </summary>
    public (float[] Logits, int[][] Ranks, Tensor Ab) DecodeMostProbable(Tensor[] greyFeatures, int count)
    {
        ArgumentNullException.ThrowIfNull(greyFeatures);
        int k = Config.Components, z = Config.Z;
        if (count < 1 || count > k) throw new ArgumentException($"divcolor: {count} hypotheses asked; this model draws 1 to {k}.");
        var (logits, means) = Mixture(greyFeatures);
        int n = logits.Size(0);
        var w = logits.ToArray();
        var m = means.ToArray();
        var ranks = new int[n][];
        var codes = new float[count * n * z];
        for (int f = 0; f < n; f++)
        {
            ranks[f] = Enumerable.Range(0, k).OrderByDescending(j => w[f * k + j]).ToArray();
            for (int r = 0; r < count; r++) Array.Copy(m, (f * k + ranks[f][r]) * z, codes, (r * n + f) * z, z);
        }
        var repeated = count == 1 ? greyFeatures : greyFeatures.Select(t => F.Cat(Enumerable.Repeat(t, count).ToArray(), dim: 0)).ToArray();
        return (w, ranks, Decode(Tensor.FromArray(codes, [count * n, z], logits.Backend), repeated));
    }

    private static Tensor[] Stack((Conv2d Conv, BatchNorm2d Norm)[] layers, Tensor x)
    {
        var features = new Tensor[4];
        for (int i = 0; i < 4; i++) x = features[i] = F.Relu(layers[i].Norm.Forward(layers[i].Conv.Forward(x)));
        return features;
    }

    private Tensor Check(Tensor x, int channels, string what)
    {
        ArgumentNullException.ThrowIfNull(x);
        int s = Config.Size;
        if (x.Rank != 4 || x.Size(1) != channels || x.Size(2) != s || x.Size(3) != s)
            throw new ArgumentException($"divcolor: {what} must be [N, {channels}, {s}, {s}], got {Tensor.Format(x.Shape)}.");
        return x;
    }
}
