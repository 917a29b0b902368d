using System.Numerics;
using System.Runtime.CompilerServices;

namespace ILGpuSat.Imaging.Color;

/// <summary>
/// sRGB (IEC 61966-2-1, D65) &lt;-&gt; CIE L*a*b* with exactly the constants and branches of
/// scikit-image 0.19's rgb2lab / lab2rgb (easyrgb matrix, 0.008856 / 7.787 knee, Z clipped at 0
/// and RGB clipped to [0, 1] on the way back), so data made here matches data made in Python.
/// Works on planar float planes (one span per channel), SIMD with <see cref="Vector{T}"/>;
/// the array overloads split big images over threads.
/// </summary>
public static class Lab
{
    // Reference white D65, 2 degree observer (skimage get_xyz_coords("D65", "2")).
    private const double WhiteX = 0.95047, WhiteY = 1.0, WhiteZ = 1.08883;

    // skimage xyz_from_rgb and its inverse rgb_from_xyz (numpy linalg.inv), full precision.
    private const double M00 = 0.412453, M01 = 0.357580, M02 = 0.180423;
    private const double M10 = 0.212671, M11 = 0.715160, M12 = 0.072169;
    private const double M20 = 0.019334, M21 = 0.119193, M22 = 0.950227;
    private const float I00 = 3.2404813432005266f, I01 = -1.5371515162713183f, I02 = -0.4985363261688878f;
    private const float I10 = -0.9692549499965682f, I11 = 1.8759900014898907f, I12 = 0.04155592655829284f;
    private const float I20 = 0.055646639135177166f, I21 = -0.20404133836651123f, I22 = 1.0573110696453443f;

    /// <summary>Below this many pixels the array overloads stay on the calling thread.</summary>
    public const int ParallelThreshold = 1 << 16;

    private static readonly int W = Vector<float>.Count;

    /// <summary>sRGB in [0, 1] to L* in [0, 100], a*, b* (skimage rgb2lab). Spans are planes of equal length.</summary>
    public static void RgbToLab(ReadOnlySpan<float> r, ReadOnlySpan<float> g, ReadOnlySpan<float> b,
                                Span<float> l, Span<float> aOut, Span<float> bOut)
    {
        int n = CheckLengths(r.Length, g.Length, b.Length, l.Length, aOut.Length, bOut.Length, nameof(RgbToLab));
        int i = 0;
        for (; i + W <= n; i += W)
        {
            RgbToLabVector(Load(r, i), Load(g, i), Load(b, i), out var vl, out var va, out var vb);
            vl.CopyTo(l[i..]); va.CopyTo(aOut[i..]); vb.CopyTo(bOut[i..]);
        }
        if (i < n)
        {
            // Tail through the same vector code (padded), so every pixel follows one code path.
            RgbToLabVector(LoadTail(r, i), LoadTail(g, i), LoadTail(b, i), out var vl, out var va, out var vb);
            StoreTail(vl, l, i); StoreTail(va, aOut, i); StoreTail(vb, bOut, i);
        }
    }

    /// <summary>L* / 100 (0..1) of sRGB planes: the grey the colorizers read (and the fused SAR targets' sigma0).</summary>
    public static float[] UnitLightness(float[] r, float[] g, float[] b)
    {
        var l = new float[r.Length];
        RgbToL(r, g, b, l);
        for (int i = 0; i < l.Length; i++) l[i] /= 100f;
        return l;
    }

    /// <summary>Only L* of sRGB (the network input and SR target): skips the X and Z work.</summary>
    public static void RgbToL(ReadOnlySpan<float> r, ReadOnlySpan<float> g, ReadOnlySpan<float> b, Span<float> l)
    {
        int n = CheckLengths(r.Length, g.Length, b.Length, l.Length, l.Length, l.Length, nameof(RgbToL));
        int i = 0;
        for (; i + W <= n; i += W)
            LVector(Load(r, i), Load(g, i), Load(b, i)).CopyTo(l[i..]);
        if (i < n)
            StoreTail(LVector(LoadTail(r, i), LoadTail(g, i), LoadTail(b, i)), l, i);
    }

    /// <summary>L*a*b* to sRGB clipped to [0, 1] (skimage lab2rgb, including Z &lt; 0 set to 0).</summary>
    public static void LabToRgb(ReadOnlySpan<float> l, ReadOnlySpan<float> a, ReadOnlySpan<float> b,
                                Span<float> rOut, Span<float> gOut, Span<float> bOut)
    {
        int n = CheckLengths(l.Length, a.Length, b.Length, rOut.Length, gOut.Length, bOut.Length, nameof(LabToRgb));
        int i = 0;
        for (; i + W <= n; i += W)
        {
            LabToRgbVector(Load(l, i), Load(a, i), Load(b, i), out var vr, out var vg, out var vb);
            vr.CopyTo(rOut[i..]); vg.CopyTo(gOut[i..]); vb.CopyTo(bOut[i..]);
        }
        if (i < n)
        {
            LabToRgbVector(LoadTail(l, i), LoadTail(a, i), LoadTail(b, i), out var vr, out var vg, out var vb);
            StoreTail(vr, rOut, i); StoreTail(vg, gOut, i); StoreTail(vb, bOut, i);
        }
    }

