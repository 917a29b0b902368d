namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>
/// One implicit GEMM C[M, N] = A[M, K] * B[K, N] in which A is read from a dense 4-D tensor (weights or
/// dy) and B is gathered on the fly from a 4-D tensor with convolution index math (no im2col buffer).
/// The forward pass, the data gradient (one launch per stride phase) and the weight gradient are all
/// instances of this single description; <see cref="ConvGemmPlan"/> builds them from a geometry.
///
/// Index conventions (all in floats):
/// <list type="bullet">
/// <item>GEMM column n = (nb, i, j) with i &lt; NI, j &lt; NJ. Its B source window starts at row
/// i*RowMul+RowAdd, column j*ColMul+ColAdd of plane nb*SrcBatch of the source tensor (SrcH x SrcW planes).</item>
/// <item>GEMM row k = (outer, jh, jw) with jh &lt; TapsH, jw &lt; TapsW. B adds (jh*StepH, jw*StepW) to the window
/// position and outer*SrcPlane to the offset; out-of-bounds positions read as zero (padding).</item>
/// <item>A[m, k] = a[m*AStrideM + outer*AStrideOuter + (Kh0 + jh*KhStep)*AKw + Kw0 + jw*KwStep].</item>
/// <item>C[m, n] goes to out[z*OutSplit + nb*OutBatch + m*OutPlane + (I0 + i*IStep)*OutW + J0 + j*JStep]
/// where z is the split-K slice (grid z).</item>
/// </list>
/// Public only because ILGPU's CPU accelerator generates a task type holding the kernel arguments.
/// </summary>
public struct ConvGemmParams
{
    public int M, N, K;
    /// <summary>K rows handled by one grid-z slice (a multiple of BK unless it is all of K).</summary>
    public int KPerSplit;

    public int NI, NJ;
    public int SrcH, SrcW, SrcPlane, SrcBatch;
    public int RowMul, RowAdd, ColMul, ColAdd;
    public int TapsH, TapsW, StepH, StepW;
    /// <summary>The outer index count of K (K = Channels * TapsH * TapsW); the tap-major kernel needs it to be a multiple of BK.</summary>
    public int Channels;
    /// <summary>Derived by <see cref="ConvGemmLaunch.Of"/> for <see cref="TapCursor.Next"/>: Dw/Dh where a tap row/plane ends, and the offset jumps there.</summary>
    public int EndW, EndH, RowJump, PlaneJump;

    public int AStrideM, AStrideOuter, AKw, Kh0, KhStep, Kw0, KwStep;
    /// <summary>1 when the taps of A are contiguous ((Kh0 + jh*KhStep)*AKw + Kw0 + jw*KwStep == jh*TapsW + jw): saves a division per slice.</summary>
    public int AContiguous;

    public int OutSplit, OutBatch, OutPlane, OutW, I0, IStep, J0, JStep;
    /// <summary>1 when every group of 4 columns starting at a multiple of 4 is 4 contiguous, 16-byte aligned outputs (vector stores).</summary>
    public int OutVec4;

    /// <summary>
    /// Epilogue: v = acc*scale[m] + (bias[m]*scale[m] + shift[m]); then PReLU when PreluMode is 1 (shared slope
    /// from the slope view), 2 (per channel) or 3 (the constant <see cref="Slope"/>: LeakyReLU, 0 for ReLU). With
    /// ClampAtShift the rectifier comes before the affine instead: relu(acc + bias)*scale + shift (Zhang's
    /// conv, ReLU, BN), computed as v clamped at shift[m].
    /// </summary>
    public int HasBias, HasScale, HasShift, PreluMode, ClampAtShift;
    public float Slope;
}

/// <summary>
/// Walks the K dimension of B one row at a time without divisions: (Dh, Dw) is the tap displacement
/// (jh*StepH, jw*StepW) and Off the matching flat offset outer*SrcPlane + Dh*SrcW + Dw.
/// </summary>
internal struct TapCursor
{
    public int K, Off, Dh, Dw;

    public static TapCursor At(in ConvGemmParams p, int k)
    {
        int taps = p.TapsH * p.TapsW;
        int outer = k / taps;
        int r = k - outer * taps;
        int jh = r / p.TapsW;
        int jw = r - jh * p.TapsW;
        TapCursor c;
        c.K = k;
        c.Dh = jh * p.StepH;
        c.Dw = jw * p.StepW;
        c.Off = outer * p.SrcPlane + c.Dh * p.SrcW + c.Dw;
        return c;
    }

    /// <summary>
    /// The next row of K. Written as independent selects (no nested if) so that ILGPU emits predicated
    /// code: eight of these run back to back per slice and branches would split them into tiny blocks.
    /// </summary>
    public readonly TapCursor Next(in ConvGemmParams p)
    {
        TapCursor c = this;
        c.K++;
        c.Dw += p.StepW;
        c.Off += p.StepW;
        bool endRow = c.Dw == p.EndW;
        c.Off += endRow ? p.RowJump : 0;
        c.Dh += endRow ? p.StepH : 0;
        c.Dw = endRow ? 0 : c.Dw;
        bool endPlane = c.Dh == p.EndH;
        c.Off += endPlane ? p.PlaneJump : 0;
        c.Dh = endPlane ? 0 : c.Dh;
        return c;
    }
}
