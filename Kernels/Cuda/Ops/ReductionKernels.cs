using ILGPU;
using ILGPU.Runtime;

namespace ILGpuSat.Kernels.Cuda.Ops;

/// <summary>What a grid-wide reduction sums.</summary>
internal static class GlobalTerm
{
    public const int X = 0;             // x
    public const int XSquared = 1;      // x^2
    public const int DiffSquared = 2;   // (x - y)^2
    public const int PReluWeight = 3;   // x > 0 ? 0 : x * y (y = dy)
}

/// <summary>What a per-channel reduction sums (two sums per element at most).</summary>
internal static class ChannelTerm
{
    public const int X = 0;             // a: x
    public const int ShiftedMoments = 1;// a: x - k, b: (x - k)^2 with k = x[0, c, 0] (variance without cancellation)
    public const int PReluWeight = 2;   // a: x > 0 ? 0 : x * y
    public const int DyAndDyCentered = 3; // a: y, b: y * (x - center[c]) (y = dy)
}

/// <summary>
/// Explicitly grouped, deterministic reductions: every block accumulates a grid-stride slice in float per
/// thread, reduces it with a shared-memory tree and writes one partial sum; a second small pass adds the
/// partials in a fixed order. No atomics, so the same input always gives the same bits. Block sizes are
/// powers of two no larger than <see cref="CudaBackend.ReduceShared"/>.
/// </summary>
internal static class ReductionKernels
{
    /// <summary>Tree-reduces shared[0..Group.DimX) into shared[0]; every thread must call it.</summary>
    private static void TreeReduce(ArrayView<float> shared, int tid)
    {
        for (int s = Group.DimX >> 1; s > 0; s >>= 1)
        {
            if (tid < s) shared[tid] += shared[tid + s];
            Group.Barrier();
        }
    }

    private static float GlobalTermOf(int term, ArrayView<float> x, ArrayView<float> y, int i)
    {
        float v = x[i];
        if (term == GlobalTerm.X) return v;
        if (term == GlobalTerm.XSquared) return v * v;
        if (term == GlobalTerm.DiffSquared)
        {
            float d = v - y[i];
            return d * d;
        }
        return v > 0f ? 0f : v * y[i];
    }

    /// <summary>First pass of a grid-wide sum: partials[block] = sum of the block's grid-stride slice.</summary>
    [CudaKernel(KernelGrouping.Explicit)]
    public static void GlobalPartials(ArrayView<float> x, ArrayView<float> y, int term, int n, ArrayView<float> partials)
    {
        var shared = SharedMemory.Allocate<float>(CudaBackend.ReduceShared);
        int tid = Group.IdxX;
        int stride = Grid.DimX * Group.DimX;
        float acc = 0f;
        for (int i = Grid.IdxX * Group.DimX + tid; i < n; i += stride) acc += GlobalTermOf(term, x, y, i);
        shared[tid] = acc;
        Group.Barrier();
        TreeReduce(shared, tid);
        if (tid == 0) partials[Grid.IdxX] = shared[0];
    }

    /// <summary>Second pass, one block: result[0] = scale * sum of partials[0..count).</summary>
    [CudaKernel(KernelGrouping.Explicit)]
    public static void GlobalFinal(ArrayView<float> partials, int count, float scale, ArrayView<float> result)
    {
        var shared = SharedMemory.Allocate<float>(CudaBackend.ReduceShared);
        int tid = Group.IdxX;
        float acc = 0f;
        for (int i = tid; i < count; i += Group.DimX) acc += partials[i];
        shared[tid] = acc;
        Group.Barrier();
        TreeReduce(shared, tid);
        if (tid == 0) result[0] = shared[0] * scale;
    }

