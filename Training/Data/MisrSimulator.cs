using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Training.Data;

/// <summary>
/// Settings of <see cref="MisrSimulator"/>; the defaults and why they are realistic are in docs/misr.md.
/// Shifts are in LR pixels; intensities in [0, 1].
/// </summary>
public sealed record MisrSimulatorOptions
{
    /// <summary>HR side over LR side: 3 as PROBA-V (100 m / 300 m), 4 as the rest of the project.</summary>
    public int Scale { get; init; } = 3;

    /// <summary>Side of each look in LR pixels (PROBA-V: 128; DeepSUM trains on 32 x 32 crops).</summary>
    public int LrSize { get; init; } = 32;

    /// <summary>Looks per scene (the archive has at least 9, 19 on average).</summary>
    public int Frames { get; init; } = 9;

    /// <summary>Each look's shift is uniform in [-MaxShift, MaxShift] LR pixels on each axis (look 0 included).</summary>
    public double MaxShift { get; init; } = 1.0;

    /// <summary>Optics PSF: Gaussian sigma in HR pixels, applied before the detector's box integration over Scale x Scale.</summary>
    public double BlurSigma { get; init; } = 0.8;

    /// <summary>Sensor noise: Gaussian standard deviation.</summary>
    public double Noise { get; init; } = 0.003;

    /// <summary>Per-look radiometric change between revisits: gain uniform in [1 - GainSpread, 1 + GainSpread].</summary>
    public double GainSpread { get; init; } = 0.08;

    /// <summary>Per-look offset uniform in [-OffsetSpread, OffsetSpread].</summary>
    public double OffsetSpread { get; init; } = 0.03;

    /// <summary>Share of looks with clouds; a cloudy look covers uniform [0, MaxCloudCover] of its pixels.</summary>
    public double CloudyFraction { get; init; } = 0.6;

    public double MaxCloudCover { get; init; } = 0.5;

    /// <summary>Share of looks with a missing swath (a band of rows or columns with no data).</summary>
    public double MissingFraction { get; init; } = 0.1;

    /// <summary>Cloud cover of the HR image's status map, uniform in [0, this] (the archive's HRs are mostly clear).</summary>
    public double MaxHrCloudCover { get; init; } = 0.1;

    public int HrSize => LrSize * Scale;

    public void Validate()
    {
        static void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"MisrSimulatorOptions: {what}");
        }
        Check(Scale >= 1, $"Scale must be at least 1, got {Scale}.");
        Check(LrSize >= 4, $"LrSize must be at least 4, got {LrSize}.");
        Check(Frames >= 1, $"Frames must be at least 1, got {Frames}.");
        Check(MaxShift >= 0 && MaxShift <= 4, $"MaxShift must lie in [0, 4] LR pixels, got {MaxShift}.");
        Check(BlurSigma >= 0 && Noise >= 0 && GainSpread is >= 0 and < 1 && OffsetSpread >= 0, "BlurSigma, Noise, GainSpread (< 1) and OffsetSpread must be >= 0.");
        Check(CloudyFraction is >= 0 and <= 1 && MaxCloudCover is >= 0 and < 1 && MissingFraction is >= 0 and <= 1 && MaxHrCloudCover is >= 0 and < 1,
              "the cloud and missing fractions must lie in [0, 1] (covers below 1).");
    }
}

/// <summary>A simulated scene and what made it: each look's true shift (LR pixels, x then y), gain and offset.</summary>
public sealed record SimulatedScene(ProbaVScene Scene, IReadOnlyList<(double Dx, double Dy)> Shifts, IReadOnlyList<(double Gain, double Offset)> Radiometry);

/// <summary>
/// Multi-temporal looks of one scene from one real HR grey image, for training and evaluating multi-image SR where the
/// PROBA-V archive is not at hand. Each look: the HR image shifted by a known sub-pixel amount (bicubic interpolation),
/// blurred by the optics (Gaussian), integrated by the detector (box average over Scale x Scale) and sampled, then a
/// per-look gain and offset, Gaussian noise, and clouds (bright, smooth-edged blobs from thresholded low-pass noise) and
/// missing swaths, both marked in the look's quality map. The HR is the centred crop of the source, unshifted, with a few
/// clouds of its own in its status map. Everything follows from (seed, name): a scene is the same on every run.
/// Look k's content at LR pixel (x, y) is the source at HR (x + Dx, y + Dy) x Scale, so a positive Dx moves the
/// content left.
/// </summary>
public static class MisrSimulator
{
    private const float CloudBrightness = 0.85f;

    /// <summary>
    /// Simulates a scene from the centre of <paramref name="source"/> (width x height, [0, 1]), which must hold the HR
    /// crop plus a margin for the shifts and the blur.
    /// </summary>
    public static SimulatedScene Simulate(float[] source, int width, int height, MisrSimulatorOptions options, int seed, string name)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int s = options.Scale, hrSide = options.HrSize, lr = options.LrSize;
        int margin = MarginFor(options);
        if (source.Length != (long)width * height) throw new ArgumentException($"MisrSimulator {name}: source holds {source.Length} pixels, not {width}x{height}.");
        if (width < hrSide + 2 * margin || height < hrSide + 2 * margin)
            throw new ArgumentException($"MisrSimulator {name}: a {width}x{height} source is smaller than the {hrSide}-pixel HR crop plus a {margin}-pixel margin on each side.");
        var rng = new Random(Seeds.Derive(seed, "misr-scene:" + name));
        int x0 = (width - hrSide) / 2, y0 = (height - hrSide) / 2;

