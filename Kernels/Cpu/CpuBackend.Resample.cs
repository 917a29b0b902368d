using System.Runtime.CompilerServices;

namespace ILGpuSat.Kernels.Cpu;

// Bilinear and nearest resizing and 2x2 max-pool over planes (N*C) of size H x W. Index and
// weight arithmetic is done in float exactly as PyTorch's CPU kernels do it, so sample positions
// match bit for bit. Forward passes split over output rows; backward passes of the resizes scatter
// into the input and so split over whole planes.
public sealed partial class CpuBackend
{
    public override void UpsampleBilinear(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y)
    {
        const string op = "upsample_bilinear";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 11.0 * outLen, 4.0 * outLen + 4.0 * planes * inH * inW);
        CheckResample(op, x, y, planes, inH, inW, outH, outW);
        var ry = LinearTaps(inH, outH);
        var rx = LinearTaps(inW, outW);
        var xa = HostArray(x);
        var ya = HostArray(y);
        CpuParallel.For(Threads, planes * outH, 4L * outW, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH;
                int row0 = (p * inH + ry.I0[oh]) * inW, row1 = (p * inH + ry.I1[oh]) * inW;
                float h0 = ry.L0[oh], h1 = ry.L1[oh];
                int o = r * outW;
                for (int ow = 0; ow < outW; ow++)
                {
                    int c0 = rx.I0[ow], c1 = rx.I1[ow];
                    float w0 = rx.L0[ow], w1 = rx.L1[ow];
                    ya[o + ow] = h0 * (w0 * xa[row0 + c0] + w1 * xa[row0 + c1])
                               + h1 * (w0 * xa[row1 + c0] + w1 * xa[row1 + c1]);
                }
            }
        });
    }

    public override void UpsampleBilinearBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx)
    {
        const string op = "upsample_bilinear_bwd";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 12.0 * outLen, 4.0 * outLen + 8.0 * planes * inH * inW);
        CheckResample(op, dx, dy, planes, inH, inW, outH, outW);
        var ry = LinearTaps(inH, outH);
        var rx = LinearTaps(inW, outW);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        int inPlane = inH * inW, outPlane = outH * outW;
        CpuParallel.For(Threads, planes, 4L * outPlane, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                ga.AsSpan(p * inPlane, inPlane).Clear();
                for (int oh = 0; oh < outH; oh++)
                {
                    int row0 = p * inPlane + ry.I0[oh] * inW, row1 = p * inPlane + ry.I1[oh] * inW;
                    float h0 = ry.L0[oh], h1 = ry.L1[oh];
                    int o = p * outPlane + oh * outW;
                    for (int ow = 0; ow < outW; ow++)
                    {
                        float d = da[o + ow];
                        int c0 = rx.I0[ow], c1 = rx.I1[ow];
                        float w0 = rx.L0[ow], w1 = rx.L1[ow];
                        ga[row0 + c0] += h0 * w0 * d;
                        ga[row0 + c1] += h0 * w1 * d;
                        ga[row1 + c0] += h1 * w0 * d;
                        ga[row1 + c1] += h1 * w1 * d;
                    }
                }
            }
        });
    }

    public override void UpsampleNearest(DeviceBuffer x, int planes, int inH, int inW, int outH, int outW, DeviceBuffer y)
    {
        const string op = "upsample_nearest";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 0, 8.0 * outLen);
        CheckResample(op, x, y, planes, inH, inW, outH, outW);
        var srcRow = NearestTaps(inH, outH);
        var srcCol = NearestTaps(inW, outW);
        var xa = HostArray(x);
        var ya = HostArray(y);
        CpuParallel.For(Threads, planes * outH, outW, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH;
                int row = (p * inH + srcRow[oh]) * inW, o = r * outW;
                for (int ow = 0; ow < outW; ow++) ya[o + ow] = xa[row + srcCol[ow]];
            }
        });
    }

    public override void UpsampleNearestBackward(DeviceBuffer dy, int planes, int inH, int inW, int outH, int outW, DeviceBuffer dx)
    {
        const string op = "upsample_nearest_bwd";
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, outLen, 4.0 * outLen + 8.0 * planes * inH * inW);
        CheckResample(op, dx, dy, planes, inH, inW, outH, outW);
        var srcRow = NearestTaps(inH, outH);
        var srcCol = NearestTaps(inW, outW);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        int inPlane = inH * inW, outPlane = outH * outW;
        CpuParallel.For(Threads, planes, outPlane, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                ga.AsSpan(p * inPlane, inPlane).Clear();
                for (int oh = 0; oh < outH; oh++)
                {
                    int row = p * inPlane + srcRow[oh] * inW, o = p * outPlane + oh * outW;
                    for (int ow = 0; ow < outW; ow++) ga[row + srcCol[ow]] += da[o + ow];
                }
            }
        });
    }

    public override void MaxPool2x2(DeviceBuffer x, int planes, int inH, int inW, DeviceBuffer y)
    {
        const string op = "max_pool2x2";
        int outH = inH / 2, outW = inW / 2;
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 3.0 * outLen, 20.0 * outLen);
        CheckPool(op, x, y, planes, inH, inW);
        var xa = HostArray(x);
        var ya = HostArray(y);
        CpuParallel.For(Threads, planes * outH, 4L * outW, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH;
                int top = (p * inH + 2 * oh) * inW, o = r * outW;
                for (int ow = 0; ow < outW; ow++)
                {
                    int i = top + 2 * ow;
                    ya[o + ow] = Max4(xa[i], xa[i + 1], xa[i + inW], xa[i + inW + 1]);
                }
            }
        });
    }

    public override void MaxPool2x2Backward(DeviceBuffer x, DeviceBuffer dy, int planes, int inH, int inW, DeviceBuffer dx)
    {
        const string op = "max_pool2x2_bwd";
        int outH = inH / 2, outW = inW / 2;
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 3.0 * outLen, 8.0 * planes * inH * inW + 4.0 * outLen);
        CheckPool(op, x, dy, planes, inH, inW);
        CheckLength(op, "dx", dx, (long)planes * inH * inW);
        var xa = HostArray(x);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        CpuParallel.For(Threads, planes * outH, 8L * outW, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH;
                int top = (p * inH + 2 * oh) * inW, o = r * outW;
                ga.AsSpan(top, 2 * inW).Clear();
                for (int ow = 0; ow < outW; ow++)
                {
                    int i = top + 2 * ow;
                    ga[i + ArgMax4(xa[i], xa[i + 1], xa[i + inW], xa[i + inW + 1], inW)] = da[o + ow];
                }
                // An odd last row is outside every window.
                if (oh == outH - 1 && (inH & 1) == 1) ga.AsSpan(top + 2 * inW, inW).Clear();
            }
        });
    }

    /// <summary>Max of a 2x2 window in row-major order; a NaN wins, as in PyTorch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max4(float a, float b, float c, float d)
    {
        float m = a;
        if (b > m || float.IsNaN(b)) m = b;
        if (c > m || float.IsNaN(c)) m = c;
        if (d > m || float.IsNaN(d)) m = d;
        return m;
    }

    /// <summary>Offset of the first maximum of a 2x2 window (0, 1, rowStride, rowStride+1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ArgMax4(float a, float b, float c, float d, int rowStride)
    {
        float m = a;
        int k = 0;
        if (b > m || float.IsNaN(b)) { m = b; k = 1; }
        if (c > m || float.IsNaN(c)) { m = c; k = rowStride; }
        if (d > m || float.IsNaN(d)) k = rowStride + 1;
        return k;
    }

    /// <summary>Source rows/columns and weights of a linear resize along one axis.</summary>
    private sealed class Taps(int n)
    {
        public readonly int[] I0 = new int[n], I1 = new int[n];
        public readonly float[] L0 = new float[n], L1 = new float[n];
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

    private static void CheckPool(string op, DeviceBuffer x, DeviceBuffer y, int planes, int inH, int inW)
    {
        if (planes <= 0 || inH < 2 || inW < 2)
            throw new ArgumentException($"{op}: needs planes > 0 and an input of at least 2x2, got planes={planes} {inH}x{inW}.");
        CheckLength(op, "x", x, (long)planes * inH * inW);
        CheckLength(op, "y/dy", y, (long)planes * (inH / 2) * (inW / 2));
    }
}
