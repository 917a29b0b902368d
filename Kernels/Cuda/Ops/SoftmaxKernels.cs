using ILGPU;
using ILGPU.Runtime;

namespace ILGpuSat.Kernels.Cuda.Ops;

/// <summary>
/// Softmax over the channel axis: one thread per pixel (pixels = N*HW) walking its C channels with stride
/// HW, so neighbouring threads read neighbouring addresses. The cross-entropy loss is fused: per pixel one
/// max pass and one pass for log-sum-exp and the target sums, accumulated straight into a block reduction.
/// </summary>
internal static class SoftmaxKernels
{
    // Addresses are 64-bit: one image of a launch may hold more than 2^31 floats (313 bins x 2620^2 pixels);
    // the pixel index itself stays a 32-bit int (a launch covers at most 2^30 pixels).
    private static long Base(int pixel, int channels, int hw)
    {
        int n = pixel / hw;
        return (long)n * channels * hw + (pixel - n * hw);
    }

    private static float ChannelMax(ArrayView<float> x, long b, int channels, int hw)
    {
        float m = x[b];
        for (int c = 1; c < channels; c++) m = NaNMath.Max(m, x[b + (long)c * hw]);
        return m;
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Softmax(Index1D index, int pixels, int stride, ArrayView<float> x, int channels, int hw, int logOutput, ArrayView<float> y)
    {
        for (int p = index; p < pixels; p += stride)
        {
            long b = Base(p, channels, hw);
            float m = ChannelMax(x, b, channels, hw);
            float sum = 0f;
            for (int c = 0; c < channels; c++) sum += MathF.Exp(x[b + (long)c * hw] - m);
            if (logOutput != 0)
            {
                float lse = m + MathF.Log(sum);
                for (int c = 0; c < channels; c++) y[b + (long)c * hw] = x[b + (long)c * hw] - lse;
            }
            else
            {
                float inv = 1f / sum;
                for (int c = 0; c < channels; c++) y[b + (long)c * hw] = MathF.Exp(x[b + (long)c * hw] - m) * inv;
            }
        }
    }

    /// <summary>Softmax: dx = y * (dy - sum_c dy*y). LogSoftmax (logInput = 1): dx = dy - exp(y) * sum_c dy.</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void SoftmaxBackward(Index1D index, int pixels, int stride, ArrayView<float> y, ArrayView<float> dy, int channels, int hw, int logInput, ArrayView<float> dx)
    {
        for (int p = index; p < pixels; p += stride)
        {
            long b = Base(p, channels, hw);
            float s = 0f;
            if (logInput != 0)
            {
                for (int c = 0; c < channels; c++) s += dy[b + (long)c * hw];
                for (int c = 0; c < channels; c++) dx[b + (long)c * hw] = dy[b + (long)c * hw] - MathF.Exp(y[b + (long)c * hw]) * s;
            }
            else
            {
                for (int c = 0; c < channels; c++) s += dy[b + (long)c * hw] * y[b + (long)c * hw];
                for (int c = 0; c < channels; c++) dx[b + (long)c * hw] = y[b + (long)c * hw] * (dy[b + (long)c * hw] - s);
            }
        }
    }

    /// <summary>
    /// Fused per-pixel loss + block reduction: pixel loss = w * ((max + log sum exp(x - max)) * sum z - sum z*x),
    /// which is w * (-sum z * log softmax(x)). Each block writes the sum of its pixels' losses to partials[block].
    /// </summary>
    [CudaKernel(KernelGrouping.Explicit)]
    public static void CrossEntropyPartials(ArrayView<float> logits, ArrayView<float> target, ArrayView<float> weights, int hasWeights,
        int pixels, int channels, int hw, ArrayView<float> partials)
    {
        var shared = SharedMemory.Allocate<float>(CudaBackend.ReduceShared);
        int tid = Group.IdxX;
        int stride = Grid.DimX * Group.DimX;
        float acc = 0f;
        for (int p = Grid.IdxX * Group.DimX + tid; p < pixels; p += stride)
        {
            long b = Base(p, channels, hw);
            float m = ChannelMax(logits, b, channels, hw);
            float sumExp = 0f, sumZ = 0f, sumZX = 0f;
            for (int c = 0; c < channels; c++)
            {
                float v = logits[b + (long)c * hw];
                float z = target[b + (long)c * hw];
                sumExp += MathF.Exp(v - m);
                sumZ += z;
                sumZX += z * (v - m);
            }
            // -sum z (x - m - log sumExp) = log(sumExp) * sumZ - sum z (x - m): shifted by m to keep the terms small.
            float loss = MathF.Log(sumExp) * sumZ - sumZX;
            acc += hasWeights != 0 ? weights[p] * loss : loss;
        }
        shared[tid] = acc;
        Group.Barrier();
        for (int s = Group.DimX >> 1; s > 0; s >>= 1)
        {
            if (tid < s) shared[tid] += shared[tid + s];
            Group.Barrier();
        }
        if (tid == 0) partials[Grid.IdxX] = shared[0];
    }

    /// <summary>dlogits = dloss[0] * w * (softmax(x) * sum z - z) / pixels.</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void CrossEntropyBackward(Index1D index, int pixels, int stride, ArrayView<float> logits, ArrayView<float> target, ArrayView<float> weights,
        int hasWeights, int channels, int hw, ArrayView<float> dloss, float invPixels, ArrayView<float> dlogits)
    {
        float g0 = dloss[0] * invPixels;
        for (int p = index; p < pixels; p += stride)
        {
            long b = Base(p, channels, hw);
            float m = ChannelMax(logits, b, channels, hw);
            float sumExp = 0f, sumZ = 0f;
            for (int c = 0; c < channels; c++)
            {
                sumExp += MathF.Exp(logits[b + (long)c * hw] - m);
                sumZ += target[b + (long)c * hw];
            }
            float g = hasWeights != 0 ? g0 * weights[p] : g0;
            float inv = 1f / sumExp;
            for (int c = 0; c < channels; c++)
            {
                float sm = MathF.Exp(logits[b + (long)c * hw] - m) * inv;
                dlogits[b + (long)c * hw] = g * (sm * sumZ - target[b + (long)c * hw]);
            }
        }
    }
}
