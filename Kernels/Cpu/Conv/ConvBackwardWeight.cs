using System.Runtime.Intrinsics;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// dW (O x C*KH*KW) = sum over images of dY[n] (O x OH*OW) * col(X[n])^T, as tiles of dot products
/// along the pixel axis (<see cref="DotKernels"/>). Work items own a block of col rows (columns of
/// dW) and a block of output channels, so threads write disjoint parts of dW and need no
/// reduction; each item gathers its col rows one L2-sized pixel chunk at a time.
/// </summary>
internal static unsafe class ConvBackwardWeight
{
    public static void Run(float* x, float* dy, Conv2dGeometry g, float* dw, float* dbias, int threads)
    {
        var s = ConvShape.Forward(g);
        int k = s.K, p = s.P, outC = g.OutC, n = g.N;
        int tm = DotKernels.TileM, tn = DotKernels.TileN, vw = DotKernels.Width;

        // Row blocks of ~16 tiles; split rows, then output channels, until every thread has two items.
        int rowBlock = Math.Min(k, 16 * tn);
        while (rowBlock > tn && (k + rowBlock - 1) / rowBlock < 2 * threads) rowBlock = Packing.RoundUp(rowBlock / 2, tn);
        int rBlocks = (k + rowBlock - 1) / rowBlock;
        int oBlock = outC;
        while (oBlock > tm && rBlocks * ((outC + oBlock - 1) / oBlock) < 2 * threads) oBlock = Packing.RoundUp(oBlock / 2, tm);
        int oBlocks = (outC + oBlock - 1) / oBlock;

        new Span<float>(dw, (int)g.WeightLength).Clear();
        bool dyAligned = p % vw == 0; // then dY rows are read in place; otherwise copied with zero tails
        nint px = (nint)x, pdy = (nint)dy, pdw = (nint)dw;
        ParallelWork.Run(threads, rBlocks * oBlocks, item =>
        {
            int r0 = item / oBlocks * rowBlock, rn = Math.Min(rowBlock, k - r0);
            int o0 = item % oBlocks * oBlock, on = Math.Min(oBlock, outC - o0);
            // Pixel chunk: the col rows and dY rows of one chunk together fit in ~512 KB of L2.
            int chunk = Math.Min(Math.Max(vw, 128 * 1024 / (rn + on) / vw * vw), Packing.RoundUp(p, vw));
            float* col = Scratch.Get(Scratch.Slot.Conv, (long)rn * chunk);
            float* dyCopy = dyAligned ? null : Scratch.Get(Scratch.Slot.PackA, (long)on * chunk);
            for (int img = 0; img < n; img++)
            {
                float* image = (float*)px + (long)img * s.C * s.InputPlane;
                float* dyImage = (float*)pdy + ((long)img * outC + o0) * p;
                for (int j0 = 0; j0 < p; j0 += chunk)
                {
                    int pc = Math.Min(chunk, p - j0), len = Packing.RoundUp(pc, vw);
                    for (int r = 0; r < rn; r++)
                    {
                        float* dst = col + (long)r * len;
                        Im2Col.GatherRow(image, s, r0 + r, j0, pc, dst);
                        Im2Col.Clear(dst + pc, len - pc);
                    }
                    float* a = dyImage + j0;
                    nint lda = p;
                    if (!dyAligned)
                    {
                        for (int o = 0; o < on; o++)
                        {
                            Im2Col.Copy(dyImage + (long)o * p + j0, dyCopy + (long)o * len, pc);
                            Im2Col.Clear(dyCopy + (long)o * len + pc, len - pc);
                        }
                        a = dyCopy;
                        lda = len;
                    }
                    // Each tn-row strip of col stays in L1 while all the dY tiles stream past it.
                    for (int rj = 0; rj < rn; rj += tn)
                    {
                        int nr = Math.Min(tn, rn - rj);
                        for (int oi = 0; oi < on; oi += tm)
                        {
                            int mr = Math.Min(tm, on - oi);
                            DotKernels.Tile(len, a + oi * lda, lda, mr, col + (long)rj * len, len, nr,
                                (float*)pdw + (long)(o0 + oi) * k + r0 + rj, k);
                        }
                    }
                }
            }
        });
        if (dbias != null) ChannelSums(dy, n, outC, p, dbias);
    }

    /// <summary>dbias[o] = sum over images and pixels of dy[n, o, :].</summary>
    private static void ChannelSums(float* dy, int n, int outC, int p, float* dbias)
    {
        for (int o = 0; o < outC; o++)
        {
            double total = 0;
            for (int img = 0; img < n; img++)
            {
                float* src = dy + ((long)img * outC + o) * p;
                var acc = Vector256<float>.Zero;
                int i = 0;
                for (; i <= p - 8; i += 8) acc += Vector256.Load(src + i);
                float sum = Vector256.Sum(acc);
                for (; i < p; i++) sum += src[i];
                total += sum;
            }
            dbias[o] = (float)total;
        }
    }
}
