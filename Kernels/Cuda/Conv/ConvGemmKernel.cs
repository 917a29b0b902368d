using System.Runtime.CompilerServices;
using ILGPU;
using static ILGpuSat.Kernels.Cuda.Conv.ConvTile;

namespace ILGpuSat.Kernels.Cuda.Conv;

/// <summary>
/// The implicit-GEMM convolution kernel (FP32, SIMT). Launch with <see cref="ConvTile.Config"/>:
/// grid x over ceil(N/BN) column tiles, y over ceil(M/BM) row tiles, z over split-K slices.
///
/// Per slice of BK=8 rows of K each thread fetches 4 elements of A (k = tid%8, rows tid/8 + 16i: eight
/// consecutive k of a row are one 32-byte sector) and 8 elements of B (column tid, k rows 0..7: a warp
/// reads 32 neighbouring output pixels, i.e. mostly contiguous input). B's column position is decoded
/// once per thread; the k walk is a division-free <see cref="TapCursor"/>. Out-of-range loads read
/// index 0 and are masked to zero, so every load is in bounds.
/// </summary>
internal static partial class ConvGemmKernel
{
    [CudaKernel(KernelGrouping.Explicit, MustNotSpill = true)]
    public static void Run(ConvGemmParams p, ArrayView<float> a, ArrayView<float> src, ArrayView<float> output,
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
        int srcBase = col.SrcBase, rowBase = col.RowBase, colBase = col.ColBase;

        // ---- A fetch position of this thread ----
        int ka = tid & 7;
        int ma = m0 + (tid >> 3);

        // Stage 0.
        var cur = TapCursor.At(p, kBegin);
        var ra = LoadA(p, a, ma, kBegin + ka, kEnd);
        var rb = LoadB(p, src, srcBase, rowBase, colBase, cur, kEnd);
        cur = rb.Next;
        StoreStage(smemF, 0, tid, ra, rb.V);
        Group.Barrier();

        var acc = default(Tile8x8);
        int stage = 0;
        for (int k0 = kBegin; k0 < kEnd; k0 += BK)
        {
            bool more = k0 + BK < kEnd;
            if (more)
            {
                ra = LoadA(p, a, ma, k0 + BK + ka, kEnd);
                rb = LoadB(p, src, srcBase, rowBase, colBase, cur, kEnd);
                cur = rb.Next;
            }
            acc = MultiplySlice(smem, stage, ty, tx, acc);
            stage ^= Stage;
            if (more) StoreStage(smemF, stage, tid, ra, rb.V);
            Group.Barrier();
        }

        Epilogue(p, output, bias, scale, shift, slope, acc, m0, n0, ty, tx);
    }

    /// <summary>Where B column n (fixed over K for a thread) reads its source window.</summary>
    private struct BColumn
    {
        public int SrcBase, RowBase, ColBase;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static BColumn Of(in ConvGemmParams p, int n)
        {
            int nb = n / (p.NI * p.NJ);
            int nr = n - nb * (p.NI * p.NJ);
            int ni = nr / p.NJ;
            int nj = nr - ni * p.NJ;
            BColumn c;
            c.RowBase = ni * p.RowMul + p.RowAdd;
            c.ColBase = nj * p.ColMul + p.ColAdd;
            // A column past N gets a window far outside the source, so that every tap reads as zero.
            if (n >= p.N) c.RowBase = -(1 << 29);
            c.SrcBase = nb * p.SrcBatch + c.RowBase * p.SrcW + c.ColBase;
            return c;
        }
    }

