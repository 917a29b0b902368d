using System.Runtime.CompilerServices;
using ILGPU;
using static ILGpuSat.Kernels.Cuda.Conv.ConvTile;

namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>
/// The same GEMM with K ordered tap-major, k = tap * Channels + channel, for when Channels (the "outer"
/// index of K: input channels of the forward pass, output channels of the data gradient) is a multiple of
/// BK. Then every BK slice is one tap and BK consecutive channels, so the window position and its bounds
/// check are computed once per slice, B's eight rows are the same pixel in eight channel planes and A needs
/// no division. Same launch, tiling and epilogue as <see cref="Run"/>; no split-K.
/// </summary>
internal static partial class ConvGemmKernel
{
    [CudaKernel(KernelGrouping.Explicit, MustNotSpill = true)]
    public static void RunTapMajor(ConvGemmParams p, ArrayView<float> a, ArrayView<float> src, ArrayView<float> output,
        ArrayView<float> bias, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> slope)
    {
        var smem = SharedMemory.Allocate<F4>(SharedFloats / 4);
        var smemF = smem.Cast<float>();

        int tid = Group.IdxX;
        int tx = tid & 15, ty = tid >> 4;
        int n0 = Grid.IdxX * BN;
        int m0 = Grid.IdxY * BM;
        var col = BColumn.Of(p, n0 + tid);
        int ka = tid & 7;
        int ma = m0 + (tid >> 3);

        var cur = SliceCursor.Start(p);
        var ra = LoadATap(p, a, ma, ka, cur);
        var rb = LoadBTap(p, src, col, cur);
        cur = cur.Next(p);
        StoreStage(smemF, 0, tid, ra, rb);
        Group.Barrier();

        var acc = default(Tile8x8);
        int stage = 0;
        for (int k0 = 0; k0 < p.K; k0 += BK)
        {
            bool more = k0 + BK < p.K;
            if (more)
            {
                ra = LoadATap(p, a, ma, ka, cur);
                rb = LoadBTap(p, src, col, cur);
                cur = cur.Next(p);
            }
            acc = MultiplySlice(smem, stage, ty, tx, acc);
            stage ^= Stage;
            if (more) StoreStage(smemF, stage, tid, ra, rb);
            Group.Barrier();
        }

        Epilogue(p, output, bias, scale, shift, slope, acc, m0, n0, ty, tx);
    }

    /// <summary>The slice position in tap-major K: first channel, tap (jh, jw), its window displacement and its A offset.</summary>
    private struct SliceCursor
    {
        public int C0, Jh, Jw, Dh, Dw, TapA;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static SliceCursor Start(in ConvGemmParams p)
        {
            SliceCursor c;
            c.C0 = 0; c.Jh = 0; c.Jw = 0; c.Dh = 0; c.Dw = 0;
            c.TapA = p.Kh0 * p.AKw + p.Kw0;
            return c;
        }

        /// <summary>The next BK channels of this tap, or channel 0 of the next tap.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly SliceCursor Next(in ConvGemmParams p)
        {
            SliceCursor c = this;
            c.C0 += BK;
            bool nextTap = c.C0 == p.Channels;
            c.C0 = nextTap ? 0 : c.C0;
            c.Jw += nextTap ? 1 : 0;
            bool nextRow = c.Jw == p.TapsW;
            c.Jw = nextRow ? 0 : c.Jw;
            c.Jh += nextRow ? 1 : 0;
            c.Dh = c.Jh * p.StepH;
            c.Dw = c.Jw * p.StepW;
            c.TapA = (p.Kh0 + c.Jh * p.KhStep) * p.AKw + p.Kw0 + c.Jw * p.KwStep;
            return c;
        }
    }

    /// <summary>A rows ma + 16i at channels C0 + ka of the slice's tap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static F4 LoadATap(in ConvGemmParams p, ArrayView<float> a, int ma, int ka, SliceCursor c)
    {
        int kOff = (c.C0 + ka) * p.AStrideOuter + c.TapA;
        F4 v;
        v.X = LoadMasked(a, ma * p.AStrideM + kOff, ma < p.M);
        v.Y = LoadMasked(a, (ma + 16) * p.AStrideM + kOff, ma + 16 < p.M);
        v.Z = LoadMasked(a, (ma + 32) * p.AStrideM + kOff, ma + 32 < p.M);
        v.W = LoadMasked(a, (ma + 48) * p.AStrideM + kOff, ma + 48 < p.M);
        return v;
    }

    /// <summary>B rows of the slice: one window position (one bounds check) in BK consecutive channel planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Row8 LoadBTap(in ConvGemmParams p, ArrayView<float> src, BColumn col, SliceCursor c)
    {
        int h = col.RowBase + c.Dh;
        int w = col.ColBase + c.Dw;
        bool ok = ((uint)h < (uint)p.SrcH) & ((uint)w < (uint)p.SrcW);
        int off = col.SrcBase + c.C0 * p.SrcPlane + c.Dh * p.SrcW + c.Dw;
        int plane = p.SrcPlane;
        Row8 v;
        v.C0 = LoadMasked(src, off, ok);
        v.C1 = LoadMasked(src, off + plane, ok);
        v.C2 = LoadMasked(src, off + 2 * plane, ok);
        v.C3 = LoadMasked(src, off + 3 * plane, ok);
        v.C4 = LoadMasked(src, off + 4 * plane, ok);
        v.C5 = LoadMasked(src, off + 5 * plane, ok);
        v.C6 = LoadMasked(src, off + 6 * plane, ok);
        v.C7 = LoadMasked(src, off + 7 * plane, ok);
        return v;
    }
}
