using ILGPU;
using ILGPU.Runtime;

namespace ILGpuSat.Kernels.Cuda.Ops;

/// <summary>
/// Elementwise, activation, per-channel broadcast and optimizer kernels. All are implicitly grouped
/// grid-stride loops: the launch extent is capped (<see cref="CudaBackend.GridStride"/>) and each thread
/// walks i, i+stride, ... so one launch covers any n without millions of blocks.
/// </summary>
internal static class ElementwiseKernels
{
    [CudaKernel(KernelGrouping.Implicit)]
    public static void Fill(Index1D index, int n, int stride, ArrayView<float> y, float value)
    {
        for (int i = index; i < n; i += stride) y[i] = value;
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void FillFromScalar(Index1D index, int n, int stride, ArrayView<float> scalar, float scale, ArrayView<float> y)
    {
        float v = scalar[0] * scale;
        for (int i = index; i < n; i += stride) y[i] = v;
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Add(Index1D index, int n, int stride, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride) y[i] = a[i] + b[i];
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Multiply(Index1D index, int n, int stride, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride) y[i] = a[i] * b[i];
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Scale(Index1D index, int n, int stride, ArrayView<float> x, float alpha, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride) y[i] = alpha * x[i];
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Sqrt(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride) y[i] = MathF.Sqrt(x[i]);
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Axpy(Index1D index, int n, int stride, float alpha, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride) y[i] += alpha * x[i];
    }

    // ---- activations ------------------------------------------------------------------------------

    [CudaKernel(KernelGrouping.Implicit)]
    public static void Relu(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride)
        {
            float v = x[i];
            y[i] = v > 0f ? v : 0f;
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void ReluBackward(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        for (int i = index; i < n; i += stride) dx[i] = x[i] > 0f ? dy[i] : 0f;
    }

    /// <summary>Leaky ReLU is ReLU. x &gt; 0 keeps x (NaN goes to the slope branch, as PyTorch's where(x &gt; 0)).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void LeakyRelu(Index1D index, int n, int stride, ArrayView<float> x, float slope, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride)
        {
            float v = x[i];
            y[i] = v > 0f ? v : v * slope;
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void LeakyReluBackward(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> dy, float slope, ArrayView<float> dx)
    {
        for (int i = index; i < n; i += stride)
        {
            float g = dy[i];
            dx[i] = x[i] > 0f ? g : g * slope;
        }
    }

    /// <summary>PReLU with one weight per channel, or one shared weight when <paramref name="shared"/> is 1.</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void PRelu(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> weight, int channels, int hw, int shared, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride)
        {
            float v = x[i];
            float w = weight[shared != 0 ? 0 : (i / hw) % channels];
            y[i] = v > 0f ? v : v * w;
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void PReluBackwardData(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> dy,
        int channels, int hw, int shared, ArrayView<float> dx)
    {
        for (int i = index; i < n; i += stride)
        {
            float g = dy[i];
            float w = weight[shared != 0 ? 0 : (i / hw) % channels];
            dx[i] = x[i] > 0f ? g : g * w;
        }
    }

    // ---- per-channel affine ------------------------------------------------------------------------

    [CudaKernel(KernelGrouping.Implicit)]
    public static void AddChannelBias(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> bias, int channels, int hw, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride) y[i] = x[i] + bias[(i / hw) % channels];
    }

    /// <summary>y = (x - mean[c]) * invStd[c] * gamma[c] + beta[c] (batch norm with per-channel statistics).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void BatchNormApply(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, int channels, int hw, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride)
        {
            int c = (i / hw) % channels;
            y[i] = (x[i] - mean[c]) * invStd[c] * gamma[c] + beta[c];
        }
    }

    /// <summary>Eval batch norm: invStd comes from the running variance, 1/sqrt(var + eps).</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void BatchNormEvalApply(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> runMean, ArrayView<float> runVar,
        ArrayView<float> gamma, ArrayView<float> beta, float eps, int channels, int hw, ArrayView<float> y)
    {
        for (int i = index; i < n; i += stride)
        {
            int c = (i / hw) % channels;
            float invStd = 1f / MathF.Sqrt(runVar[c] + eps);
            y[i] = (x[i] - runMean[c]) * invStd * gamma[c] + beta[c];
        }
    }

    /// <summary>
    /// Training batch norm input gradient from the per-channel sums already reduced into dbeta = sum dy
    /// and dgamma = sum dy * xhat: dx = gamma * invStd * (dy - dbeta/M - xhat * dgamma/M).
    /// </summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void BatchNormBackwardData(Index1D index, int n, int stride, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> gamma,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> dgamma, ArrayView<float> dbeta, int channels, int hw, float invCount, ArrayView<float> dx)
    {
        for (int i = index; i < n; i += stride)
        {
            int c = (i / hw) % channels;
            float s = invStd[c];
            float xhat = (x[i] - mean[c]) * s;
            dx[i] = gamma[c] * s * (dy[i] - dbeta[c] * invCount - xhat * dgamma[c] * invCount);
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void BatchNormEvalBackwardData(Index1D index, int n, int stride, ArrayView<float> dy, ArrayView<float> gamma, ArrayView<float> runVar,
        float eps, int channels, int hw, ArrayView<float> dx)
    {
        for (int i = index; i < n; i += stride)
        {
            int c = (i / hw) % channels;
            dx[i] = dy[i] * gamma[c] / MathF.Sqrt(runVar[c] + eps);
        }
    }

    // ---- losses ------------------------------------------------------------------------------------

    /// <summary>dpred = dloss[0] * scale * (pred - target), scale = 2/n.</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void MseLossBackward(Index1D index, int n, int stride, ArrayView<float> pred, ArrayView<float> target, ArrayView<float> dloss, float scale, ArrayView<float> dpred)
    {
        float g = dloss[0] * scale;
        for (int i = index; i < n; i += stride) dpred[i] = g * (pred[i] - target[i]);
    }

    // ---- optimizers --------------------------------------------------------------------------------

    [CudaKernel(KernelGrouping.Implicit)]
    public static void SgdStep(Index1D index, int n, int stride, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> momentumBuffer, SgdArgs a)
    {
        for (int i = index; i < n; i += stride)
        {
            float p = param[i];
            float g = grad[i] + a.WeightDecay * p;
            if (a.HasMomentum != 0)
            {
                float buf = a.FirstStep != 0 ? g : a.Momentum * momentumBuffer[i] + a.OneMinusDampening * g;
                momentumBuffer[i] = buf;
                g = a.Nesterov != 0 ? g + a.Momentum * buf : buf;
            }
            param[i] = p - a.Lr * g;
        }
    }

    [CudaKernel(KernelGrouping.Implicit)]
    public static void AdamStep(Index1D index, int n, int stride, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamScalars a)
    {
        // The same operations in the same order as the CPU backend (see AdamScalars).
        for (int i = index; i < n; i += stride)
        {
            float p = param[i] * a.Decay;
            float g = grad[i] + a.L2 * p;
            float mi = m[i] * a.Beta1 + a.OneMinusBeta1 * g;
            float vi = v[i] * a.Beta2 + a.OneMinusBeta2 * (g * g);
            m[i] = mi;
            v[i] = vi;
            float denom = MathF.Sqrt(vi) / a.Bc2Sqrt + a.Eps;
            param[i] = p + a.NegStepSize * (mi / denom);
        }
    }

    /// <summary>grad *= min(1, maxNorm / (sqrt(sumOfSquares[0]) + 1e-6)); the norm is read on the device.</summary>
    [CudaKernel(KernelGrouping.Implicit)]
    public static void ClipByGlobalNorm(Index1D index, int n, int stride, ArrayView<float> grad, ArrayView<float> sumOfSquares, float maxNorm)
    {
        float coef = maxNorm / (MathF.Sqrt(sumOfSquares[0]) + 1e-6f);
        float f = coef < 1f ? coef : 1f; // a NaN norm leaves the gradients alone, as the CPU backend does
        for (int i = index; i < n; i += stride) grad[i] *= f;
    }
}

/// <summary>SGD hyper-parameters as one kernel argument (flags as ints: kernel arguments must be blittable).</summary>
public struct SgdArgs
{
    /// <summary>1 - dampening in double from the value as written, then float (as the CPU backend).</summary>
    public float Lr, Momentum, OneMinusDampening, WeightDecay;
    public int Nesterov, FirstStep, HasMomentum;
}

/// <summary>Adam hyper-parameters with the step's bias corrections precomputed on the host.</summary>
