using ILGpuSat.Engine;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks.Blocks;

/// <summary>
/// MATLAB-style bicubic upsampling by an even integer factor s inside a network, composed from engine ops (the
/// engine has no bicubic interpolation): the same kernel as the training data's "bicubic twice" (Keys cubic,
/// a = -0.5; Imaging/Resampling) and the same borders (symmetric: index -1 reads 0, -2 reads 1).
/// <list type="number">
/// <item>pad 2 samples on each side symmetrically: F.Cat of F.Narrow slices [x1, x0, x, x_{n-1}, x_{n-2}], along W then H;</item>
/// <item>one transposed convolution, stride s, of a fixed 4s x 4s kernel w(t1) w(t2) with w(t) = cubic((t - (4s - 1)/2) / s)
/// and padding 3.5 s: output o reads padded inputs j with weight cubic((o + 0.5)/s - 0.5 - (j - 2)), which is imresize's
/// sampling position u = (o + 0.5)/s - 0.5. The output is exactly s times the input.</item>
/// </list>
/// Upsampling never shrinks the kernel, so no antialiasing is involved and the four taps' weights sum to 1.
/// The kernel is a constant (not a parameter, not in the state dict); gradients flow to the input.
/// </summary>
public sealed class BicubicUpsampler : IDisposable
{
    private readonly Tensor _kernel;

    public BicubicUpsampler(Backend backend, int factor)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (factor < 2 || factor % 2 != 0)
            throw new ArgumentException($"bicubic upsampler: factor {factor} must be an even integer >= 2 (the kernel's centre falls between taps otherwise).");
        Factor = factor;
        int k = 4 * factor;
        var taps = new double[k];
        for (int t = 0; t < k; t++) taps[t] = Cubic((t - (k - 1) / 2.0) / factor);
        var kernel = new float[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) kernel[i * k + j] = (float)(taps[i] * taps[j]);
        _kernel = Tensor.FromArray(kernel, [1, 1, k, k], backend).Keep();
    }

    public int Factor { get; }

    /// <summary>x [N, 1, h, w], h and w at least 2 -> [N, 1, s h, s w].</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.Size(1) != 1 || x.Size(2) < 2 || x.Size(3) < 2)
            throw new ArgumentException($"bicubic upsampler: input must be [N, 1, h, w] with h, w >= 2, got {Tensor.Format(x.Shape)}.");
        var padded = PadSymmetric2(PadSymmetric2(x, 3), 2);
        return F.ConvTranspose2d(padded, _kernel, null, stride: Factor, padding: 7 * Factor / 2);
    }

    /// <summary>Keys cubic convolution kernel with a = -0.5 (MATLAB's imresize 'bicubic').</summary>
    public static double Cubic(double x)
    {
        double ax = Math.Abs(x), ax2 = ax * ax, ax3 = ax2 * ax;
        if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
        if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
        return 0;
    }

    private static Tensor PadSymmetric2(Tensor x, int dim)
    {
        int n = x.Size(dim);
        return F.Cat([F.Narrow(x, dim, 1, 1), F.Narrow(x, dim, 0, 1), x, F.Narrow(x, dim, n - 1, 1), F.Narrow(x, dim, n - 2, 1)], dim);
    }

    public void Dispose() => _kernel.Dispose();
}