        var frames = new List<ProbaVFrame>();
        var shifts = new List<(double, double)>();
        var radiometry = new List<(double, double)>();
        int work = hrSide + 2 * margin;
        for (int k = 0; k < options.Frames; k++)
        {
            double dx = Uniform(rng, -options.MaxShift, options.MaxShift), dy = Uniform(rng, -options.MaxShift, options.MaxShift);
            // Shifted window of the source (with margin), blurred, then box-integrated over each LR pixel's footprint.
            var window = new float[work * work];
            for (int y = 0; y < work; y++)
                for (int x = 0; x < work; x++)
                    window[y * work + x] = Resampler.SampleBicubic(source, width, height, x0 - margin + x + dx * s, y0 - margin + y + dy * s);
            var blurred = GaussianBlur(window, work, work, options.BlurSigma);
            var look = new float[lr * lr];
            float inv = 1f / (s * s);
            for (int y = 0; y < lr; y++)
                for (int x = 0; x < lr; x++)
                {
                    float sum = 0;
                    for (int j = 0; j < s; j++)
                        for (int i = 0; i < s; i++) sum += blurred[(margin + y * s + j) * work + margin + x * s + i];
                    look[y * lr + x] = sum * inv;
                }
            double gain = 1 + Uniform(rng, -options.GainSpread, options.GainSpread), offset = Uniform(rng, -options.OffsetSpread, options.OffsetSpread);
            for (int i = 0; i < look.Length; i++) look[i] = (float)(gain * look[i] + offset + options.Noise * Gaussian(rng));
            var clear = Enumerable.Repeat(true, lr * lr).ToArray();
            if (rng.NextDouble() < options.CloudyFraction) AddClouds(look, clear, lr, Uniform(rng, 0, options.MaxCloudCover), rng);
            if (rng.NextDouble() < options.MissingFraction) AddMissingSwath(look, clear, lr, rng);
            for (int i = 0; i < look.Length; i++) look[i] = Math.Clamp(look[i], 0f, 1f);
            frames.Add(new ProbaVFrame($"LR{k:D3}", look, clear));
            shifts.Add((dx, dy));
            radiometry.Add((gain, offset));
        }

        var hr = new float[hrSide * hrSide];
        for (int y = 0; y < hrSide; y++) Array.Copy(source, (y0 + y) * width + x0, hr, y * hrSide, hrSide);
        var status = Enumerable.Repeat(true, hr.Length).ToArray();
        AddClouds(hr, status, hrSide, Uniform(rng, 0, options.MaxHrCloudCover), rng);
        return new SimulatedScene(ProbaVScene.Create(name, lr, lr, frames, hr, status, s), shifts, radiometry);
    }

    /// <summary>Source pixels needed around the HR crop: the largest shift, the blur's reach and the bicubic taps.</summary>
    public static int MarginFor(MisrSimulatorOptions options) =>
        (int)Math.Ceiling(options.MaxShift * options.Scale + 3 * options.BlurSigma) + 3;

    private static double Uniform(Random rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();

    private static double Gaussian(Random rng)
    {
        double u = 1 - rng.NextDouble(), v = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    private static float[] GaussianBlur(float[] src, int w, int h, double sigma)
    {
        if (sigma <= 0) return src;
        var blurred = GaussianFilter.Blur(Array.ConvertAll(src, v => (double)v), w, h, GaussianFilter.Kernel(sigma, (int)Math.Ceiling(3 * sigma)));
        return Array.ConvertAll(blurred, v => (float)v);
    }

    // Clouds: white noise on a coarse grid, bicubic-upsampled into smooth blobs, thresholded at the quantile that
    // covers `cover` of the pixels; cloudy pixels turn bright (a cloud's top) with a soft transition into the ground.
    private static void AddClouds(float[] image, bool[] clear, int side, double cover, Random rng)
    {
        if (cover <= 0) return;
        int coarse = Math.Max(2, side / 8);
        var noise = new float[coarse * coarse];
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)rng.NextDouble();
        var field = Resampler.Resize(noise, coarse, coarse, side, side, ResampleKernel.Bicubic, antialias: false);
        var sorted = (float[])field.Clone();
        Array.Sort(sorted);
        float threshold = sorted[Math.Clamp((int)((1 - cover) * sorted.Length), 0, sorted.Length - 1)];
        float spread = Math.Max(1e-6f, (sorted[^1] - threshold) * 0.3f);
        for (int i = 0; i < image.Length; i++)
        {
            if (field[i] < threshold) continue;
            float opacity = Math.Min(1f, (field[i] - threshold) / spread);
            image[i] = (1 - opacity) * image[i] + opacity * CloudBrightness;
            clear[i] = false;
        }
    }

    // A band of rows or columns with no data (the swath's edge): zero and not clear.
    private static void AddMissingSwath(float[] image, bool[] clear, int side, Random rng)
    {
        int width = 1 + rng.Next(Math.Max(1, side / 4));
        bool rows = rng.Next(2) == 0, fromStart = rng.Next(2) == 0;
        for (int a = 0; a < width; a++)
        {
            int line = fromStart ? a : side - 1 - a;
            for (int b = 0; b < side; b++)
            {
                int i = rows ? line * side + b : b * side + line;
                image[i] = 0;
                clear[i] = false;
            }
        }
    }
}