    /// <summary>Planar [3, pixels] RGB to planar [3, pixels] Lab, multithreaded for big images.</summary>
    public static void RgbToLab(float[] rgbPlanar, float[] labPlanar, int pixels) =>
        RunPlanar(rgbPlanar, labPlanar, pixels, nameof(RgbToLab), static (src, dst, n, s, e) =>
            RgbToLab(src.AsSpan(s, e - s), src.AsSpan(n + s, e - s), src.AsSpan(2 * n + s, e - s),
                     dst.AsSpan(s, e - s), dst.AsSpan(n + s, e - s), dst.AsSpan(2 * n + s, e - s)));

    /// <summary>Planar [3, pixels] Lab to planar [3, pixels] RGB in [0, 1], multithreaded for big images.</summary>
    public static void LabToRgb(float[] labPlanar, float[] rgbPlanar, int pixels) =>
        RunPlanar(labPlanar, rgbPlanar, pixels, nameof(LabToRgb), static (src, dst, n, s, e) =>
            LabToRgb(src.AsSpan(s, e - s), src.AsSpan(n + s, e - s), src.AsSpan(2 * n + s, e - s),
                     dst.AsSpan(s, e - s), dst.AsSpan(n + s, e - s), dst.AsSpan(2 * n + s, e - s)));

