using static ILGpuSat.Kernels.Cuda.Conv.ConvTile;

namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>How a kernel walks K (see the three ConvGemmKernel entry points).</summary>
internal enum ConvGemmWalk
{
    /// <summary><see cref="ConvGemmKernel.Run"/>: any geometry, row by row.</summary>
    General,
    /// <summary><see cref="ConvGemmKernel.RunTapMajor"/>: K reordered tap-major; Channels % BK == 0, no split-K.</summary>
    TapMajor,
    /// <summary><see cref="ConvGemmKernel.RunRowSlice"/>: TapsW % BK == 0, each slice one row of K.</summary>
    RowSlice,
}

/// <summary>One launch of <see cref="ConvGemmKernel"/>: its parameters, grid and K walk.</summary>
internal readonly record struct ConvGemmLaunch(ConvGemmParams Params, int GridX, int GridY, int Splits, ConvGemmWalk Walk)
{
    /// <summary>
    /// Completes the derived fields. <paramref name="allowTapMajor"/>: K may be walked tap-major
    /// (<see cref="ConvGemmKernel.RunTapMajor"/>), used when the channel count allows it; the weight gradient
    /// keeps pixel-major K, whose A rows (dy) are contiguous in it.
    /// </summary>
    public static ConvGemmLaunch Of(ConvGemmParams p, int splits = 1, bool allowTapMajor = false)
    {
        int taps = p.TapsH * p.TapsW;
        p.Channels = taps > 0 ? p.K / taps : 0;
        p.EndW = p.TapsW * p.StepW;
        p.EndH = p.TapsH * p.StepH;
        p.RowJump = p.StepH * p.SrcW - p.EndW;
        p.PlaneJump = p.SrcPlane - p.EndH * p.SrcW;
        p.AContiguous = p.Kh0 == 0 && p.KhStep == 1 && p.Kw0 == 0 && p.KwStep == 1 && p.AKw == p.TapsW ? 1 : 0;
        // Columns n..n+3 (n % 4 == 0) stay in one output row when NJ % 4 == 0 and are adjacent when JStep == 1;
        // N % 4 == 0 makes a group all valid or all past the end; the rest keeps every group 16-byte aligned
        // (buffers themselves start 256-byte aligned).
        p.OutVec4 = p.JStep == 1 && p.NJ % 4 == 0 && p.N % 4 == 0 && p.J0 % 4 == 0 && p.OutW % 4 == 0
            && p.OutPlane % 4 == 0 && p.OutBatch % 4 == 0 && p.OutSplit % 4 == 0 && (p.I0 * p.OutW) % 4 == 0 ? 1 : 0;
        var walk = allowTapMajor && splits == 1 && p.K > 0 && p.Channels % BK == 0 ? ConvGemmWalk.TapMajor
            // With TapsW % BK == 0 and every slice starting at a multiple of BK, no slice crosses a row of K.
            : p.K > 0 && p.TapsW % BK == 0 && p.KPerSplit % BK == 0 ? ConvGemmWalk.RowSlice
            : ConvGemmWalk.General;
        return new(p, (p.N + BN - 1) / BN, (p.M + BM - 1) / BM, splits, walk);
    }
}

/// <summary>
/// Builds the implicit-GEMM descriptions of the three convolution passes from a
/// <see cref="Conv2dGeometry"/> (input [N,C,H,W], weight OIHW [K,C,R,S], output [N,K,P,Q]).
/// </summary>
internal static class ConvGemmPlan
{
    /// <summary>
    /// Every index the kernels form is a 32-bit int; this rejects a launch whose tensors pass <paramref name="limit"/>
    /// floats (the backend's per-launch limit, <see cref="CudaBackend.MaxElements"/> = 2^30, allowed). The backend
    /// checks one image this way and cuts larger batches into launches of whole images.
    /// </summary>
    public static void CheckIndexRange(string op, Conv2dGeometry g, long limit = CudaBackend.MaxElements)
    {
        long max = Math.Max(g.InputLength, g.OutputLength);
        if (max > limit)
            throw new ArgumentException($"{op}: a tensor of {max} floats for {(g.N == 1 ? "one image" : $"{g.N} images")} exceeds the CUDA convolution kernels' 32-bit indexing limit of {limit}{(limit == CudaBackend.MaxElements ? " (2^30)" : "")} floats per launch; use smaller tiles.");
        // The weights are never cut: they keep the kernels' own limit.
        if (g.WeightLength > CudaBackend.MaxElements)
            throw new ArgumentException($"{op}: {g.WeightLength} weights exceed the CUDA convolution kernels' 32-bit indexing limit of {CudaBackend.MaxElements} (2^30) floats.");
    }

