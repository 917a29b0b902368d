namespace ILGpuSat.Imaging.Resampling;

/// <summary>Interpolation kernels with MATLAB <c>imresize</c> definitions.</summary>
public enum ResampleKernel
{
    /// <summary>Keys cubic convolution with a = -0.5 (MATLAB 'bicubic', PIL BICUBIC), support 2.</summary>
    Bicubic,
    /// <summary>Triangle kernel (MATLAB 'bilinear', PIL BILINEAR), support 1.</summary>
    Bilinear,
}

internal static class Kernels
{
    /// <summary>Keys (1981) cubic with a = -0.5, exactly MATLAB's <c>cubic</c> in imresize.m.</summary>
    public static double Cubic(double x)
    {
        double ax = Math.Abs(x), ax2 = ax * ax, ax3 = ax2 * ax;
        if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
        if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
        return 0;
    }

    public static double Triangle(double x)
    {
        double ax = Math.Abs(x);
        return ax <= 1 ? 1 - ax : 0;
    }

    public static double Eval(ResampleKernel k, double x) => k == ResampleKernel.Bicubic ? Cubic(x) : Triangle(x);

    /// <summary>Full kernel width (MATLAB's kernel_width): 4 for cubic, 2 for triangle.</summary>
    public static double Width(ResampleKernel k) => k == ResampleKernel.Bicubic ? 4.0 : 2.0;
}