    /// <summary>
    /// First pass of a per-channel reduction over the N*HW elements of each channel. Block b reduces
    /// channel b / splits, slice b % splits (elements j = slice*G + tid, step G*splits, where element j is
    /// image j / hw, pixel j % hw) into partA[b] (and partB[b] for two-sum terms).
    /// </summary>
    [CudaKernel(KernelGrouping.Explicit)]
    public static void ChannelPartials(ArrayView<float> x, ArrayView<float> y, ArrayView<float> center, int term,
        int n, int channels, int hw, int splits, ArrayView<float> partA, ArrayView<float> partB)
    {
        var sharedA = SharedMemory.Allocate<float>(CudaBackend.ReduceShared);
        var sharedB = SharedMemory.Allocate<float>(CudaBackend.ReduceShared);
        int tid = Group.IdxX;
        int c = Grid.IdxX / splits;
        int slice = Grid.IdxX - c * splits;
        int count = n * hw;
        int step = Group.DimX * splits;
        float k = term == ChannelTerm.ShiftedMoments ? x[c * hw] : (term == ChannelTerm.DyAndDyCentered ? center[c] : 0f);
        float a = 0f, b = 0f;
        for (int j = slice * Group.DimX + tid; j < count; j += step)
        {
            int img = j / hw;
            int idx = (img * channels + c) * hw + (j - img * hw);
            float v = x[idx];
            if (term == ChannelTerm.X) a += v;
            else if (term == ChannelTerm.ShiftedMoments)
            {
                float d = v - k;
                a += d;
                b += d * d;
            }
            else if (term == ChannelTerm.PReluWeight) a += v > 0f ? 0f : v * y[idx];
            else
            {
                float g = y[idx];
                a += g;
                b += g * (v - k);
            }
        }
        sharedA[tid] = a;
        sharedB[tid] = b;
        Group.Barrier();
        for (int s = Group.DimX >> 1; s > 0; s >>= 1)
        {
            if (tid < s)
            {
                sharedA[tid] += sharedA[tid + s];
                sharedB[tid] += sharedB[tid + s];
            }
            Group.Barrier();
        }
        if (tid == 0)
        {
            partA[Grid.IdxX] = sharedA[0];
            partB[Grid.IdxX] = sharedB[0];
        }
    }

    /// <summary>sum[c] = scale * sum of the channel's partials (fixed order).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void ChannelSumFinal(Index1D c, ArrayView<float> partA, int splits, float scale, ArrayView<float> sum)
    {
        float acc = 0f;
        for (int s = 0; s < splits; s++) acc += partA[c * splits + s];
        sum[c] = acc * scale;
    }

    /// <summary>
    /// Batch statistics from shifted moments: mean = k + S1/M, var = S2/M - (S1/M)^2; writes mean and
    /// 1/sqrt(var + eps) and, when asked, updates the running statistics with the unbiased variance.
    /// </summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void BatchNormStatsFinal(Index1D c, ArrayView<float> x, ArrayView<float> partA, ArrayView<float> partB, BatchNormStatsArgs a,
        ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> runMean, ArrayView<float> runVar)
    {
        float s1 = 0f, s2 = 0f;
        for (int s = 0; s < a.Splits; s++)
        {
            s1 += partA[c * a.Splits + s];
            s2 += partB[c * a.Splits + s];
        }
        float m = a.Count;
        float d = s1 / m;
        float mean = x[c * a.HW] + d;
        float variance = NaNMath.Max(s2 / m - d * d, 0f);
        saveMean[c] = mean;
        saveInvStd[c] = 1f / MathF.Sqrt(variance + a.Eps);
        if (a.UpdateRunning != 0)
        {
            float unbiased = a.Count > 1 ? variance * m / (m - 1f) : variance;
            runMean[c] = (1f - a.Momentum) * runMean[c] + a.Momentum * mean;
            runVar[c] = (1f - a.Momentum) * runVar[c] + a.Momentum * unbiased;
        }
    }

    /// <summary>
    /// dbeta[c] = sum dy and dgamma[c] = invStd * sum dy*(x - mean). invStd is read from
    /// <paramref name="invStdOrVar"/> directly, or as 1/sqrt(var + eps) when <paramref name="fromVariance"/> is 1 (eval mode).
    /// </summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void BatchNormBackwardFinal(Index1D c, ArrayView<float> partA, ArrayView<float> partB, int splits,
        ArrayView<float> invStdOrVar, int fromVariance, float eps, ArrayView<float> dgamma, ArrayView<float> dbeta)
    {
        float sa = 0f, sb = 0f;
        for (int s = 0; s < splits; s++)
        {
            sa += partA[c * splits + s];
            sb += partB[c * splits + s];
        }
        float v = invStdOrVar[c];
        float invStd = fromVariance != 0 ? 1f / MathF.Sqrt(v + eps) : v;
        dbeta[c] = sa;
        dgamma[c] = sb * invStd;
    }
}

/// <summary>Scalar arguments of <see cref="ReductionKernels.BatchNormStatsFinal"/>.</summary>
public struct BatchNormStatsArgs
{
    public int Splits, HW, Count, UpdateRunning;
    public float Eps, Momentum;
}
