using System.Buffers;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// Forward convolution as one GEMM per image, Y[n] (O x OH*OW) = W (O x C*KH*KW) * col(X[n]).
/// W is packed once per call and shared by all threads. Stride 1 runs as <see cref="DirectConv"/>
/// (B read in place from a padded input); other strides gather the im2col columns straight into
/// packed B panels (implicit GEMM: no im2col buffer), with work items (image, block of output
/// pixels) so that threads write disjoint parts of Y.
/// </summary>
internal static unsafe class ConvForward
{
    /// <summary>y = conv(x, w) + bias for n images; w is O x s.K row-major (OIHW).</summary>
    public static void Run(float* x, float* w, float* bias, in ConvShape s, int n, int outC, float* y, int threads)
        => Run(x, w, bias, s, n, outC, y, threads, default(NoEpilogue));

    /// <summary>
    /// y = epilogue(conv(x, w) + bias): the epilogue runs on each output block right after the GEMM stored it
    /// (a row segment per channel on the direct path, the work item's pixel block otherwise), while it is in cache.
    /// </summary>
    public static void Run<TEpilogue>(float* x, float* w, float* bias, in ConvShape s, int n, int outC, float* y, int threads,
        TEpilogue epilogue) where TEpilogue : struct, IRowEpilogue
    {
        var mk = MicroKernel.Best;
        int k = s.K, p = s.P;
        long packedSize = Packing.PackedASize(outC, k, mk.MR) + 16;
        float[] packedArray = ArrayPool<float>.Shared.Rent((int)packedSize);
        try
        {
            fixed (float* packedRaw = packedArray)
            {
                float* packedA = (float*)(((nint)packedRaw + 63) & ~(nint)63);
                Packing.PackAAll(packedA, w, k, 1, outC, k, mk.MR, GemmCore.KC);
                if (DirectConv.Applies(s) && PreferDirect(s, outC))
                {
                    DirectConv.Run(x, n, s, packedA, outC, new ConvOutputSink<TEpilogue>(y, outC, s.OH, s.OW, bias, epilogue), threads);
                    return;
                }
                int block = PixelBlock(p, n, threads, mk.NR);
                int blocks = (p + block - 1) / block;
                var shape = s;
                nint px = (nint)x, pw = (nint)packedA, pb = (nint)bias, py = (nint)y;
                ParallelWork.Run(threads, n * blocks, item =>
                {
                    int img = item / blocks, j0 = item % blocks * block, nc = Math.Min(block, p - j0);
                    float* image = (float*)px + (long)img * shape.C * shape.InputPlane;
                    float* outBlock = (float*)py + (long)img * outC * p + j0;
                    var b = new ConvColumnsB(image, shape, j0);
                    GemmCore.GemmPackedA(mk, outC, nc, k, (float*)pw, ref b, outBlock, p, false, (float*)pb);
                    for (int o = 0; o < outC; o++) epilogue.Apply(o, outBlock + (long)o * p, nc);
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedArray);
        }
    }

    /// <summary>
    /// The direct path computes (Wp - OW) / Wp throw-away columns; packing B costs about as much as
    /// a few rows of A per column. With many output channels and a large waste (a dilated 3x3 on
    /// 12x12: 25%) packing wins (measured ~15% faster at 512 channels); at 24x24 with 256 channels
    /// (8% waste) the two measured the same.
    /// </summary>
    private static bool PreferDirect(in ConvShape s, int outC)
    {
        int wp = s.OW + (s.KW - 1) * s.DW;
        return outC < 128 || (double)(wp - s.OW) / wp <= 0.15;
    }

    /// <summary>
    /// Output pixels per work item: at most one L2 block (GemmCore.NC), evened out so no item is a
    /// thin remainder (576 pixels: 2 x 288, not 384 + 192), and cut finer (whole micro-panels)
    /// when images x blocks would leave a thread idle.
    /// </summary>
    private static int PixelBlock(int p, int n, int threads, int nr)
    {
        int count = Math.Max((p + GemmCore.NC - 1) / GemmCore.NC, (int)((2L * threads + n - 1) / n));
        return Math.Max(nr, Packing.RoundUp((p + count - 1) / count, nr));
    }
}
