using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Training.Data;

/// <summary>One training patch before augmentation (all planes row-major).</summary>
public sealed class PatchRecord
{
    /// <summary>LR input: L* of the bicubic down-4-up-4 RGB patch, normalised (see <see cref="PatchMaker.NormaliseL"/>), size x size.</summary>
    public required float[] Input { get; init; }

    /// <summary>SR target: L* of the HR patch, same normalisation, size x size.</summary>
    public required float[] SrTarget { get; init; }

    /// <summary>a* of the patch at 1/scale resolution (from the bicubic-downscaled RGB).</summary>
    public required float[] A { get; init; }

    /// <summary>b* at 1/scale resolution.</summary>
    public required float[] B { get; init; }

    /// <summary>The LR L* itself (normalised), size/scale on a side; only when <see cref="PatchExtras.LowResolutionInput"/> was asked for.</summary>
    public float[]? LowInput { get; init; }

    /// <summary>a* then b* of the HR patch times the a*b* scale, size x size each; only when <see cref="PatchExtras.AbTarget"/> was asked for.</summary>
    public float[]? AbTarget { get; init; }

    public required string File { get; init; }

    public int X { get; init; }

    public int Y { get; init; }
}

/// <summary>What a patch carries besides the bicubic-twice input, the SR target and the a*b* colour target
/// (models that read the LR image itself or regress a*b* need these; nobody else pays for them).</summary>
[Flags]
public enum PatchExtras
{
    None = 0,

    /// <summary>The LR L* at size/scale (the input of networks with <c>NetworkInput.LowResolution</c>).</summary>
    LowResolutionInput = 1,

    /// <summary>The HR a*b* at size x size, scaled by the a*b* scale (the target of a*b* regression).</summary>
    AbTarget = 2,
}

/// <summary>
/// Turns an RGB image region into a <see cref="PatchRecord"/>: HR RGB crop -&gt; bicubic down by the
/// scale (clamped to [0, 1], as a stored 8-bit LR image would be) -&gt; bicubic back up (clamped) -&gt;
/// L* = network input; L* of the crop = SR target; Lab of the downscaled RGB -&gt; the a*b* colour
/// target at 1/scale resolution. Everything per patch, so a patch depends on nothing outside it.
/// </summary>
public sealed class PatchMaker
{
    private readonly PatchResampler _resampler;

    private readonly PatchExtras _extras;
    private readonly float _abScale;

    /// <param name="abScale">multiplies the HR a*b* of <see cref="PatchExtras.AbTarget"/> (the network's LabNormalization.AbScale)</param>
    public PatchMaker(PatchResampler resampler, PatchExtras extras = PatchExtras.None, float abScale = 1f / 110f)
    {
        _resampler = resampler ?? throw new ArgumentNullException(nameof(resampler));
        if (!(abScale > 0) || !float.IsFinite(abScale)) throw new ArgumentOutOfRangeException(nameof(abScale), $"PatchMaker: the a*b* scale must be positive and finite, got {abScale}.");
        _extras = extras;
        _abScale = abScale;
    }

    public PatchExtras Extras => _extras;

    public int Size => _resampler.Size;

    public int LowSize => _resampler.LowSize;

    /// <summary>Network normalisation of L* (0..100 -&gt; -0.5..0.5), used for the input and the SR target.</summary>
    public static float NormaliseL(float l) => l * 0.01f - 0.5f;

    /// <summary>Inverse of <see cref="NormaliseL"/>.</summary>
    public static float DenormaliseL(float x) => (x + 0.5f) * 100f;

    /// <summary>The patch whose top-left corner is (x0, y0) in an RGB image (three planes 0..1).</summary>
    public PatchRecord Make(IReadOnlyList<float[]> rgb, int width, int height, int x0, int y0, string file)
    {
        int p = Size, t = LowSize;
        if (rgb.Count != 3) throw new ArgumentException($"PatchMaker: {file}: expected 3 colour planes, got {rgb.Count}.");
        if (x0 < 0 || y0 < 0 || x0 + p > width || y0 + p > height)
            throw new ArgumentException($"PatchMaker: {file}: patch {p}x{p} at ({x0}, {y0}) is outside the {width}x{height} image.");

        var hr = new float[3 * p * p];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < p; y++)
                rgb[c].AsSpan((y0 + y) * width + x0, p).CopyTo(hr.AsSpan(c * p * p + y * p, p));

        var low = new float[3 * t * t];
        var up = new float[3 * p * p];
        for (int c = 0; c < 3; c++)
        {
            var lowC = low.AsSpan(c * t * t, t * t);
            _resampler.Down(hr.AsSpan(c * p * p, p * p), lowC);
            Clamp01(lowC);
            var upC = up.AsSpan(c * p * p, p * p);
            _resampler.Up(lowC, upC);
            Clamp01(upC);
        }

        var input = new float[p * p];
        var target = new float[p * p];
        Lab.RgbToL(up.AsSpan(0, p * p), up.AsSpan(p * p, p * p), up.AsSpan(2 * p * p, p * p), input);
        Lab.RgbToL(hr.AsSpan(0, p * p), hr.AsSpan(p * p, p * p), hr.AsSpan(2 * p * p, p * p), target);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = NormaliseL(input[i]);
            target[i] = NormaliseL(target[i]);
        }

        var l = new float[t * t];
        var a = new float[t * t];
        var b = new float[t * t];
        Lab.RgbToLab(low.AsSpan(0, t * t), low.AsSpan(t * t, t * t), low.AsSpan(2 * t * t, t * t), l, a, b);

        float[]? lowInput = null, abTarget = null;
        if (_extras.HasFlag(PatchExtras.LowResolutionInput))
        {
            lowInput = l;
            for (int i = 0; i < lowInput.Length; i++) lowInput[i] = NormaliseL(lowInput[i]);
        }
        if (_extras.HasFlag(PatchExtras.AbTarget))
        {
            abTarget = new float[2 * p * p];
            var hrL = new float[p * p];
            Lab.RgbToLab(hr.AsSpan(0, p * p), hr.AsSpan(p * p, p * p), hr.AsSpan(2 * p * p, p * p), hrL,
                         abTarget.AsSpan(0, p * p), abTarget.AsSpan(p * p, p * p));
            for (int i = 0; i < abTarget.Length; i++) abTarget[i] *= _abScale;
        }
        return new PatchRecord { Input = input, SrTarget = target, A = a, B = b, LowInput = lowInput, AbTarget = abTarget, File = file, X = x0, Y = y0 };
    }

    private static void Clamp01(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = Math.Clamp(x[i], 0f, 1f);
    }
}
