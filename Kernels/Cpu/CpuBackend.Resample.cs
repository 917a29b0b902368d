using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ILGpuSat.Kernels.Cpu;

// Bilinear and nearest resizing over planes (N*C) of size H x W. Index and
// weight arithmetic is done in float exactly as PyTorch's CPU kernels do it, so sample positions
// match bit for bit. Forward passes split over output rows; backward passes of the resizes scatter
// into the input and so split over whole planes.
public sealed partial class CpuBackend
{
    public override void UpsampleBilinear(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y)
    {
        const string op = "upsample_bilinear";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 3.0 * outLen + 3.0 * planes * inH * outW, 4.0 * outLen + 4.0 * planes * inH * inW);
        CheckResample(op, x, y, planes, inH, inW, outH, outW);
        var ry = LinearTaps(inH, outH);
        var rx = LinearTaps(inW, outW);
        var xa = HostArray(x);
        var ya = HostArray(y);
        // Separable: each needed input row is interpolated along W once (a scalar gather), then
        // output rows are vector blends of two such rows. Same arithmetic as PyTorch's
        // h0*(w0*a + w1*b) + h1*(w0*c + w1*d).
        CpuParallel.For(Threads, planes, 4L * outH * outW, (p0, p1) =>
        {
            var rows = ArrayPool<float>.Shared.Rent(2 * outW);
            try
            {
                for (int p = p0; p < p1; p++)
                {
                    int cached0 = -1, cached1 = -1; // input rows held in rows[0..outW) and rows[outW..2outW)
                    for (int oh = 0; oh < outH; oh++)
                    {
                        int y0 = ry.I0[oh], y1 = ry.I1[oh];
                        int off0 = CachedRow(y0, y1, ref cached0, ref cached1, outW, out bool fill0);
                        if (fill0) HorizontalRow(xa, (p * inH + y0) * inW, rx, rows, off0, outW);
                        int off1 = CachedRow(y1, y0, ref cached0, ref cached1, outW, out bool fill1);
                        if (fill1) HorizontalRow(xa, (p * inH + y1) * inW, rx, rows, off1, outW);
                        BlendRows(rows, off0, off1, ry.L0[oh], ry.L1[oh], ya, (p * outH + oh) * outW, outW);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        });
    }

    public override void UpsampleBilinearBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx)
    {
        const string op = "upsample_bilinear_bwd";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 4.0 * outLen + 4.0 * planes * inH * outW, 4.0 * outLen + 4.0 * planes * inH * inW);
        CheckResample(op, dx, dy, planes, inH, inW, outH, outW);
        var ry = LinearTaps(inH, outH);
        var rx = LinearTaps(inW, outW);
        var cols = new TapRanges(rx.I0, rx.I1, inW);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        int inPlane = inH * inW, outPlane = outH * outW;
        // The adjoint of the separable forward: output rows are scattered (vector axpy) into
        // per-input-row accumulators of width outW, then each input column gathers its
        // contributions along W (a gather, so no read-modify-write chains through memory).
        CpuParallel.For(Threads, planes, 4L * outPlane, (p0, p1) =>
        {
            var acc = ArrayPool<float>.Shared.Rent(inH * outW);
            try
            {
                for (int p = p0; p < p1; p++)
                {
                    Array.Clear(acc, 0, inH * outW);
                    for (int oh = 0; oh < outH; oh++)
                    {
                        int src = p * outPlane + oh * outW;
                        AxpyRow(ry.L0[oh], da, src, acc, ry.I0[oh] * outW, outW);
                        AxpyRow(ry.L1[oh], da, src, acc, ry.I1[oh] * outW, outW);
                    }
                    for (int ih = 0; ih < inH; ih++)
                        HorizontalRowAdjoint(acc, ih * outW, rx, cols, ga, p * inPlane + ih * inW, inW);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(acc);
            }
        });
    }

    public override void UpsampleNearest(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y)
    {
        const string op = "upsample_nearest";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 0, 4.0 * outLen + 4.0 * planes * inH * inW);
        CheckResample(op, x, y, planes, inH, inW, outH, outW);
        var srcRow = NearestTaps(inH, outH);
        var srcCol = NearestTaps(inW, outW);
        var xa = HostArray(x);
        var ya = HostArray(y);
        CpuParallel.For(Threads, planes * outH, outW, (r0, r1) =>
        {
            ref float rx = ref SimdMath.At(xa);
            ref float ry = ref SimdMath.At(ya);
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH, o = r * outW;
                // An output row with the same source row as the previous one is a plain copy.
                if (r > r0 && oh > 0 && srcRow[oh] == srcRow[oh - 1])
                {
                    ya.AsSpan(o - outW, outW).CopyTo(ya.AsSpan(o, outW));
                    continue;
                }
                int row = (p * inH + srcRow[oh]) * inW;
                for (int ow = 0; ow < outW; ow++) Unsafe.Add(ref ry, o + ow) = Unsafe.Add(ref rx, row + srcCol[ow]);
            }
        });
    }

    public override void UpsampleNearestBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx)
    {
        const string op = "upsample_nearest_bwd";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, outLen, 4.0 * outLen + 4.0 * planes * inH * inW);
        CheckResample(op, dx, dy, planes, inH, inW, outH, outW);
        var srcRow = NearestTaps(inH, outH);
        var srcCol = NearestTaps(inW, outW);
        var cols = new TapRanges(srcCol, srcCol, inW);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        int inPlane = inH * inW, outPlane = outH * outW;
        // Rows first (vector adds of the output rows that share a source row), then each input
        // column of the summed row gathers its range of outputs.
        CpuParallel.For(Threads, planes, outPlane, (p0, p1) =>
        {
            var acc = ArrayPool<float>.Shared.Rent(outW);
            try
            {
                for (int p = p0; p < p1; p++)
                {
                    ga.AsSpan(p * inPlane, inPlane).Clear();
                    int oh = 0;
                    while (oh < outH)
                    {
                        int ih = srcRow[oh];
                        Array.Copy(da, p * outPlane + oh * outW, acc, 0, outW);
                        for (oh++; oh < outH && srcRow[oh] == ih; oh++) AxpyRow(1f, da, p * outPlane + oh * outW, acc, 0, outW);
                        int row = p * inPlane + ih * inW;
                        for (int iw = 0; iw < inW; iw++)
                        {
                            // The outputs reading input column iw form one range: a gather, no read-modify-write chain.
                            float sum = 0;
                            for (int ow = cols.Start0[iw]; ow < cols.End0[iw]; ow++) sum += acc[ow];
                            ga[row + iw] = sum;
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(acc);
            }
        });
    }

    /// <summary>
    /// Offset in the two-row cache of input row <paramref name="row"/>; when it is not cached it
    /// takes the slot not holding <paramref name="keep"/> and <paramref name="fill"/> is set.
    /// </summary>
    private static int CachedRow(int row, int keep, ref int cached0, ref int cached1, int width, out bool fill)
    {
        fill = false;
        if (cached0 == row) return 0;
        if (cached1 == row) return width;
        fill = true;
        if (cached0 != keep)
        {
            cached0 = row;
            return 0;
        }
        cached1 = row;
        return width;
    }

    /// <summary>dst[o + ow] = w0*x[row + c0] + w1*x[row + c1] for every output column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void HorizontalRow(float[] x, int row, Taps t, float[] dst, int o, int outW)
    {
        ref float rx = ref Unsafe.Add(ref SimdMath.At(x), row);
        ref float rd = ref Unsafe.Add(ref SimdMath.At(dst), o);
        ref int i0 = ref MemoryMarshal.GetArrayDataReference(t.I0);
        ref int i1 = ref MemoryMarshal.GetArrayDataReference(t.I1);
        ref float l0 = ref SimdMath.At(t.L0);
        ref float l1 = ref SimdMath.At(t.L1);
        for (int ow = 0; ow < outW; ow++)
            Unsafe.Add(ref rd, ow) = Unsafe.Add(ref l0, ow) * Unsafe.Add(ref rx, Unsafe.Add(ref i0, ow))
                                   + Unsafe.Add(ref l1, ow) * Unsafe.Add(ref rx, Unsafe.Add(ref i1, ow));
    }

    /// <summary>
    /// dx[row + i] = sum of w0*src[o + ow] over the outputs whose first tap is i, plus w1*src[o + ow]
    /// over those whose second tap is i: the adjoint of HorizontalRow, written as a gather.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void HorizontalRowAdjoint(float[] src, int o, Taps t, TapRanges r, float[] dx, int row, int inW)
    {
        ref float rs = ref Unsafe.Add(ref SimdMath.At(src), o);
        ref float l0 = ref SimdMath.At(t.L0);
        ref float l1 = ref SimdMath.At(t.L1);
        for (int i = 0; i < inW; i++)
        {
            float sum = 0;
            for (int ow = r.Start0[i]; ow < r.End0[i]; ow++) sum += Unsafe.Add(ref l0, ow) * Unsafe.Add(ref rs, ow);
            for (int ow = r.Start1[i]; ow < r.End1[i]; ow++) sum += Unsafe.Add(ref l1, ow) * Unsafe.Add(ref rs, ow);
            dx[row + i] = sum;
        }
    }

    /// <summary>y[o..o+n) = h0 * rows[a..] + h1 * rows[b..].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void BlendRows(float[] rows, int a, int b, float h0, float h1, float[] y, int o, int n)
    {
        ref float rr = ref SimdMath.At(rows);
        ref float ry = ref SimdMath.At(y);
        var v0 = Vector512.Create(h0);
        var v1 = Vector512.Create(h1);
        int i = 0;
        for (; i <= n - SimdMath.W; i += SimdMath.W)
            SimdMath.Store(v0 * SimdMath.Load(ref rr, a + i) + v1 * SimdMath.Load(ref rr, b + i), ref ry, o + i);
        for (; i < n; i++) Unsafe.Add(ref ry, o + i) = h0 * Unsafe.Add(ref rr, a + i) + h1 * Unsafe.Add(ref rr, b + i);
    }

    /// <summary>dst[d..d+n) += alpha * src[s..s+n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void AxpyRow(float alpha, float[] src, int s, float[] dst, int d, int n)
    {
        ref float rs = ref SimdMath.At(src);
        ref float rd = ref SimdMath.At(dst);
        var va = Vector512.Create(alpha);
        int i = 0;
        for (; i <= n - SimdMath.W; i += SimdMath.W)
            SimdMath.Store(Vector512.FusedMultiplyAdd(va, SimdMath.Load(ref rs, s + i), SimdMath.Load(ref rd, d + i)), ref rd, d + i);
        for (; i < n; i++) Unsafe.Add(ref rd, d + i) += alpha * Unsafe.Add(ref rs, s + i);
    }

    /// <summary>Source rows/columns and weights of a linear resize along one axis.</summary>
    private sealed class Taps(int n)
    {
        public readonly int[] I0 = new int[n], I1 = new int[n];
        public readonly float[] L0 = new float[n], L1 = new float[n];
    }

    /// <summary>
    /// For each input index i, the output ranges [Start0, End0) whose first tap is i and
    /// [Start1, End1) whose second tap is i. Tap indices never decrease along the output (linear
    /// and nearest resizes are monotone), so each set of outputs is one contiguous range.
    /// </summary>
    private sealed class TapRanges
    {
        public readonly int[] Start0, End0, Start1, End1;

        public TapRanges(int[] first, int[] second, int inSize)
        {
            Start0 = new int[inSize];
            End0 = new int[inSize];
            Start1 = new int[inSize];
            End1 = new int[inSize];
            Fill(first, Start0, End0);
            Fill(second, Start1, End1);
        }

        private static void Fill(int[] taps, int[] start, int[] end)
        {
            for (int o = 0; o < taps.Length; o++)
            {
                int i = taps[o];
                if (o == 0 || taps[o - 1] != i) start[i] = o;
                end[i] = o + 1;
            }
        }
    }

    /// <summary>PyTorch's compute_source_index_and_lambda for align_corners=false.</summary>
    private static Taps LinearTaps(int inSize, int outSize)
    {
        var t = new Taps(outSize);
        float scale = (float)inSize / outSize;
        for (int o = 0; o < outSize; o++)
        {
            if (inSize == outSize)
            {
                t.I0[o] = t.I1[o] = o;
                t.L0[o] = 1;
                continue;
            }
            float src = scale * (o + 0.5f) - 0.5f;
            if (src < 0) src = 0;
            int i0 = Math.Min((int)MathF.Floor(src), inSize - 1);
            float l1 = Math.Clamp(src - i0, 0f, 1f);
            t.I0[o] = i0;
            t.I1[o] = i0 + (i0 < inSize - 1 ? 1 : 0);
            t.L1[o] = l1;
            t.L0[o] = 1f - l1;
        }
        return t;
    }

    /// <summary>PyTorch's nearest_idx: identity, exact 2x, else min(floor(o * in/out), in-1) in float.</summary>
    private static int[] NearestTaps(int inSize, int outSize)
    {
        var idx = new int[outSize];
        float scale = (float)inSize / outSize;
        for (int o = 0; o < outSize; o++)
        {
            idx[o] = outSize == inSize ? o
                : outSize == 2 * inSize ? o >> 1
                : Math.Min((int)MathF.Floor(o * scale), inSize - 1);
        }
        return idx;
    }

    private static void CheckResample(string op, DeviceBuffer input, DeviceBuffer output, int planes, int inH, int inW, int outH, int outW)
    {
        if (planes <= 0 || inH <= 0 || inW <= 0 || outH <= 0 || outW <= 0)
            throw new ArgumentException($"{op}: sizes must be positive, got planes={planes} in {inH}x{inW} out {outH}x{outW}.");
        CheckLength(op, "input", input, (long)planes * inH * inW);
        CheckLength(op, "output", output, (long)planes * outH * outW);
    }
}
