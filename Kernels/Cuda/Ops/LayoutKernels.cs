using ILGPU;
using ILGPU.Runtime;

namespace ILGpuSat.Kernels.Cuda.Ops;

/// <summary>
/// Channel copy, resampling and pooling. Backward passes are written as gathers (one thread per input
/// element summing the outputs that read it) rather than scatters with atomics: deterministic, and no
/// zero-fill pass is needed.
/// </summary>
internal static class LayoutKernels
{
    /// <summary>dst[n, dstOffset + c, p] = src[n, srcOffset + c, p] for c &lt; count; total = n * count * hw.</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void CopyChannels(Index1D index, int total, int stride, ArrayView<float> src, int srcChannels, int srcOffset,
        ArrayView<float> dst, int dstChannels, int dstOffset, int count, int hw)
    {
        for (int i = index; i < total; i += stride)
        {
            int p = i % hw;
            int t = i / hw;
            int c = t % count;
            int n = t / count;
            dst[(n * dstChannels + dstOffset + c) * hw + p] = src[(n * srcChannels + srcOffset + c) * hw + p];
        }
    }

    /// <summary>PyTorch's source index for align_corners=false: max(0, (dst + 0.5) * scale - 0.5).</summary>
    private static float SourceIndex(int dst, float scale) => MathF.Max((dst + 0.5f) * scale - 0.5f, 0f);

    /// <summary>
    /// The two input indices output <paramref name="o"/> interpolates between (the second clamped to the
    /// edge) and the weight of the second: the one definition the forward and its gather backward share.
    /// </summary>
    private static float BilinearTaps(int o, int inSize, float scale, out int i0, out int i1)
    {
        float s = SourceIndex(o, scale);
        i0 = (int)s;
        i1 = i0 < inSize - 1 ? i0 + 1 : i0;
        return s - i0;
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void UpsampleBilinear(Index1D index, int total, int stride, ArrayView<float> x, int inH, int inW, int outH, int outW,
        float scaleH, float scaleW, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int ow = i % outW;
            int t = i / outW;
            int oh = t % outH;
            int plane = t / outH;
            float lh = BilinearTaps(oh, inH, scaleH, out int h0, out int h1);
            float lw = BilinearTaps(ow, inW, scaleW, out int w0, out int w1);
            int b = plane * inH * inW;
            y[i] = (1f - lh) * ((1f - lw) * x[b + h0 * inW + w0] + lw * x[b + h0 * inW + w1])
                 + lh * ((1f - lw) * x[b + h1 * inW + w0] + lw * x[b + h1 * inW + w1]);
        }
    }

    /// <summary>
    /// Weight with which output row/column <paramref name="o"/> reads input <paramref name="i"/>, computed
    /// exactly as the forward pass does (so the gather agrees with the forward at every boundary).
    /// </summary>
    private static float BilinearWeight(int o, int i, int inSize, float scale)
    {
        float l = BilinearTaps(o, inSize, scale, out int i0, out int i1);
        float w = 0f;
        if (i0 == i) w += 1f - l;
        if (i1 == i) w += l;
        return w;
    }

    /// <summary>First output index whose source window may include input i (a safe under-estimate).</summary>
    private static int FirstOutput(int i, float scale, int outSize)
    {
        int o = (int)MathF.Floor((i - 1f + 0.5f) / scale - 0.5f) - 1;
        return o < 0 ? 0 : (o >= outSize ? outSize - 1 : o);
    }

    /// <summary>One past the last output index whose source window may include input i (a safe over-estimate).</summary>
    private static int EndOutput(int i, float scale, int outSize)
    {
        int o = (int)MathF.Ceiling((i + 1f + 0.5f) / scale - 0.5f) + 2;
        return o > outSize ? outSize : (o < 0 ? 0 : o);
    }

    /// <summary>Gather form of the bilinear backward: one thread per input pixel (total = planes * inH * inW).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void UpsampleBilinearBackward(Index1D index, int total, int stride, ArrayView<float> dy, int inH, int inW, int outH, int outW,
        float scaleH, float scaleW, ArrayView<float> dx)
    {
        for (int i = index; i < total; i += stride)
        {
            int iw = i % inW;
            int t = i / inW;
            int ih = t % inH;
            int plane = t / inH;
            int ohBegin = FirstOutput(ih, scaleH, outH), ohEnd = EndOutput(ih, scaleH, outH);
            int owBegin = FirstOutput(iw, scaleW, outW), owEnd = EndOutput(iw, scaleW, outW);
            int b = plane * outH * outW;
            float acc = 0f;
            for (int oh = ohBegin; oh < ohEnd; oh++)
            {
                float wh = BilinearWeight(oh, ih, inH, scaleH);
                if (wh == 0f) continue;
                float row = 0f;
                for (int ow = owBegin; ow < owEnd; ow++)
                {
                    float ww = BilinearWeight(ow, iw, inW, scaleW);
                    if (ww != 0f) row += ww * dy[b + oh * outW + ow];
                }
                acc += wh * row;
            }
            dx[i] = acc;
        }
    }

    /// <summary>PyTorch's nearest source index: min(floor(dst * scale), in - 1) with scale = in/out in float.</summary>
    private static int NearestSource(int dst, float scale, int inSize)
    {
        int s = (int)MathF.Floor(dst * scale);
        return s < inSize - 1 ? s : inSize - 1;
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void UpsampleNearest(Index1D index, int total, int stride, ArrayView<float> x, int inH, int inW, int outH, int outW,
        float scaleH, float scaleW, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int ow = i % outW;
            int t = i / outW;
            int oh = t % outH;
            int plane = t / outH;
            y[i] = x[(plane * inH + NearestSource(oh, scaleH, inH)) * inW + NearestSource(ow, scaleW, inW)];
        }
    }

    /// <summary>
    /// Gather form of the nearest backward: input i sums the outputs o whose source index is i. The
    /// candidate range [floor(i/scale) - 1, ceil((i+1)/scale) + 1) is widened and each candidate is checked
    /// with the forward formula, so float rounding can never drop or double-count an output.
    /// </summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void UpsampleNearestBackward(Index1D index, int total, int stride, ArrayView<float> dy, int inH, int inW, int outH, int outW,
        float scaleH, float scaleW, ArrayView<float> dx)
    {
        for (int i = index; i < total; i += stride)
        {
            int iw = i % inW;
            int t = i / inW;
            int ih = t % inH;
            int plane = t / inH;
            int ohBegin = Math.Max((int)MathF.Floor(ih / scaleH) - 1, 0);
            int ohEnd = Math.Min((int)MathF.Ceiling((ih + 1) / scaleH) + 1, outH);
            int owBegin = Math.Max((int)MathF.Floor(iw / scaleW) - 1, 0);
            int owEnd = Math.Min((int)MathF.Ceiling((iw + 1) / scaleW) + 1, outW);
            if (ih == inH - 1) ohEnd = outH; // the clamp to in-1 sends every later output here
            if (iw == inW - 1) owEnd = outW;
            int b = plane * outH * outW;
            float acc = 0f;
            for (int oh = ohBegin; oh < ohEnd; oh++)
            {
                if (NearestSource(oh, scaleH, inH) != ih) continue;
                for (int ow = owBegin; ow < owEnd; ow++)
                    if (NearestSource(ow, scaleW, inW) == iw) acc += dy[b + oh * outW + ow];
            }
            dx[i] = acc;
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void MaxPool2x2(Index1D index, int total, int stride, ArrayView<float> x, int inH, int inW, ArrayView<float> y)
    {
        int outH = inH / 2, outW = inW / 2;
        for (int i = index; i < total; i += stride)
        {
            int ow = i % outW;
            int t = i / outW;
            int oh = t % outH;
            int plane = t / outH;
            int b = (plane * inH + 2 * oh) * inW + 2 * ow;
            y[i] = NaNMath.Max(NaNMath.Max(x[b], x[b + 1]), NaNMath.Max(x[b + inW], x[b + inW + 1])); // a NaN propagates, as on the CPU
        }
    }

    /// <summary>One thread per input pixel: receives dy of its window when it is the window's first maximum (row-major).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void MaxPool2x2Backward(Index1D index, int total, int stride, ArrayView<float> x, ArrayView<float> dy, int inH, int inW, ArrayView<float> dx)
    {
        int outH = inH / 2, outW = inW / 2;
        for (int i = index; i < total; i += stride)
        {
            int iw = i % inW;
            int t = i / inW;
            int ih = t % inH;
            int plane = t / inH;
            int oh = ih >> 1, ow = iw >> 1;
            float g = 0f;
            if (oh < outH && ow < outW)
            {
                int b = (plane * inH + 2 * oh) * inW + 2 * ow;
                int best = 0;
                float m = x[b];
                if (NaNMath.Replaces(x[b + 1], m)) { m = x[b + 1]; best = 1; }
                if (NaNMath.Replaces(x[b + inW], m)) { m = x[b + inW]; best = 2; }
                if (NaNMath.Replaces(x[b + inW + 1], m)) best = 3;
                int mine = ((ih & 1) << 1) | (iw & 1);
                if (mine == best) g = dy[(plane * outH + oh) * outW + ow];
            }
            dx[i] = g;
        }
    }
}
