using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Training.Data;

/// <summary>
/// A batch of divcolor fields: grey [N, 1, S, S] in [0, 1], the ab field [N, 2, S, S] as a*b* / 110, and the colour
/// rebalancing weight of each field pixel's ab bin, repeated over both channels [N, 2, S, S].
/// </summary>
public sealed record ColourFieldBatch(float[] Grey, float[] Ab, float[] Weights, int Count, int Side);

/// <summary>
/// divcolor's training fields (Deshpande et al. 2017 colour "at low resolution"): a square crop of a whole number f of
/// field sides (f from <see cref="MinFactor"/> up to what the image holds, so the model sees footprints from a few
/// hundred pixels to the whole image, which is what inference shrinks; a smaller image gives its largest such crop), shrunk by area averaging to S x S, under one
/// of the 8 dihedral maps. Colour images give grey = L* / 100; with a grey folder, grey is band 1 of the partner image
/// (SAR with its fused target, whose L* is 100 sigma0). The ab of the target is taken at full resolution and then
/// averaged. Field k of batch b comes from seeds derived from (seed, b, k), so a step always sees the same batch.
/// </summary>
public sealed class ColourFields
{
    public const int CacheImages = 48;
    public const float AbScale = 1f / 110f;

    private readonly IReadOnlyList<(string? Grey, string Colour)> _files;
    private readonly int _side, _seed, _minFactor;
    private readonly float[] _binWeights;
    private readonly AbBins _bins = AbBins.Default;
    private readonly RecentColourPairs<(float[] Grey, float[] A, float[] B, int W, int H)> _images = new(CacheImages, (_, pair) => AbOf(pair));

    /// <param name="binWeights">The 313 rebalancing weights of Zhang's ab bins (<see cref="ColorPrior.RebalancingWeights"/>).</param>
    public ColourFields(IReadOnlyList<(string? Grey, string Colour)> files, int side, int minFactor, IReadOnlyList<float> binWeights, int seed)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(binWeights);
        if (files.Count == 0) throw new ArgumentException("colour fields: no image.");
        if (side < 2) throw new ArgumentException($"colour fields: side must be at least 2, got {side}.");
        if (minFactor < 1) throw new ArgumentException($"colour fields: the least footprint factor must be at least 1, got {minFactor}.");
        if (binWeights.Count != AbBins.Count) throw new ArgumentException($"colour fields: {binWeights.Count} rebalancing weights, not {AbBins.Count}.");
        _files = files;
        _side = side;
        _minFactor = minFactor;
        _binWeights = binWeights.ToArray();
        _seed = seed;
    }

    public int MinFactor => _minFactor;

    public ColourFieldBatch Batch(long index, int count)
    {
        int s = _side, ss = s * s;
        var grey = new float[count * ss];
        var ab = new float[count * 2 * ss];
        var weights = new float[count * 2 * ss];
        var bins = new int[ss];
        for (int k = 0; k < count; k++)
        {
            var rng = new Random(Seeds.Derive(_seed, "colour-field", index, k));
            var file = _files[rng.Next(_files.Count)];
            var (g, a, b, w, h) = _images.Get(file);
            int most = Math.Min(w, h) / s;
            if (most < 1) throw new ImageFormatException(file.Colour, $"is {w}x{h}: smaller than the {s}-pixel field");
            // An image smaller than the least footprint gives its largest whole-factor crop.
            int f = rng.Next(Math.Min(_minFactor, most), most + 1), crop = f * s;
            int x0 = rng.Next(w - crop + 1), y0 = rng.Next(h - crop + 1), map = rng.Next(Dihedral.Count);
            var fieldGrey = Field(g, w, x0, y0, crop);
            var fieldA = Field(a, w, x0, y0, crop);
            var fieldB = Field(b, w, x0, y0, crop);
            Dihedral.Apply(fieldGrey, grey.AsSpan(k * ss, ss), s, map);
            var ta = ab.AsSpan(2 * k * ss, ss);
            var tb = ab.AsSpan((2 * k + 1) * ss, ss);
            Dihedral.Apply(fieldA, ta, s, map);
            Dihedral.Apply(fieldB, tb, s, map);
            _bins.Nearest(ta, tb, bins);
            for (int i = 0; i < ss; i++)
            {
                weights[2 * k * ss + i] = weights[(2 * k + 1) * ss + i] = _binWeights[bins[i]];
                ta[i] *= AbScale;
                tb[i] *= AbScale;
            }
        }
        return new ColourFieldBatch(grey, ab, weights, count, s);
    }

    private float[] Field(float[] plane, int width, int x0, int y0, int crop)
    {
        var window = new float[crop * crop];
        for (int y = 0; y < crop; y++) Array.Copy(plane, (y0 + y) * width + x0, window, y * crop, crop);
        return crop == _side ? window : AreaAverage.Shrink(window, crop, crop, _side, _side);
    }

    /// <summary>The pair's grey and its target's a*, b* planes at full resolution.</summary>
    private static (float[] Grey, float[] A, float[] B, int W, int H) AbOf(ColourPair pair)
    {
        int n = pair.Width * pair.Height;
        var (l, a, b) = (new float[n], new float[n], new float[n]);
        Lab.RgbToLab(pair.Rgb[0], pair.Rgb[1], pair.Rgb[2], l, a, b);
        return (pair.Grey, a, b, pair.Width, pair.Height);
    }
}
