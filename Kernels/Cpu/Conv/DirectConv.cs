using System.Buffers;
using System.Runtime.InteropServices;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>Receives finished output rows of a <see cref="DirectConv"/>.</summary>
internal unsafe interface IConvRowSink
{
    /// <summary>
    /// Output row segment (oh, ow0 .. ow0+run) of image img for all channels: channel o's values
    /// are src[o * ldSrc + i].
    /// </summary>
    void Write(int img, int oh, int ow0, int run, float* src, nint ldSrc);
}

/// <summary>
/// Stride-1 convolution as a GEMM that reads B straight from a zero-padded copy of the input,
/// with no packing and no im2col. On the padded grid (Hp x Wp) output pixel (oh, ow) and tap
/// (c, kh, kw) read padded[c, oh + kh*DH, ow + kw*DW], so with "wide" column index j = oh*Wp + ow
/// every row k of B is the contiguous run padded[offset(k) + j]. The wide columns with ow &gt;= OW
/// are computed and thrown away (a (Wp - OW) / Wp overhead: 2% at 96x96, 8% at 24x24), which
/// is far cheaper than packing B when the output has few channels (each packed element would
/// be used by only O rows).
/// </summary>
internal static unsafe class DirectConv
{
    public static bool Applies(in ConvShape s) => s.SH == 1 && s.SW == 1;

    /// <summary>
    /// Convolves n images x (s.C x s.H x s.W) with a weight already packed as GEMM A
    /// (m x s.K, <see cref="Packing.PackAAll"/> with <see cref="GemmCore.KC"/>) and hands every
    /// finished output row segment to the sink.
    /// </summary>
    public static void Run<TSink>(float* x, int n, ConvShape s, float* packedA, int m, TSink sink, int threads)
        where TSink : struct, IConvRowSink
    {
        int hp = s.OH + (s.KH - 1) * s.DH, wp = s.OW + (s.KW - 1) * s.DW;
        using var padded = new PaddedInput(x, n, s.C, s.H, s.W, s.PH, s.PW, hp, wp, threads);
        Compute(padded, 0, 0, s, packedA, m, sink, threads);
    }

    /// <summary>
    /// The GEMM part on an input padded beforehand: output (oh, ow) with tap (kh, kw) reads padded
    /// row rowOrigin + oh + kh*DH, column colOrigin + ow + kw*DW. Several convolutions can share
    /// one padded copy through different origins (the stride phases of a transposed convolution).
    /// </summary>
    public static void Compute<TSink>(PaddedInput padded, int rowOrigin, int colOrigin, ConvShape s, float* packedA, int m, TSink sink, int threads)
        where TSink : struct, IConvRowSink
    {
        var mk = MicroKernel.Best;
        int mr = mk.MR, nr = mk.NR, k = s.K, mPad = Packing.RoundUp(m, mr), n = padded.N, wp = padded.Wp;
        if (rowOrigin + s.OH + (s.KH - 1) * s.DH > padded.Hp || colOrigin + s.OW + (s.KW - 1) * s.DW > wp)
            throw new InvalidOperationException($"cpu conv2d: a {s.OH}x{s.OW} output with a {s.KH}x{s.KW} kernel does not fit the padded {padded.Hp}x{wp} input at ({rowOrigin},{colOrigin}).");
        int wide = (s.OH - 1) * wp + s.OW;

        // Wide-column blocks: at most GemmCore.NC, evened out, enough items for every thread.
        int count = Math.Max((wide + GemmCore.NC - 1) / GemmCore.NC, (2 * threads + n - 1) / n);
        int block = Math.Max(nr, Packing.RoundUp((wide + count - 1) / count, nr));
        int blocks = (wide + block - 1) / block;

        int[] offsetArray = ArrayPool<int>.Shared.Rent(Math.Max(1, k));
        try
        {
            fixed (int* offsets = offsetArray)
            {
                long origin = (long)rowOrigin * wp + colOrigin;
                for (int c = 0, r = 0; c < s.C; c++)
                    for (int kh = 0; kh < s.KH; kh++)
                        for (int kw = 0; kw < s.KW; kw++)
                            offsets[r++] = (int)(origin + c * padded.Plane + (long)kh * s.DH * wp + kw * s.DW);

                nint pPadded = (nint)padded.Data, pA = (nint)packedA, pOff = (nint)offsets;
                long imageStride = padded.ImageStride;
                ParallelWork.Run(threads, n * blocks, item =>
                {
                    int img = item / blocks, j0 = item % blocks * block, nc = Math.Min(block, wide - j0);
                    int ldt = Packing.RoundUp(nc, nr);
                    // Whole tiles only: the result block is padded to MR rows and NR columns.
                    float* result = Scratch.Get(Scratch.Slot.Conv, (long)mPad * ldt);
                    float* image = (float*)pPadded + img * imageStride + j0;
                    for (int k0 = 0; k0 < k; k0 += GemmCore.KC)
                    {
                        int kc = Math.Min(GemmCore.KC, k - k0);
                        float* blockA = (float*)pA + (long)k0 * mPad;
                        int* blockOffsets = (int*)pOff + k0;
                        for (int ir = 0; ir < mPad; ir += mr)
                            for (int jr = 0; jr < nc; jr += nr)
                                mk.RunIndirect(kc, blockA + (long)ir * kc, blockOffsets, image + jr, result + (long)ir * ldt + jr, ldt, k0 > 0);
                    }
                    if (k == 0) new Span<float>(result, (int)(mPad * ldt)).Clear();

                    // Hand over the valid part (ow < OW) of each wide row in the block.
                    for (int j = j0; j < j0 + nc;)
                    {
                        int oh = j / wp, ow = j - oh * wp, run = Math.Min(j0 + nc - j, wp - ow);
                        if (ow < s.OW) sink.Write(img, oh, ow, Math.Min(run, s.OW - ow), result + (j - j0), ldt);
                        j += run;
                    }
                });
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsetArray);
        }
    }
}