    /// <summary>y[n,k,p,q] = sum_{c,r,s} w[k,c,r,s] x[n,c,p*sh-ph+r*dh, q*sw-pw+s*dw]: M = K, N = N*P*Q, K = C*R*S.</summary>
    public static ConvGemmLaunch Forward(Conv2dGeometry g)
    {
        int oh = g.OutH, ow = g.OutW;
        var p = new ConvGemmParams
        {
            M = g.OutC, N = g.N * oh * ow, K = g.InC * g.KH * g.KW,
            NI = oh, NJ = ow,
            SrcH = g.InH, SrcW = g.InW, SrcPlane = g.InH * g.InW, SrcBatch = g.InC * g.InH * g.InW,
            RowMul = g.StrideH, RowAdd = -g.PadH, ColMul = g.StrideW, ColAdd = -g.PadW,
            TapsH = g.KH, TapsW = g.KW, StepH = g.DilH, StepW = g.DilW,
            AStrideM = g.InC * g.KH * g.KW, AStrideOuter = g.KH * g.KW, AKw = g.KW, Kh0 = 0, KhStep = 1, Kw0 = 0, KwStep = 1,
            OutBatch = g.OutC * oh * ow, OutPlane = oh * ow, OutW = ow, I0 = 0, IStep = 1, J0 = 0, JStep = 1,
        };
        p.KPerSplit = p.K;
        return ConvGemmLaunch.Of(p, allowTapMajor: true);
    }

    /// <summary>
    /// The data gradient as one GEMM per stride phase (rh, rw) of the input pixels. Input row ih receives
    /// dy row oh = (ih + ph - r*dh) / sh only for the taps r with r*dh = ih + ph (mod sh); within a phase
    /// those taps are the same for every pixel (r = r0 + j*step, step = sh/gcd(sh,dh)), so each phase is a
    /// dense GEMM over exactly its nonzero terms: M = C, N = N * pixels of the phase, K = K * its taps.
    /// Phases without taps still launch (K = 0) so that their pixels are written as zeros.
    /// </summary>
    public static List<ConvGemmLaunch> BackwardData(Conv2dGeometry g)
    {
        var launches = new List<ConvGemmLaunch>(g.StrideH * g.StrideW);
        int oh = g.OutH, ow = g.OutW;
        for (int rh = 0; rh < g.StrideH; rh++)
        {
            var ph = Phase(rh, g.InH, g.PadH, g.StrideH, g.KH, g.DilH);
            if (ph.Pixels == 0) continue;
            for (int rw = 0; rw < g.StrideW; rw++)
            {
                var pw = Phase(rw, g.InW, g.PadW, g.StrideW, g.KW, g.DilW);
                if (pw.Pixels == 0) continue;
                int taps = ph.Taps * pw.Taps;
                var p = new ConvGemmParams
                {
                    M = g.InC, N = g.N * ph.Pixels * pw.Pixels, K = g.OutC * taps,
                    NI = ph.Pixels, NJ = pw.Pixels,
                    SrcH = oh, SrcW = ow, SrcPlane = oh * ow, SrcBatch = g.OutC * oh * ow,
                    RowMul = 1, RowAdd = ph.SrcOrigin, ColMul = 1, ColAdd = pw.SrcOrigin,
                    // A phase without taps has K = 0; any nonzero tap grid keeps the index math free of /0.
                    TapsH = Math.Max(ph.Taps, 1), TapsW = Math.Max(pw.Taps, 1), StepH = -ph.SrcStep, StepW = -pw.SrcStep,
                    AStrideM = g.KH * g.KW, AStrideOuter = g.InC * g.KH * g.KW, AKw = g.KW,
                    Kh0 = ph.Tap0, KhStep = ph.TapStep, Kw0 = pw.Tap0, KwStep = pw.TapStep,
                    OutBatch = g.InC * g.InH * g.InW, OutPlane = g.InH * g.InW, OutW = g.InW,
                    I0 = ph.Pixel0, IStep = g.StrideH, J0 = pw.Pixel0, JStep = g.StrideW,
                };
                p.KPerSplit = p.K;
                launches.Add(ConvGemmLaunch.Of(p, allowTapMajor: true));
            }
        }
        return launches;
    }

