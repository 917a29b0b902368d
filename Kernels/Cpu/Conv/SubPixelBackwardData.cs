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

                // All phases read one shared zero-padded copy of dy, each through its own origin.
                var order = phases.Where(ph => ph.Pixels > 0).OrderByDescending(ph => ph.K(outC)).ToArray();
                int padTop = 0, padLeft = 0, hp = 1, wp = 1;
                var reading = order.Where(ph => ph.K(outC) > 0).ToArray();
                foreach (var ph in reading)
                {
                    padTop = Math.Max(padTop, PadTop(ph));
                    padLeft = Math.Max(padLeft, PadLeft(ph));
                }
                foreach (var ph in reading)
                {
                    hp = Math.Max(hp, padTop - PadTop(ph) + ph.QH + ph.TapsH - 1);
                    wp = Math.Max(wp, padLeft - PadLeft(ph) + ph.QW + ph.TapsW - 1);
                }
                using var padded = new PaddedInput(dy, g.N, outC, g.OutH, g.OutW, padTop, padLeft, hp, wp, threads);

                // With at least as many phases as threads, each thread takes whole phases (largest
                // first) and runs them single-threaded: one thread hand-off per call instead of one
                // per phase, which matters for the small phases of a 3x3 stride-2 layer. Otherwise
                // phases run one after another, each on all threads.
                bool phasePerThread = threads > 1 && order.Length >= threads;
                nint pdx = (nint)dx, pPacked = (nint)packed;
                ParallelWork.Run(phasePerThread ? threads : 1, order.Length, i =>
                {
                    var ph = order[i];
                    RunPhase(padded, padTop - PadTop(ph), padLeft - PadLeft(ph), g, ph, (float*)pPacked, (float*)pdx,
                        phasePerThread ? 1 : threads);
                });
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

    /// <summary>Rows of padding a phase needs above dy: its output q reads dy rows q0 + q - (J-1) + j'.</summary>
    private static int PadTop(in Phase ph) => ph.TapsH - 1 - ph.Q0H;
    private static int PadLeft(in Phase ph) => ph.TapsW - 1 - ph.Q0W;

    private static void RunPhase(PaddedInput dy, int rowOrigin, int colOrigin, in Conv2dGeometry g, in Phase ph, float* packed, float* dx, int threads)
    {
        var sink = new PhaseSink(dx, g, ph.Q0H * g.StrideH + ph.RowPhase - g.PadH, ph.Q0W * g.StrideW + ph.ColPhase - g.PadW);
        if (ph.K(g.OutC) == 0)
        {
            // No tap lands on this phase: its pixels are zero.
            ZeroPhase(sink, g.N, g.InC, ph);
            return;
        }
        var shape = new ConvShape(g.OutC, g.OutH, g.OutW, ph.TapsH, ph.TapsW, 1, 1,
            PadTop(ph), PadLeft(ph), 1, 1, ph.QH, ph.QW);
        DirectConv.Compute(dy, rowOrigin, colOrigin, shape, packed + ph.PackedOffset, g.InC, sink, threads);
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
