using System.Runtime.CompilerServices;
using ILGPU;
using static ILGpuSat.Kernels.Cuda.Conv.ConvTile;

namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>
/// The same GEMM for when the innermost K index runs over a multiple of BK (TapsW % BK == 0): the weight
/// gradient of layers whose output width is a multiple of 8, where K walks output pixels. Every BK slice
/// is then BK neighbouring pixels of one output row, so the row and its bounds check are computed once per
/// slice, the column steps by StepW and A (dy) is 8 contiguous floats per row. Supports split-K
/// (KPerSplit a multiple of BK); same tiling and epilogue as <see cref="Run"/>.
/// </summary>
internal static partial class ConvGemmKernel
{
    [CudaKernel(KernelGrouping.Explicit, MustNotSpill = true)]
    public static void RunRowSlice(ConvGemmParams p, ArrayView<float> a, ArrayView<float> src, ArrayView<float> output,
        ArrayView<float> bias, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> slope)
    {
        var smem = SharedMemory.Allocate<F4>(SharedFloats / 4);
        var smemF = smem.Cast<float>();

        int tid = Group.IdxX;
        int tx = tid & 15, ty = tid >> 4;
        int n0 = Grid.IdxX * BN;
        int m0 = Grid.IdxY * BM;
        int kBegin = Grid.IdxZ * p.KPerSplit;
        int kEnd = Math.Min(p.K, kBegin + p.KPerSplit);
        var col = BColumn.Of(p, n0 + tid);
        int ka = tid & 7;
        int ma = m0 + (tid >> 3);

        var cur = RowCursor.At(p, kBegin);
        var ra = LoadARow(p, a, ma, ka, cur);
        var rb = LoadBRow(p, src, col, cur);
        cur = cur.Next(p);
        StoreStage(smemF, 0, tid, ra, rb);
        Group.Barrier();

        var acc = default(Tile8x8);
        int stage = 0;
        for (int k0 = kBegin; k0 < kEnd; k0 += BK)
        {
            bool more = k0 + BK < kEnd;
            if (more)
            {
                ra = LoadARow(p, a, ma, ka, cur);
                rb = LoadBRow(p, src, col, cur);
                cur = cur.Next(p);
            }
            acc = MultiplySlice(smem, stage, ty, tx, acc);
            stage ^= Stage;
            if (more) StoreStage(smemF, stage, tid, ra, rb);
            Group.Barrier();
        }

        Epilogue(p, output, bias, scale, shift, slope, acc, m0, n0, ty, tx);
    }

    /// <summary>The slice position: outer index, row jh and first column jw0 (a multiple of BK) of K.</summary>
    private struct RowCursor
    {
        public int Outer, Jh, Jw0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static RowCursor At(in ConvGemmParams p, int k)
        {
            int taps = p.TapsH * p.TapsW;
            RowCursor c;
            c.Outer = k / taps;
            int r = k - c.Outer * taps;
            c.Jh = r / p.TapsW;
            c.Jw0 = r - c.Jh * p.TapsW;
            return c;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly RowCursor Next(in ConvGemmParams p)
        {
            RowCursor c = this;
            c.Jw0 += BK;
            bool nextRow = c.Jw0 == p.TapsW;
            c.Jw0 = nextRow ? 0 : c.Jw0;
            c.Jh += nextRow ? 1 : 0;
            bool nextOuter = c.Jh == p.TapsH;
            c.Jh = nextOuter ? 0 : c.Jh;
            c.Outer += nextOuter ? 1 : 0;
            return c;
        }
    }

    /// <summary>A rows ma + 16i at k = (Outer, Jh, Jw0 + ka).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static F4 LoadARow(in ConvGemmParams p, ArrayView<float> a, int ma, int ka, RowCursor c)
    {
        int kOff = c.Outer * p.AStrideOuter + (p.Kh0 + c.Jh * p.KhStep) * p.AKw + p.Kw0 + (c.Jw0 + ka) * p.KwStep;
        F4 v;
        v.X = LoadMasked(a, ma * p.AStrideM + kOff, ma < p.M);
        v.Y = LoadMasked(a, (ma + 16) * p.AStrideM + kOff, ma + 16 < p.M);
        v.Z = LoadMasked(a, (ma + 32) * p.AStrideM + kOff, ma + 32 < p.M);
        v.W = LoadMasked(a, (ma + 48) * p.AStrideM + kOff, ma + 48 < p.M);
        return v;
    }

    /// <summary>B rows of the slice: one source row (one row bounds check), BK columns StepW apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Row8 LoadBRow(in ConvGemmParams p, ArrayView<float> src, BColumn col, RowCursor c)
    {
        int dh = c.Jh * p.StepH;
        int dw = c.Jw0 * p.StepW;
        bool rowOk = (uint)(col.RowBase + dh) < (uint)p.SrcH;
        int w = col.ColBase + dw;
        int off = col.SrcBase + c.Outer * p.SrcPlane + dh * p.SrcW + dw;
        int s = p.StepW;
        Row8 v;
        v.C0 = LoadMasked(src, off, rowOk & ((uint)w < (uint)p.SrcW));
        v.C1 = LoadMasked(src, off + s, rowOk & ((uint)(w + s) < (uint)p.SrcW));
        v.C2 = LoadMasked(src, off + 2 * s, rowOk & ((uint)(w + 2 * s) < (uint)p.SrcW));
        v.C3 = LoadMasked(src, off + 3 * s, rowOk & ((uint)(w + 3 * s) < (uint)p.SrcW));
        v.C4 = LoadMasked(src, off + 4 * s, rowOk & ((uint)(w + 4 * s) < (uint)p.SrcW));
        v.C5 = LoadMasked(src, off + 5 * s, rowOk & ((uint)(w + 5 * s) < (uint)p.SrcW));
        v.C6 = LoadMasked(src, off + 6 * s, rowOk & ((uint)(w + 6 * s) < (uint)p.SrcW));
        v.C7 = LoadMasked(src, off + 7 * s, rowOk & ((uint)(w + 7 * s) < (uint)p.SrcW));
        return v;
    }
}
