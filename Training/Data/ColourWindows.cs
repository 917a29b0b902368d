using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Training.Data;

/// <summary>A batch of colorization windows: grey [N, 1, S, S] and its colour target [N, 3, S, S], sRGB in [0, 1].</summary>
public sealed record ColourBatch(float[] Grey, float[] Rgb, int Count, int Side);

/// <summary>
/// Random square windows for the colorizers, from colour images (grey = L* / 100, the lightness the fused SAR targets
/// also carry) or from pairs of a grey image and its colour target paired by file name (SAR and its Lab fusion: grey =
/// band 1 at full range). Window k of batch b comes from seeds derived from (seed, b, k): a file, a position and one
/// of the 8 dihedral maps, so a step always sees the same batch and a resumed run continues exactly. Decoded images
/// are cached (at most <see cref="CacheImages"/>).
/// </summary>
public sealed class ColourWindows
{
    public const int CacheImages = 48;

    private readonly IReadOnlyList<(string? Grey, string Colour)> _files;
    private readonly int _side, _seed;
    private readonly RecentColourPairs<ColourPair> _images;

    public ColourWindows(IReadOnlyList<(string? Grey, string Colour)> files, int side, int seed)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("colour windows: no image.");
        if (side < 2) throw new ArgumentException($"colour windows: side must be at least 2, got {side}.");
        _files = files;
        _side = side;
        _seed = seed;
        _images = new RecentColourPairs<ColourPair>(CacheImages, (file, pair) => pair.Width >= side && pair.Height >= side ? pair
            : throw new ImageFormatException(file.Colour, $"is {pair.Width}x{pair.Height}, smaller than the {side}-pixel window"));
    }

    public int Count => _files.Count;

    /// <summary>Colour files (and, with a grey folder, their grey partners by file name), split by name into training and held-out.</summary>
    public static (List<(string? Grey, string Colour)> Training, List<(string? Grey, string Colour)> HeldOut) Files(
        IReadOnlyList<string> colour, string? greyFolder, double heldOut, IReadOnlyList<string>? heldOutNames = null)
    {
        var files = ImageCatalog.ListImageFiles(colour);
        if (files.Count == 0) throw new ArgumentException($"colour windows: no image in {string.Join(", ", colour)}.");
        List<string> train, test;
        if (heldOutNames is null) (train, test) = MisrBatches.Split(files, heldOut);
        else
        {
            var names = heldOutNames.ToHashSet(StringComparer.Ordinal);
            var missing = names.Where(n => !files.Any(f => Path.GetFileName(f) == n)).ToList();
            if (missing.Count > 0) throw new ArgumentException($"colour windows: heldOutNames {string.Join(", ", missing)} are not among the images.");
            test = files.Where(f => names.Contains(Path.GetFileName(f))).ToList();
            train = files.Where(f => !names.Contains(Path.GetFileName(f))).ToList();
            if (train.Count == 0) throw new ArgumentException("colour windows: heldOutNames hold out every image.");
        }
        (string?, string) Pair(string c)
        {
            if (greyFolder is null) return (null, c);
            string g = Path.Combine(greyFolder, Path.GetFileName(c));
            if (!File.Exists(g)) throw new FileNotFoundException($"'{g}': no grey image pairs with the colour target {c}.", g);
            return (g, c);
        }
        return (train.Select(Pair).ToList(), test.Select(Pair).ToList());
    }

    public ColourBatch Batch(long index, int count)
    {
        int s = _side, ss = s * s;
        var grey = new float[count * ss];
        var rgb = new float[count * 3 * ss];
        var window = new float[ss];
        for (int k = 0; k < count; k++)
        {
            var rng = new Random(Seeds.Derive(_seed, "colour-window", index, k));
            var (g, c, w, h) = _images.Get(_files[rng.Next(_files.Count)]);
            int x0 = rng.Next(w - s + 1), y0 = rng.Next(h - s + 1), map = rng.Next(Dihedral.Count);
            for (int plane = 0; plane < 4; plane++)
            {
                var source = plane == 0 ? g : c[plane - 1];
                for (int y = 0; y < s; y++) Array.Copy(source, (y0 + y) * w + x0, window, y * s, s);
                var target = plane == 0 ? grey.AsSpan(k * ss, ss) : rgb.AsSpan((k * 3 + plane - 1) * ss, ss);
                Dihedral.Apply(window, target, s, map);
            }
        }
        return new ColourBatch(grey, rgb, count, s);
    }
}
