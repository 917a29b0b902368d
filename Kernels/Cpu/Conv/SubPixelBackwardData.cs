using System.Buffers;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// dx of a strided, undilated convolution (a strided transposed convolution) split into
/// stride_h x stride_w phases: the input pixels ih with (ih + pad) mod stride = r receive only the
/// taps kh = r + stride*j, so each phase is a stride-1 convolution of dy with a flipped sub-kernel,
/// run by <see cref="DirectConv"/>. No col2im: the phases partition dx, so every dx element is
/// written exactly once and threads never write the same element.
/// </summary>
internal static unsafe class SubPixelBackwardData
{
    private readonly record struct Phase(int RowPhase, int ColPhase, int TapsH, int TapsW, int Q0H, int Q0W, int QH, int QW, long PackedOffset)
    {
        public int K(int outC) => outC * TapsH * TapsW;
        public int Pixels => Math.Max(0, QH) * Math.Max(0, QW);
    }

    /// <summary>Undilated only: with dilation the taps of a phase would not form a regular sub-kernel.</summary>
    public static bool Applies(in Conv2dGeometry g) => g.DilH == 1 && g.DilW == 1;

    public static void Run(float* dy, float* w, Conv2dGeometry g, float* dx, int threads)
    {
        var mk = MicroKernel.Best;
        int sh = g.StrideH, sw = g.StrideW, inC = g.InC, outC = g.OutC;
        var phases = new Phase[sh * sw];
        long packedTotal = 0;
        for (int rh = 0; rh < sh; rh++)
            for (int rw = 0; rw < sw; rw++)
            {
                int jh = Math.Max(0, (g.KH - rh + sh - 1) / sh), jw = Math.Max(0, (g.KW - rw + sw - 1) / sw);
                // Phase outputs q with ih = q*sh + rh - pad inside [0, InH).
                int q0h = CeilDiv(g.PadH - rh, sh), q1h = FloorDiv(g.InH - 1 + g.PadH - rh, sh);
                int q0w = CeilDiv(g.PadW - rw, sw), q1w = FloorDiv(g.InW - 1 + g.PadW - rw, sw);
                var ph = new Phase(rh, rw, jh, jw, q0h, q0w, q1h - q0h + 1, q1w - q0w + 1, packedTotal);
                phases[rh * sw + rw] = ph;
                packedTotal += Packing.PackedASize(inC, ph.K(outC), mk.MR);
            }

        float[] packedArray = ArrayPool<float>.Shared.Rent((int)packedTotal + 16);
        float[] subArray = ArrayPool<float>.Shared.Rent((int)Math.Max(1, g.WeightLength));
        try
        {
            fixed (float* packedRaw = packedArray)
            fixed (float* sub = subArray)
            {
                float* packed = (float*)(((nint)packedRaw + 63) & ~(nint)63);
                foreach (var ph in phases) PackSubKernel(w, g, ph, sub, packed + ph.PackedOffset, mk);

                // With at least as many phases as threads, each thread takes whole phases (largest
                // first) and runs them single-threaded: one thread hand-off per call instead of two
                // per phase, which matters for the small phases of a 3x3 stride-2 layer (measured
                // ~130 -> ~200 GFLOP/s there, on par for the 4x4 stride-2 deconv). Otherwise
                // phases run one after another, each on all threads. (One parallel pass over the
                // items of all phases at once measured ~30% slower on the 4x4 s2 deconv: every
                // padded copy of dy is built before any is used, so they have left the cache.)
                var order = phases.Where(ph => ph.Pixels > 0).OrderByDescending(ph => ph.K(outC)).ToArray();
                bool phasePerThread = threads > 1 && order.Length >= threads;
                nint pdy = (nint)dy, pdx = (nint)dx, pPacked = (nint)packed;
                ParallelWork.Run(phasePerThread ? threads : 1, order.Length, i =>
                    RunPhase((float*)pdy, g, order[i], (float*)pPacked, (float*)pdx, phasePerThread ? 1 : threads));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(subArray);
            ArrayPool<float>.Shared.Return(packedArray);
        }
    }

    /// <summary>sub[c, (o, j'h, j'w)] = w[o, c, rh + sh*(Jh-1-j'h), rw + sw*(Jw-1-j'w)], then packed as GEMM A.</summary>
    private static void PackSubKernel(float* w, in Conv2dGeometry g, in Phase ph, float* sub, float* packed, in MicroKernel mk)
    {
        int jh = ph.TapsH, jw = ph.TapsW, k = ph.K(g.OutC);
        if (k == 0) return;
        for (int c = 0; c < g.InC; c++)
            for (int o = 0; o < g.OutC; o++)
            {
                float* src = w + ((long)o * g.InC + c) * g.KH * g.KW;
                float* dst = sub + (long)c * k + (long)o * jh * jw;
                for (int a = 0; a < jh; a++)
                    for (int b = 0; b < jw; b++)
                        dst[a * jw + b] = src[(ph.RowPhase + g.StrideH * (jh - 1 - a)) * g.KW + ph.ColPhase + g.StrideW * (jw - 1 - b)];
            }
        Packing.PackAAll(packed, sub, k, 1, g.InC, k, mk.MR, GemmCore.KC);
    }

    private static void RunPhase(float* dy, in Conv2dGeometry g, in Phase ph, float* packed, float* dx, int threads)
    {
        var sink = new PhaseSink(dx, g, ph.Q0H * g.StrideH + ph.RowPhase - g.PadH, ph.Q0W * g.StrideW + ph.ColPhase - g.PadW);
        if (ph.K(g.OutC) == 0)
        {
            // No tap lands on this phase: its pixels are zero.
            ZeroPhase(sink, g.N, g.InC, ph);
            return;
        }
        // dy seen as a stride-1 convolution input: output q reads dy rows q0 + q - (J-1) + j'.
        var shape = new ConvShape(g.OutC, g.OutH, g.OutW, ph.TapsH, ph.TapsW, 1, 1,
            ph.TapsH - 1 - ph.Q0H, ph.TapsW - 1 - ph.Q0W, 1, 1, ph.QH, ph.QW);
        DirectConv.Run(dy, g.N, shape, packed + ph.PackedOffset, g.InC, sink, threads);
    }

    private static void ZeroPhase(PhaseSink sink, int n, int channels, in Phase ph)
    {
        // Rare (kernel smaller than the stride): one zero row serves every channel (row stride 0).
        fixed (float* zeros = new float[ph.QW])
            for (int img = 0; img < n; img++)
                for (int q = 0; q < ph.QH; q++) sink.Write(img, q, 0, ph.QW, zeros, 0);
    }

    /// <summary>Phase output (q_h, q_w) of channel c lands on dx[c, ih0 + q_h*stride_h, iw0 + q_w*stride_w].</summary>
    private readonly struct PhaseSink(float* dx, Conv2dGeometry g, int ih0, int iw0) : IConvRowSink
    {
        public void Write(int img, int oh, int ow0, int run, float* src, nint ldSrc)
        {
            int sw = g.StrideW;
            long plane = (long)g.InH * g.InW;
            float* row = dx + (long)img * g.InC * plane + (long)(ih0 + oh * g.StrideH) * g.InW + iw0 + ow0 * sw;
            for (int c = 0; c < g.InC; c++)
            {
                float* s = src + c * ldSrc, d = row + c * plane;
                for (int r = 0; r < run; r++) d[r * sw] = s[r];
            }
        }
    }

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    private static int CeilDiv(int a, int b) => -FloorDiv(-a, b);
}