/// <summary>
/// n images of C planes copied into zero-padded hp x wp planes (pinned, pooled):
/// padded[r, q] = x[r - padTop, q - padLeft] inside the input, 0 outside (negative padding crops).
/// Each image is followed by zero slack, because the last tiles of a wide row read up to a row
/// plus NR floats past the last plane.
/// </summary>
internal sealed unsafe class PaddedInput : IDisposable
{
    private readonly float[] _array;
    private GCHandle _pin;

    public int N { get; }
    public int Hp { get; }
    public int Wp { get; }
    public long Plane { get; }
    public long ImageStride { get; }
    public float* Data { get; }

    public PaddedInput(float* x, int n, int c, int h, int w, int padTop, int padLeft, int hp, int wp, int threads)
    {
        N = n;
        Hp = hp;
        Wp = wp;
        Plane = (long)hp * wp;
        ImageStride = c * Plane + wp + MicroKernel.Best.NR + 16;
        if ((long)n * ImageStride > Array.MaxLength - 16 || c * Plane > int.MaxValue / 2)
            throw new ArgumentException($"cpu conv2d: padded input of {n} x {c} x {hp} x {wp} floats is too large.");
        _array = ArrayPool<float>.Shared.Rent((int)(n * ImageStride) + 16);
        _pin = GCHandle.Alloc(_array, GCHandleType.Pinned);
        float* raw = (float*)_pin.AddrOfPinnedObject();
        Data = (float*)(((nint)raw + 63) & ~(nint)63);

        nint px = (nint)x, pd = (nint)Data;
        long plane = Plane, stride = ImageStride;
        ParallelWork.Run(threads, n * c, item =>
        {
            int img = item / c, ch = item % c;
            float* dst = (float*)pd + img * stride + ch * plane;
            PadPlane((float*)px + (long)item * h * w, h, w, padTop, padLeft, hp, wp, dst);
            if (ch == c - 1) Im2Col.Clear(dst + plane, (int)(stride - c * plane));
        });
    }

    public void Dispose()
    {
        if (!_pin.IsAllocated) return;
        _pin.Free();
        ArrayPool<float>.Shared.Return(_array);
    }

    private static void PadPlane(float* x, int h, int w, int padTop, int padLeft, int hp, int wp, float* padded)
    {
        int q0 = Math.Clamp(padLeft, 0, wp), q1 = Math.Clamp(padLeft + w, q0, wp);
        for (int r = 0; r < hp; r++)
        {
            float* dst = padded + (long)r * wp;
            int row = r - padTop;
            if ((uint)row >= (uint)h)
            {
                Im2Col.Clear(dst, wp);
                continue;
            }
            Im2Col.Clear(dst, q0);
            Im2Col.Copy(x + (long)row * w + (q0 - padLeft), dst + q0, q1 - q0);
            Im2Col.Clear(dst + q1, wp - q1);
        }
    }
}

/// <summary>Forward output: y[img, o, oh, ow] = epilogue(result + bias[o]), applied to each row segment as it is copied out.</summary>
internal readonly unsafe struct ConvOutputSink<TEpilogue>(float* y, int outC, int oh, int ow, float* bias, TEpilogue epilogue) : IConvRowSink
    where TEpilogue : struct, IRowEpilogue
{
    public void Write(int img, int row, int ow0, int run, float* src, nint ldSrc)
    {
        for (int o = 0; o < outC; o++)
        {
            float* dst = y + (((long)img * outC + o) * oh + row) * ow + ow0;
            if (bias == null) Im2Col.Copy(src + o * ldSrc, dst, run);
            else Im2Col.CopyPlus(src + o * ldSrc, bias[o], dst, run);
            epilogue.Apply(o, dst, run);
        }
    }
}
