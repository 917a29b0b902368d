using System.Buffers;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// dx of a convolution (= the transposed convolution). Stride 1: dx is a forward convolution of
/// dy with the flipped, IO-swapped weight, so it runs as implicit GEMM with no scatter at all.
/// Strided and undilated: one such convolution per stride phase (<see cref="SubPixelBackwardData"/>).
/// Strided and dilated: col = W^T (C*KH*KW x O) * dY[n] (O x OH*OW) in L2-sized pixel chunks, each
/// chunk scattered (col2im) into dx. Work items own whole input channels of one image, so the
/// scatter-adds of different threads never touch the same dx element.
/// </summary>
internal static unsafe class ConvBackwardData
{
    public static void Run(float* dy, float* w, in Conv2dGeometry g, float* dx, int threads)
    {
        if (g.StrideH == 1 && g.StrideW == 1) AsForward(dy, w, g, dx, threads);
        else if (SubPixelBackwardData.Applies(g)) SubPixelBackwardData.Run(dy, w, g, dx, threads);
        else GemmCol2Im(dy, w, g, dx, threads);
    }

    private static void AsForward(float* dy, float* w, in Conv2dGeometry g, float* dx, int threads)
    {
        int taps = g.KH * g.KW, kk = g.OutC * taps;
        long size = (long)g.InC * kk;
        float[] flippedArray = ArrayPool<float>.Shared.Rent((int)size);
        try
        {
            fixed (float* flipped = flippedArray)
            {
                // flipped[c, o, t] = w[o, c, taps-1-t]: a C x (O*KH*KW) row-major weight.
                for (int o = 0; o < g.OutC; o++)
                    for (int c = 0; c < g.InC; c++)
                    {
                        float* src = w + ((long)o * g.InC + c) * taps;
                        float* dst = flipped + (long)c * kk + (long)o * taps;
                        for (int t = 0; t < taps; t++) dst[t] = src[taps - 1 - t];
                    }
                ConvForward.Run(dy, flipped, null, ConvShape.BackwardDataAsForward(g), g.N, g.InC, dx, threads);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(flippedArray);
        }
    }

    private static void GemmCol2Im(float* dy, float* w, Conv2dGeometry g, float* dx, int threads)
    {
        var mk = MicroKernel.Best;
        var s = ConvShape.Forward(g);
        int taps = s.Taps, k = s.K, p = s.P, outC = g.OutC, n = g.N;
        // Channels per work item: about 256 col rows, but enough items for every thread.
        int group = Math.Clamp(256 / taps, 1, g.InC);
        while (group > 1 && (long)n * ((g.InC + group - 1) / group) < 2L * threads) group = (group + 1) / 2;
        int groups = (g.InC + group - 1) / group;
        nint pdy = (nint)dy, pw = (nint)w, pdx = (nint)dx;
        ParallelWork.Run(threads, n * groups, item =>
        {
            int img = item / groups, c0 = item % groups * group, cn = Math.Min(group, g.InC - c0);
            int rows = cn * taps, row0 = c0 * taps;
            float* image = (float*)pdx + (long)img * s.C * s.InputPlane;
            new Span<float>(image + (long)c0 * s.InputPlane, cn * s.InputPlane).Clear();

            // A = W^T restricted to this item's rows: A(r, o) = w[o*k + row0 + r].
            float* packedA = Scratch.Get(Scratch.Slot.PackA, Packing.PackedASize(rows, outC, mk.MR));
            Packing.PackAAll(packedA, (float*)pw + row0, 1, k, rows, outC, mk.MR, GemmCore.KC);

            // Pixel chunk whose col block (rows x chunk) stays in L2 for the scatter.
            int chunk = Math.Clamp(Packing.RoundUp(96 * 1024 / rows, mk.NR), mk.NR, Packing.RoundUp(p, mk.NR));
            float* col = Scratch.Get(Scratch.Slot.Conv, (long)rows * chunk);
            float* dyImage = (float*)pdy + (long)img * outC * p;
            for (int j0 = 0; j0 < p; j0 += chunk)
            {
                int nc = Math.Min(chunk, p - j0);
                var b = new StridedB(dyImage + j0, p, 1);
                GemmCore.GemmPackedA(mk, rows, nc, outC, packedA, ref b, col, nc, false, null);
                for (int r = 0; r < rows; r++)
                    Im2Col.ScatterAddRow(image, s, row0 + r, j0, nc, col + (long)r * nc);
            }
        });
    }
}
