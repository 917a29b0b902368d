using ILGPU;

namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>The deterministic reductions of the weight gradient (no float atomics).</summary>
internal static class ConvReduceKernels
{
    /// <summary>Threads per block of <see cref="PlaneSums"/> (and its shared-memory size).</summary>
    public const int BiasThreads = 128;

    /// <summary>dw[i] = sum over s of partial[s*len + i], in slice order (grid-stride over i).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void SumSplits(Index1D index, ArrayView<float> partial, ArrayView<float> dw, int len, int splits, int stride)
    {
        for (int i = index; i < len; i += stride)
        {
            float s = 0f;
            for (int z = 0; z < splits; z++) s += partial[z * len + i];
            dw[i] = s;
        }
    }

    /// <summary>
    /// planeSums[n*C + c] = sum over the pixels of dy[n,c,:]: one block per (c, n) plane (grid x = C, y = N),
    /// each thread a strided partial sum, then a shared-memory tree. Launch with <see cref="BiasThreads"/>
    /// threads; <see cref="SumSplits"/> then adds the N plane sums of each channel in order.
    /// </summary>
    [CudaKernel(KernelGrouping.Explicit)]
    public static void PlaneSums(ArrayView<float> dy, ArrayView<float> planeSums, int channels, int pixels)
    {
        var partial = SharedMemory.Allocate<float>(BiasThreads);
        int c = Grid.IdxX;
        int n = Grid.IdxY;
        int t = Group.IdxX;
        int plane = (n * channels + c) * pixels;
        float s = 0f;
        for (int i = t; i < pixels; i += BiasThreads) s += dy[plane + i];
        partial[t] = s;
        Group.Barrier();
        for (int half = BiasThreads / 2; half > 0; half >>= 1)
        {
            if (t < half) partial[t] += partial[t + half];
            Group.Barrier();
        }
        if (t == 0) planeSums[n * channels + c] = partial[0];
    }
}
