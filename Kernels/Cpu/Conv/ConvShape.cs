namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// One image's convolution as the kernels walk it: input planes C x H x W, output OH x OW, and
/// output pixel (oh, ow) with tap (kh, kw) reads input (oh*SH - PH + kh*DH, ow*SW - PW + kw*DW).
/// PH/PW may be negative (a crop), which the stride-1 backward-data rewrite needs when the
/// forward padding exceeds the kernel's reach.
/// </summary>
internal readonly record struct ConvShape(
    int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW)
{
    public int Taps => KH * KW;
    /// <summary>Rows of the im2col matrix: C * KH * KW.</summary>
    public int K => C * KH * KW;
    /// <summary>Columns of the im2col matrix: output pixels.</summary>
    public int P => OH * OW;
    public int InputPlane => H * W;

    public static ConvShape Forward(in Conv2dGeometry g) => new(
        g.InC, g.InH, g.InW, g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilH, g.DilW, g.OutH, g.OutW);

    /// <summary>
    /// For stride 1, dx is itself a convolution of dy with the spatially flipped, IO-swapped
    /// weight: dx[c, i] = sum_{o, t} dy[o, i + P - t*D] w[o, c, t] = sum_{o, t'} dy[o, i - P' + t'*D] w[o, c, K-1-t'],
    /// with P' = (K-1)*D - P. Its output size is exactly InH x InW.
    /// </summary>
    public static ConvShape BackwardDataAsForward(in Conv2dGeometry g) => new(
        g.OutC, g.OutH, g.OutW, g.KH, g.KW, 1, 1,
        (g.KH - 1) * g.DilH - g.PadH, (g.KW - 1) * g.DilW - g.PadW, g.DilH, g.DilW, g.InH, g.InW);
}