    /// <summary>4 elements of A: row ma + 16i, column k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static F4 LoadA(in ConvGemmParams p, ArrayView<float> a, int ma, int k, int kEnd)
    {
        int taps = p.TapsH * p.TapsW;
        int outer = k / taps;
        int r = k - outer * taps;
        int kOff = outer * p.AStrideOuter + r;
        if (p.AContiguous == 0)
        {
            // Strided taps (data gradient of a strided conv): the row offset needs (jh, jw).
            int jh = r / p.TapsW;
            int jw = r - jh * p.TapsW;
            kOff = outer * p.AStrideOuter + (p.Kh0 + jh * p.KhStep) * p.AKw + p.Kw0 + jw * p.KwStep;
        }
        bool kOk = k < kEnd;
        F4 v;
        v.X = LoadMasked(a, ma * p.AStrideM + kOff, kOk & ma < p.M);
        v.Y = LoadMasked(a, (ma + 16) * p.AStrideM + kOff, kOk & ma + 16 < p.M);
        v.Z = LoadMasked(a, (ma + 32) * p.AStrideM + kOff, kOk & ma + 32 < p.M);
        v.W = LoadMasked(a, (ma + 48) * p.AStrideM + kOff, kOk & ma + 48 < p.M);
        return v;
    }

    /// <summary>8 k rows of B and the cursor of the row after them.</summary>
    private struct BSlice
    {
        public Row8 V;
        public TapCursor Next;
    }