    /// <summary>One axis of a stride phase of the data gradient.</summary>
    internal readonly record struct AxisPhase(int Pixel0, int Pixels, int Tap0, int TapStep, int Taps, int SrcOrigin, int SrcStep);

    internal static AxisPhase Phase(int r, int inSize, int pad, int stride, int kernel, int dil)
    {
        int pixel0 = (((r - pad) % stride) + stride) % stride;
        int pixels = pixel0 < inSize ? (inSize - pixel0 + stride - 1) / stride : 0;
        int tapStep = stride / Gcd(stride, dil);
        int tap0 = -1;
        for (int t = 0; t < Math.Min(kernel, tapStep); t++)
            if (t * dil % stride == r) { tap0 = t; break; }
        int taps = tap0 < 0 ? 0 : (kernel - tap0 + tapStep - 1) / tapStep;
        if (tap0 < 0) tap0 = 0;
        // dy row of (pixel i, tap j) = (pixel0 + i*stride + pad - (tap0 + j*tapStep)*dil) / stride = origin + i - j*srcStep (exact).
        int origin = (pixel0 + pad - tap0 * dil) / stride;
        int srcStep = tapStep * dil / stride;
        return new AxisPhase(pixel0, pixels, tap0, tapStep, taps, origin, srcStep);
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// <summary>
    /// dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] x[n,c,p*sh-ph+r*dh, q*sw-pw+s*dw]: M = K, N = C*R*S, K = N*P*Q,
    /// split over grid z into slices of whole BK blocks so that small weight tensors still fill the device;
    /// each slice writes its own partial dw (OutSplit apart), summed afterwards in a fixed order.
    /// </summary>
    public static ConvGemmLaunch BackwardWeight(Conv2dGeometry g, int targetBlocks)
    {
        int oh = g.OutH, ow = g.OutW, taps = g.KH * g.KW;
        var p = new ConvGemmParams
        {
            M = g.OutC, N = g.InC * taps, K = g.N * oh * ow,
            NI = g.KH, NJ = g.KW,
            SrcH = g.InH, SrcW = g.InW, SrcPlane = g.InC * g.InH * g.InW, SrcBatch = g.InH * g.InW,
            RowMul = g.DilH, RowAdd = -g.PadH, ColMul = g.DilW, ColAdd = -g.PadW,
            TapsH = oh, TapsW = ow, StepH = g.StrideH, StepW = g.StrideW,
            AStrideM = oh * ow, AStrideOuter = g.OutC * oh * ow, AKw = ow, Kh0 = 0, KhStep = 1, Kw0 = 0, KwStep = 1,
            OutBatch = taps, OutPlane = g.InC * taps, OutW = g.KW, I0 = 0, IStep = 1, J0 = 0, JStep = 1,
        };
        p.OutSplit = p.M * p.N;
        int tiles = ((p.M + BM - 1) / BM) * ((p.N + BN - 1) / BN);
        int kBlocks = (p.K + BK - 1) / BK;
        // At least 16 BK blocks (128 k) per slice: shorter slices spend more on the prologue and the reduction than they save.
        int splits = Math.Clamp((targetBlocks + tiles - 1) / tiles, 1, Math.Max(1, kBlocks / 16));
        int blocksPerSplit = (kBlocks + splits - 1) / splits;
        p.KPerSplit = blocksPerSplit * BK;
        splits = (p.K + p.KPerSplit - 1) / p.KPerSplit;
        return ConvGemmLaunch.Of(p, splits);
    }
}
