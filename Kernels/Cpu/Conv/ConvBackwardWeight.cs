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
        // The pixel axis runs over all images back to back ("virtual" pixels), so that small images
        // (24x24) still give long dot products: each chunk costs one horizontal sum per tile.
        long total = (long)n * p;
        nint px = (nint)x, pdy = (nint)dy, pdw = (nint)dw;
        ParallelWork.Run(threads, rBlocks * oBlocks, item =>
        {
            int r0 = item / oBlocks * rowBlock, rn = Math.Min(rowBlock, k - r0);
            int o0 = item % oBlocks * oBlock, on = Math.Min(oBlock, outC - o0);
            // dY rows are taken oSub at a time, so a large O does not shorten the chunk. Pixel chunk:
            // the col rows and one dY sub-block together fit in ~512 KB of L2 (up to ~768 KB when
            // that avoids a short last chunk).
            int oSub = Math.Min(on, 16 * tm);
            long fit = Math.Max(vw, 128 * 1024 / (rn + oSub) / vw * vw);
            int chunk = (int)(total <= fit * 3 / 2 ? Packing.RoundUp((int)Math.Min(total, int.MaxValue - vw), vw) : fit);
            float* col = Scratch.Get(Scratch.Slot.Conv, (long)rn * chunk);
            float* dyChunk = Scratch.Get(Scratch.Slot.PackA, (long)oSub * chunk);
            for (long v0 = 0; v0 < total; v0 += chunk)
            {
                int len = (int)Math.Min(chunk, total - v0), padded = Packing.RoundUp(len, vw);
                // Chunks run over image boundaries: handle them one image segment at a time.
                for (int at = 0; at < len;)
                {
                    int img = (int)((v0 + at) / p), p0 = (int)((v0 + at) % p), cnt = Math.Min(len - at, p - p0);
                    float* image = (float*)px + (long)img * s.C * s.InputPlane;
                    for (int r = 0; r < rn; r++) Im2Col.GatherRow(image, s, r0 + r, p0, cnt, col + (long)r * padded + at);
                    at += cnt;
                }
                for (int r = 0; r < rn; r++) Im2Col.Clear(col + (long)r * padded + len, padded - len);

                for (int os = 0; os < on; os += oSub)
                {
                    int osz = Math.Min(oSub, on - os);
                    for (int at = 0; at < len;)
                    {
                        int img = (int)((v0 + at) / p), p0 = (int)((v0 + at) % p), cnt = Math.Min(len - at, p - p0);
                        float* dyImage = (float*)pdy + ((long)img * outC + o0 + os) * p + p0;
                        for (int o = 0; o < osz; o++) Im2Col.Copy(dyImage + (long)o * p, dyChunk + (long)o * padded + at, cnt);
                        at += cnt;
                    }
                    for (int o = 0; o < osz; o++) Im2Col.Clear(dyChunk + (long)o * padded + len, padded - len);

                    // Each tn-row strip of col stays in L1 while the dY tiles stream past it.
                    for (int rj = 0; rj < rn; rj += tn)
                    {
                        int nr = Math.Min(tn, rn - rj);
                        for (int oi = 0; oi < osz; oi += tm)
                        {
                            int mr = Math.Min(tm, osz - oi);
                            DotKernels.Tile(padded, dyChunk + (long)oi * padded, padded, mr, col + (long)rj * padded, padded, nr,
                                (float*)pdw + (long)(o0 + os + oi) * k + r0 + rj, k);
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
