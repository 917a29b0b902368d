using ILGPU;

namespace ILGpuSat.Kernels.Cuda.Ops;

/// <summary>
/// exp, log, sigmoid and softplus and their gradients (<see cref="PointwiseFunction"/> says which input each backward
/// reads), one grid-stride kernel each way with the function as a launch argument: every thread takes the same branch.
/// </summary>
internal static class PointwiseKernels
{
    [CudaKernel(KernelGrouping.Implicit)]
    public static void Forward(Index1D index, int n, int stride, ArrayView<float> x, int function, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride)
        {
            float v = x[i];
            y[i] = function switch
            {
                0 => MathF.Exp(v),
                1 => MathF.Log(v),
                2 => 1f / (1f + MathF.Exp(-v)),
                _ => MathF.Max(v, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(v))),
            };
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Backward(Index1D index, int n, int stride, ArrayView<float> saved, ArrayView<float> dy, int function, ArrayView<float> dx)
    {
        for (int i = index; i < n; i += stride)
        {
            float s = saved[i], g = dy[i];
            dx[i] = function switch
            {
                0 => g * s,                           // exp: s = y
                1 => g / s,                           // log: s = x
                2 => g * s * (1f - s),                // sigmoid: s = y
                _ => g / (1f + MathF.Exp(-s)),        // softplus: s = x
            };
        }
    }
}