    private static void RunPlanar(float[] src, float[] dst, int pixels, string op, Action<float[], float[], int, int, int> body)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        if (pixels < 0 || src.Length < 3L * pixels || dst.Length < 3L * pixels)
            throw new ArgumentException($"Lab.{op}: planar buffers need 3 x {pixels} floats, got {src.Length} and {dst.Length}.");
        if (pixels < ParallelThreshold)
        {
            body(src, dst, pixels, 0, pixels);
            return;
        }
        // Chunks are multiples of the vector width so only the last one has a tail.
        int chunks = Math.Min(Environment.ProcessorCount * 4, (pixels + ParallelThreshold / 4 - 1) / (ParallelThreshold / 4));
        int per = (pixels / chunks + W - 1) / W * W;
        Parallel.For(0, chunks, c =>
        {
            int s = c * per, e = Math.Min(pixels, s + per);
            if (s < e) body(src, dst, pixels, s, e);
        });
    }

    // Forward direction: a* = 500 (f(X) - f(Y)) amplifies float rounding of f (ulp 1.2e-7 near 1)
    // to ~6e-5, too close to the 1e-4 budget against skimage's float64. So the powers are guessed
    // in float (8 lanes of exp/log) and polished by one Newton step in double, which squares the
    // guess's ~3e-7 relative error away; the matrix and the differences run in double.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RgbToLabVector(Vector<float> r, Vector<float> g, Vector<float> b,
                                       out Vector<float> l, out Vector<float> a, out Vector<float> bb)
    {
        SrgbToLinear(r, out var r0, out var r1);
        SrgbToLinear(g, out var g0, out var g1);
        SrgbToLinear(b, out var b0, out var b1);
        LabF((r0 * M00 + g0 * M01 + b0 * M02) * (1.0 / WhiteX), (r1 * M00 + g1 * M01 + b1 * M02) * (1.0 / WhiteX), out var x0, out var x1);
        LabF((r0 * M10 + g0 * M11 + b0 * M12) * (1.0 / WhiteY), (r1 * M10 + g1 * M11 + b1 * M12) * (1.0 / WhiteY), out var y0, out var y1);
        LabF((r0 * M20 + g0 * M21 + b0 * M22) * (1.0 / WhiteZ), (r1 * M20 + g1 * M21 + b1 * M22) * (1.0 / WhiteZ), out var z0, out var z1);
        var sixteen = new Vector<double>(16.0);
        l = Vector.Narrow(y0 * 116.0 - sixteen, y1 * 116.0 - sixteen);
        a = Vector.Narrow((x0 - y0) * 500.0, (x1 - y1) * 500.0);
        bb = Vector.Narrow((y0 - z0) * 200.0, (y1 - z1) * 200.0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LVector(Vector<float> r, Vector<float> g, Vector<float> b)
    {
        SrgbToLinear(r, out var r0, out var r1);
        SrgbToLinear(g, out var g0, out var g1);
        SrgbToLinear(b, out var b0, out var b1);
        LabF((r0 * M10 + g0 * M11 + b0 * M12) * (1.0 / WhiteY), (r1 * M10 + g1 * M11 + b1 * M12) * (1.0 / WhiteY), out var y0, out var y1);
        var sixteen = new Vector<double>(16.0);
        return Vector.Narrow(y0 * 116.0 - sixteen, y1 * 116.0 - sixteen);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LabToRgbVector(Vector<float> l, Vector<float> a, Vector<float> b,
                                       out Vector<float> r, out Vector<float> g, out Vector<float> bb)
    {
        var y = (l + new Vector<float>(16f)) * (1f / 116f);
        var x = a * (1f / 500f) + y;
        var z = Vector.Max(y - b * (1f / 200f), Vector<float>.Zero); // skimage: Z < 0 -> 0
        x = LabFInverse(x) * (float)WhiteX; y = LabFInverse(y) * (float)WhiteY; z = LabFInverse(z) * (float)WhiteZ;
        r = LinearToSrgb(x * I00 + y * I01 + z * I02);
        g = LinearToSrgb(x * I10 + y * I11 + z * I12);
        bb = LinearToSrgb(x * I20 + y * I21 + z * I22);
    }

    // sRGB decompanding (skimage rgb2xyz): x^2.4 with x = (c + 0.055) / 1.055 above 0.04045,
    // c / 12.92 below; returned as two double halves. Newton on y^5 = x^12 refines the float guess.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SrgbToLinear(Vector<float> c, out Vector<double> lo, out Vector<double> hi)
    {
        var guess = Vector.Exp(Vector.Log((c + new Vector<float>(0.055f)) * (1f / 1.055f)) * 2.4f);
        Vector.Widen(c, out var c0, out var c1);
        Vector.Widen(guess, out var g0, out var g1);
        lo = RefinePow24(c0, g0);
        hi = RefinePow24(c1, g1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> RefinePow24(Vector<double> c, Vector<double> y)
    {
        var x = (c + new Vector<double>(0.055)) * (1.0 / 1.055);
        var x2 = x * x;
        var x4 = x2 * x2;
        var y2 = y * y;
        var y4 = y2 * y2;
        var refined = y - (y4 * y - x4 * x4 * x4) / (y4 * 5.0);
        return Vector.ConditionalSelect(Vector.GreaterThan(c, new Vector<double>(0.04045)), refined, c * (1.0 / 12.92));
    }

    // Companding plus skimage's final clip to [0, 1] (xyz2rgb).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LinearToSrgb(Vector<float> c)
    {
        var hi = Pow(c, 1f / 2.4f) * 1.055f - new Vector<float>(0.055f);
        var v = Vector.ConditionalSelect(Vector.GreaterThan(c, new Vector<float>(0.0031308f)), hi, c * 12.92f);
        return Vector.Min(Vector.Max(v, Vector<float>.Zero), Vector<float>.One);
    }

    // f(t) = cbrt(t) above 0.008856, 7.787 t + 16/116 below (skimage xyz2lab), on two double
    // halves; the cube root is a float guess refined by one Newton step in double.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LabF(Vector<double> t0, Vector<double> t1, out Vector<double> f0, out Vector<double> f1)
    {
        var guess = Vector.Exp(Vector.Log(Vector.Narrow(t0, t1)) * (1f / 3f));
        Vector.Widen(guess, out var g0, out var g1);
        f0 = RefineCbrt(t0, g0);
        f1 = RefineCbrt(t1, g1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> RefineCbrt(Vector<double> t, Vector<double> g)
    {
        var g2 = g * g;
        var refined = g - (g2 * g - t) / (g2 * 3.0);
        return Vector.ConditionalSelect(Vector.GreaterThan(t, new Vector<double>(0.008856)), refined,
                                        t * 7.787 + new Vector<double>(16.0 / 116.0));
    }

    // Inverse with skimage's own knee 0.2068966 (lab2xyz).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LabFInverse(Vector<float> t) =>
        Vector.ConditionalSelect(Vector.GreaterThan(t, new Vector<float>(0.2068966f)), t * t * t,
                                 (t - new Vector<float>(16f / 116f)) * (1f / 7.787f));

    // x^p for x > 0; lanes with x <= 0 give garbage that the callers' ConditionalSelect discards.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Pow(Vector<float> x, float p) => Vector.Exp(Vector.Log(x) * p);


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ReadOnlySpan<float> s, int i) => new(s[i..]);

    private static Vector<float> LoadTail(ReadOnlySpan<float> s, int i)
    {
        Span<float> tmp = stackalloc float[W];
        tmp.Clear();
        s[i..].CopyTo(tmp);
        return new Vector<float>(tmp);
    }

    private static void StoreTail(Vector<float> v, Span<float> dst, int i)
    {
        Span<float> tmp = stackalloc float[W];
        v.CopyTo(tmp);
        tmp[..(dst.Length - i)].CopyTo(dst[i..]);
    }

    private static int CheckLengths(int a, int b, int c, int d, int e, int f, string op)
    {
        if (a != b || a != c || a != d || a != e || a != f)
            throw new ArgumentException($"Lab.{op}: all planes must have the same length, got {a}, {b}, {c} -> {d}, {e}, {f}.");
        return a;
    }
}