    /// <summary>8 consecutive k rows of B for this thread's column, starting at the cursor.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static BSlice LoadB(in ConvGemmParams p, ArrayView<float> src, int srcBase, int rowBase, int colBase, TapCursor c, int kEnd)
    {
        BSlice s;
        s.V.C0 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C1 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C2 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C3 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C4 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C5 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C6 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.V.C7 = Gather(p, src, srcBase, rowBase, colBase, c, kEnd); c = c.Next(p);
        s.Next = c;
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Gather(in ConvGemmParams p, ArrayView<float> src, int srcBase, int rowBase, int colBase, TapCursor c, int kEnd)
    {
        int h = rowBase + c.Dh;
        int w = colBase + c.Dw;
        bool ok = (c.K < kEnd) & ((uint)h < (uint)p.SrcH) & ((uint)w < (uint)p.SrcW); // & not &&: no branches
        return LoadMasked(src, srcBase + c.Off, ok);
    }

    /// <summary>Reads index 0 instead of an out-of-range index (so the load is always legal) and returns 0 for it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LoadMasked(ArrayView<float> view, int index, bool ok, float otherwise = 0f)
    {
        float v = view[ok ? index : 0];
        return ok ? v : otherwise;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreStage(ArrayView<float> smem, int stage, int tid, F4 ra, Row8 rb)
    {
        int a = stage + (tid & 7) * LdA + (tid >> 3);
        smem[a] = ra.X;
        smem[a + 16] = ra.Y;
        smem[a + 32] = ra.Z;
        smem[a + 48] = ra.W;
        int b = stage + ASlice + tid;
        smem[b] = rb.C0;
        smem[b + LdB] = rb.C1;
        smem[b + 2 * LdB] = rb.C2;
        smem[b + 3 * LdB] = rb.C3;
        smem[b + 4 * LdB] = rb.C4;
        smem[b + 5 * LdB] = rb.C5;
        smem[b + 6 * LdB] = rb.C6;
        smem[b + 7 * LdB] = rb.C7;
    }

    // ---- epilogue ----------------------------------------------------------------------------

    /// <summary>Output offsets (without the row term) of a thread's 8 columns; -1 for a column past N.</summary>
    private struct Cols8
    {
        public int O0, O1, O2, O3, O4, O5, O6, O7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ColumnOffset(in ConvGemmParams p, int n)
    {
        int nb = n / (p.NI * p.NJ);
        int r = n - nb * (p.NI * p.NJ);
        int i = r / p.NJ;
        int j = r - i * p.NJ;
        int o = Grid.IdxZ * p.OutSplit + nb * p.OutBatch + (p.I0 + i * p.IStep) * p.OutW + p.J0 + j * p.JStep;
        return n < p.N ? o : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Epilogue(in ConvGemmParams p, ArrayView<float> output,
        ArrayView<float> bias, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> slope,
        Tile8x8 acc, int m0, int n0, int ty, int tx)
    {
        Cols8 c;
        int nc = n0 + tx * 4;
        c.O0 = ColumnOffset(p, nc);
        c.O1 = ColumnOffset(p, nc + 1);
        c.O2 = ColumnOffset(p, nc + 2);
        c.O3 = ColumnOffset(p, nc + 3);
        c.O4 = ColumnOffset(p, nc + 64);
        c.O5 = ColumnOffset(p, nc + 65);
        c.O6 = ColumnOffset(p, nc + 66);
        c.O7 = ColumnOffset(p, nc + 67);
        int mr = m0 + ty * 4;
        StoreRow(p, output, bias, scale, shift, slope, c, mr, acc.R0);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 1, acc.R1);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 2, acc.R2);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 3, acc.R3);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 32, acc.R4);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 33, acc.R5);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 34, acc.R6);
        StoreRow(p, output, bias, scale, shift, slope, c, mr + 35, acc.R7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(in ConvGemmParams p, ArrayView<float> output,
        ArrayView<float> bias, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> slope,
        Cols8 c, int m, Row8 v)
    {
        if (m >= p.M) return;
        // Dummy views (when a term is absent) hold one element; index 0 keeps the read legal.
        float sc = LoadMasked(scale, m, p.HasScale != 0, 1f);
        float t = LoadMasked(shift, m, p.HasShift != 0, 0f);
        float sh = LoadMasked(bias, m, p.HasBias != 0, 0f) * sc + t;
        float sl = p.PreluMode == 3 ? p.Slope : LoadMasked(slope, p.PreluMode == 2 ? m : 0, p.PreluMode == 1 | p.PreluMode == 2, 1f);
        // The rectifier acts on the side of th given by dir: th = 0, dir = 1 is PReLU; ClampAtShift writes
        // relu(v)*sc + t as v*sc + t clamped at t (from below when sc >= 0, from above when sc < 0).
        float th = p.ClampAtShift != 0 ? t : 0f;
        float dir = p.ClampAtShift != 0 & sc < 0f ? -1f : 1f;
        sl = p.ClampAtShift != 0 ? 0f : sl;
        int rowOff = m * p.OutPlane;
        if (p.OutVec4 != 0)
        {
            // Columns tx*4..+3 (and 64+tx*4..+3) are four neighbouring, 16-byte aligned outputs: one
            // vector store each, so a half-warp writes 256 contiguous bytes.
            var out4 = output.Cast<F4>();
            if (c.O0 >= 0) out4[(c.O0 + rowOff) >> 2] = Activate(v.C0, v.C1, v.C2, v.C3, sc, sh, sl, th, dir);
            if (c.O4 >= 0) out4[(c.O4 + rowOff) >> 2] = Activate(v.C4, v.C5, v.C6, v.C7, sc, sh, sl, th, dir);
            return;
        }
        Store(output, c.O0, rowOff, v.C0 * sc + sh, sl, th, dir);
        Store(output, c.O1, rowOff, v.C1 * sc + sh, sl, th, dir);
        Store(output, c.O2, rowOff, v.C2 * sc + sh, sl, th, dir);
        Store(output, c.O3, rowOff, v.C3 * sc + sh, sl, th, dir);
        Store(output, c.O4, rowOff, v.C4 * sc + sh, sl, th, dir);
        Store(output, c.O5, rowOff, v.C5 * sc + sh, sl, th, dir);
        Store(output, c.O6, rowOff, v.C6 * sc + sh, sl, th, dir);
        Store(output, c.O7, rowOff, v.C7 * sc + sh, sl, th, dir);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static F4 Activate(float x, float y, float z, float w, float scale, float shift, float slope, float th, float dir)
    {
        F4 r;
        r.X = Rectify(x * scale + shift, slope, th, dir);
        r.Y = Rectify(y * scale + shift, slope, th, dir);
        r.Z = Rectify(z * scale + shift, slope, th, dir);
        r.W = Rectify(w * scale + shift, slope, th, dir);
        return r;
    }

    /// <summary>v on the kept side of th (dir * (v - th) &gt;= 0), else th + slope * (v - th); slope 1 is the identity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Rectify(float v, float slope, float th, float dir)
    {
        float d = v - th;
        return d * dir < 0f ? th + d * slope : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ArrayView<float> output, int colOff, int rowOff, float v, float slope, float th, float dir)
    {
        if (colOff >= 0) output[colOff + rowOff] = Rectify(v, slope, th, dir);
    }
}
