using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// Rows of one image's im2col matrix (row r = (c, kh, kw), column p = output pixel), gathered on
/// demand and never materialised whole: a full im2col of a 64-channel 96x96 image is 21 MB, far
/// beyond cache, so the kernels gather only the block they are about to use.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>dst[i] = col[row, p0 + i] for i in [0, count).</summary>
    public static void GatherRow(float* image, in ConvShape s, int row, int p0, int count, float* dst)
    {
        int c = row / s.Taps, t = row - c * s.Taps, kh = t / s.KW, kw = t - kh * s.KW;
        float* plane = image + (long)c * s.InputPlane;
        int oh = p0 / s.OW, ow = p0 - oh * s.OW;
        int dh = kh * s.DH - s.PH, dw = kw * s.DW - s.PW;
        while (count > 0)
        {
            int run = Math.Min(count, s.OW - ow);
            int ih = oh * s.SH + dh;
            if ((uint)ih >= (uint)s.H) Clear(dst, run);
            else CopyRun(plane + (long)ih * s.W, s.W, s.SW, ow, dw, run, dst);
            dst += run;
            count -= run;
            ow = 0;
            oh++;
        }
    }

    /// <summary>
    /// The same row cut into NR-wide packed-B panels: column j (relative to p0) goes to
    /// dst[(j / nr) * panelStride + j % nr]; a last partial panel is zero-filled to nr.
    /// </summary>
    public static void GatherRowToPanels(float* image, in ConvShape s, int row, int p0, int count, float* dst, int nr, long panelStride)
    {
        int c = row / s.Taps, t = row - c * s.Taps, kh = t / s.KW, kw = t - kh * s.KW;
        float* plane = image + (long)c * s.InputPlane;
        int oh = p0 / s.OW, ow = p0 - oh * s.OW;
        int dh = kh * s.DH - s.PH, dw = kw * s.DW - s.PW;
        for (int j = 0; j < count; j += nr, dst += panelStride)
        {
            int left = Math.Min(nr, count - j);
            float* d = dst;
            while (left > 0)
            {
                int run = Math.Min(left, s.OW - ow);
                int ih = oh * s.SH + dh;
                if ((uint)ih >= (uint)s.H) Clear(d, run);
                else CopyRun(plane + (long)ih * s.W, s.W, s.SW, ow, dw, run, d);
                d += run;
                left -= run;
                ow += run;
                if (ow == s.OW) { ow = 0; oh++; }
            }
            if (count - j < nr) Clear(d, nr - (count - j));
        }
    }

    /// <summary>image[input pixel of (row, p0 + i)] += src[i] for i in [0, count): col2im of one row segment.</summary>
    public static void ScatterAddRow(float* image, in ConvShape s, int row, int p0, int count, float* src)
    {
        int c = row / s.Taps, t = row - c * s.Taps, kh = t / s.KW, kw = t - kh * s.KW;
        float* plane = image + (long)c * s.InputPlane;
        int oh = p0 / s.OW, ow = p0 - oh * s.OW;
        int dh = kh * s.DH - s.PH, dw = kw * s.DW - s.PW;
        while (count > 0)
        {
            int run = Math.Min(count, s.OW - ow);
            int ih = oh * s.SH + dh;
            if ((uint)ih < (uint)s.H) AddRun(plane + (long)ih * s.W, s.W, s.SW, ow, dw, run, src);
            src += run;
            count -= run;
            ow = 0;
            oh++;
        }
    }

    /// <summary>dst[r] = line[(ow + r) * sw + dw] where that lies inside [0, w), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun(float* line, int w, int sw, int ow, int dw, int run, float* dst)
    {
        if (sw == 1)
        {
            // Valid r: 0 <= ow + r + dw < w.
            int lo = Math.Clamp(-dw - ow, 0, run), hi = Math.Clamp(w - dw - ow, lo, run);
            if (lo > 0) Clear(dst, lo);
            Copy(line + ow + dw + lo, dst + lo, hi - lo);
            if (hi < run) Clear(dst + hi, run - hi);
            return;
        }
        int r0 = 0;
        if (sw == 2 && Vector512.IsHardwareAccelerated)
        {
            // Stride 2 (downsampling convs): 16 outputs from two loads and one even-lane permute,
            // while the 32 floats read stay inside the row.
            int iw0 = ow * 2 + dw;
            for (; r0 < run && iw0 + 2 * r0 < 0; r0++) dst[r0] = 0f;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; r0 + 16 <= run && iw0 + 2 * r0 + 32 <= w; r0 += 16)
            {
                float* src = line + iw0 + 2 * r0;
                Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(src), even, Vector512.Load(src + 16)), dst + r0);
            }
        }
        else if (sw == 2 && Avx2.IsSupported)
        {
            // The same with AVX2: shufps takes the even lanes of both loads within each 128-bit
            // half (a0 a2 b0 b2 | a4 a6 b4 b6), vpermpd puts the 64-bit pairs back in order.
            int iw0 = ow * 2 + dw;
            for (; r0 < run && iw0 + 2 * r0 < 0; r0++) dst[r0] = 0f;
            for (; r0 + 8 <= run && iw0 + 2 * r0 + 16 <= w; r0 += 8)
            {
                float* src = line + iw0 + 2 * r0;
                var evens = Avx.Shuffle(Vector256.Load(src), Vector256.Load(src + 8), 0b10_00_10_00);
                Vector256.Store(Avx2.Permute4x64(evens.AsDouble(), 0b11_01_10_00).AsSingle(), dst + r0);
            }
        }
        for (int r = r0, iw = (ow + r0) * sw + dw; r < run; r++, iw += sw)
            dst[r] = (uint)iw < (uint)w ? line[iw] : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRun(float* line, int w, int sw, int ow, int dw, int run, float* src)
    {
        if (sw == 1)
        {
            int lo = Math.Clamp(-dw - ow, 0, run), hi = Math.Clamp(w - dw - ow, lo, run);
            Add(src + lo, line + ow + dw + lo, hi - lo);
            return;
        }
        for (int r = 0, iw = ow * sw + dw; r < run; r++, iw += sw)
            if ((uint)iw < (uint)w) line[iw] += src[r];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] = src[i];
    }

    /// <summary>dst[i] = src[i] + add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyPlus(float* src, float add, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (var v = Vector512.Create(add); i <= n - 16; i += 16) Vector512.Store(Vector512.Load(src + i) + v, dst + i);
        for (var v = Vector256.Create(add); i <= n - 8; i += 8) Vector256.Store(Vector256.Load(src + i) + v, dst + i);
        for (; i < n; i++) dst[i] = src[i] + add;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512<float>.Zero, dst + i);
        for (; i <= n - 8; i += 8) Vector256.Store(Vector256<float>.Zero, dst + i);
        for (; i < n; i++) dst[i] = 0f;
    }

    /// <summary>dst[i] += src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
        for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }
}

/// <summary>
/// Packed-B source for the forward GEMM: the im2col matrix of one image from output pixel
/// <paramref name="pixel0"/> on, gathered block by block straight into packed panels.
/// </summary>
internal readonly unsafe struct ConvColumnsB(float* image, ConvShape shape, int pixel0) : Gemm.IPackB
{
    public void Pack(float* dst, int k0, int kc, int j0, int nc, int nr)
    {
        for (int p = 0; p < kc; p++)
            Im2Col.GatherRowToPanels(image, shape, k0 + p, pixel0 + j0, nc, dst + p * nr, nr, (long)kc * nr);
    }
}
