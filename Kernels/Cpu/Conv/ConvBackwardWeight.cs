using System.Runtime.Intrinsics;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// dW (O x C*KH*KW) = sum over images of dY[n] (O x OH*OW) * col(X[n])^T. Work items own a block
/// of col rows (= columns of dW), so threads write disjoint parts of dW and no reduction is needed;
/// each item gathers its col rows chunk by chunk into an L2-sized buffer.
/// </summary>
internal static unsafe class ConvBackwardWeight
{
    public static void Run(float* x, float* dy, Conv2dGeometry g, float* dw, float* dbias, int threads)
    {
        var mk = MicroKernel.Best;
        var s = ConvShape.Forward(g);
        int k = s.K, p = s.P, outC = g.OutC, n = g.N;
        int rowBlock = Math.Min(k, 4 * mk.NR);
        while (rowBlock > mk.NR && (k + rowBlock - 1) / rowBlock < 2 * threads) rowBlock = Math.Max(mk.NR, rowBlock / 2);
        int blocks = (k + rowBlock - 1) / rowBlock;
        nint px = (nint)x, pdy = (nint)dy, pdw = (nint)dw;
        ParallelWork.Run(threads, blocks, item =>
        {
            int r0 = item * rowBlock, rn = Math.Min(rowBlock, k - r0);
            int chunk = Math.Min(Math.Max(64 * 1024 / rn, 16), p);
            float* col = Scratch.Get(Scratch.Slot.Conv, (long)rn * chunk);
            float* packedA = Scratch.Get(Scratch.Slot.PackA, Packing.PackedASize(outC, chunk, mk.MR));
            bool first = true;
            for (int img = 0; img < n; img++)
            {
                float* image = (float*)px + (long)img * s.C * s.InputPlane;
                float* dyImage = (float*)pdy + (long)img * outC * p;
                for (int j0 = 0; j0 < p; j0 += chunk)
                {
                    int pc = Math.Min(chunk, p - j0);
                    for (int r = 0; r < rn; r++) Im2Col.GatherRow(image, s, r0 + r, j0, pc, col + (long)r * pc);
                    Packing.PackAAll(packedA, dyImage + j0, p, 1, outC, pc, mk.MR, GemmCore.KC);
                    var b = new StridedB(col, 1, pc);
                    GemmCore.GemmPackedA(mk, outC, rn, pc, packedA, ref b, (float*)pdw + r0, k, !first, null);
                    first = false;
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
