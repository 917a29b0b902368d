using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Training.Data;

/// <summary>
/// One batch for DeepSUM, frames-major and at HR size: the standardised bicubic x Scale of each scene's looks
/// [B, T, 1, H, W] (frame 0 the clearest, then by clear pixels), their quality maps nearest-upsampled [B, T, 1, H, W]
/// (1 = clear), the HR images [B, H*W] and status maps, and each look's true shift relative to frame 0 in HR pixels
/// (for RegNet's pretraining) in the same frame order.
/// </summary>
public sealed record MisrBatch(float[] Frames, float[] Masks, float[] HighRes, bool[] Status, (double Dx, double Dy)[][] ShiftsToReference,
                               int Count, int FrameCount, int Side)
{
    public int[] FramesShape => [Count, FrameCount, 1, Side, Side];
}

/// <summary>
/// Simulated DeepSUM batches from real HR grey imagery (<see cref="MisrSimulator"/>): each scene a random crop of a
/// source image (its luminance), simulated with a seed derived from (seed, batch, index), so a batch index always
/// gives the same batch. Held-out scenes for evaluation come from a disjoint list of source files
/// (<see cref="Split"/>): scenes of one source image never appear on both sides.
/// </summary>
public sealed class MisrBatches
{
    private readonly IReadOnlyList<(float[] Grey, int Width, int Height)> _sources;
    private readonly MisrSimulatorOptions _options;
    private readonly int _seed;
    private readonly float _mean, _std;

    public MisrBatches(IReadOnlyList<string> files, MisrSimulatorOptions options, int seed, float mean, float std)
    {
        ArgumentNullException.ThrowIfNull(files);
        options.Validate();
        _options = options;
        _seed = seed;
        _mean = mean;
        _std = std;
        int need = options.HrSize + 2 * MisrSimulator.MarginFor(options);
        var sources = new List<(float[], int, int)>();
        foreach (var file in files)
        {
            var image = ImageReader.Read(file);
            if (image.Width < need || image.Height < need) continue;
            sources.Add((Grey(image), image.Width, image.Height));
        }
        if (sources.Count == 0)
            throw new InvalidOperationException($"MisrBatches: none of {files.Count} source images is at least {need}x{need} pixels (HR {options.HrSize} plus the simulator's margin).");
        _sources = sources;
    }

    public int Sources => _sources.Count;

    /// <summary>
    /// Splits source files into training and held-out lists by a hash of the file name (about <paramref name="heldOut"/>
    /// of them held out), so the split does not depend on which other files are present.
    /// </summary>
    public static (List<string> Training, List<string> HeldOut) Split(IEnumerable<string> files, double heldOut = 0.1)
    {
        var train = new List<string>();
        var test = new List<string>();
        foreach (var f in files.Order(StringComparer.Ordinal))
        {
            uint h = 2166136261;
            foreach (char c in Path.GetFileName(f)) h = (h ^ c) * 16777619;
            (h % 1000 < heldOut * 1000 ? test : train).Add(f);
        }
        return (train, test);
    }

    /// <summary>Scene <paramref name="index"/> of batch <paramref name="batch"/>: a crop of a source picked from the seed.</summary>
    public SimulatedScene Scene(long batch, int index)
    {
        var rng = new Random(Seeds.Derive(_seed, "misr-crop", batch, index));
        var (grey, w, h) = _sources[rng.Next(_sources.Count)];
        int side = _options.HrSize + 2 * MisrSimulator.MarginFor(_options);
        int x0 = rng.Next(w - side + 1), y0 = rng.Next(h - side + 1);
        var crop = new float[side * side];
        for (int y = 0; y < side; y++) Array.Copy(grey, (y0 + y) * w + x0, crop, y * side, side);
        return MisrSimulator.Simulate(crop, side, side, _options, Seeds.Derive(_seed, "misr-scene", batch, index), $"b{batch}s{index}");
    }

    /// <summary>Batch <paramref name="batch"/>: its <paramref name="size"/> scenes, simulated and stacked.</summary>
    public MisrBatch Batch(long batch, int size) => BatchOf(Enumerable.Range(0, size).Select(i => Scene(batch, i)).ToList());

    /// <summary>Simulated scenes stacked into a batch: looks clearest first (<see cref="ProbaVScene.ClearestOrder"/>), standardised.</summary>
    public MisrBatch BatchOf(IReadOnlyList<SimulatedScene> scenes)
    {
        int size = scenes.Count, t = _options.Frames, side = _options.HrSize, lr = _options.LrSize, s = _options.Scale, hw = side * side;
        var frames = new float[(long)size * t * hw];
        var masks = new float[frames.Length];
        var hr = new float[size * hw];
        var status = new bool[size * hw];
        var shifts = new (double, double)[size][];
        for (int i = 0; i < size; i++)
        {
            var sim = scenes[i];
            var scene = sim.Scene;
            var order = scene.ClearestOrder();
            var (rx, ry) = sim.Shifts[order[0]];
            shifts[i] = order.Select(k => ((sim.Shifts[k].Dx - rx) * s, (sim.Shifts[k].Dy - ry) * s)).ToArray();
            LookStack.Write(order.Select(k => scene.Frames[k]).ToList(), lr, lr, s, _mean, _std, frames, masks, (long)i * t * hw);
            for (int p = 0; p < hw; p++) hr[i * hw + p] = (scene.HighRes![p] - _mean) / _std;
            scene.Status!.CopyTo(status, i * hw);
        }
        return new MisrBatch(frames, masks, hr, status, shifts, size, t, side);
    }

    /// <summary>
    /// The tap (row, col) of a K x K registration filter that moves a frame shifted by (dx, dy) HR pixels from the
    /// reference back onto it, or null when the rounded shift falls outside the filter. A frame's content at x is the
    /// reference's at x + shift, and a delta at centre + d makes the cross-correlation read x + d: d = -round(shift).
    /// </summary>
    public static (int Row, int Col)? RegistrationTap(double dx, double dy, int k)
    {
        int c = k / 2, col = c - (int)Math.Round(dx), row = c - (int)Math.Round(dy);
        return col < 0 || col >= k || row < 0 || row >= k ? null : (row, col);
    }

    // Luminance of a colour image (BT.601), or the single band of a grey one.
    private static float[] Grey(RasterImage image)
    {
        if (image.Bands < 3) return image.Planes[0];
        var (r, g, b) = (image.Planes[0], image.Planes[1], image.Planes[2]);
        var y = new float[r.Length];
        for (int i = 0; i < y.Length; i++) y[i] = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
        return y;
    }
}
