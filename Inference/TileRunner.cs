using ILGpuSat.Engine;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Resampling;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// One tile through the network: LR L* (and the input's a*b* for models without colour) in, the 4x L*, a*, b*
/// of the whole tile out (the caller crops the context away). Every step is what docs/inference.md describes:
/// bicubic x4 (MATLAB kernel) for BicubicUpsampled models, normalisation, the forward in NoGrad, colour from
/// the annealed mean of softmax(logits / T) at 1/4 resolution then bilinear x4, or the regressed a*b*, or the
/// input's a*b* bicubic x4.
/// </summary>
internal sealed class TileRunner(SatNetwork network, Backend backend, float temperature)
{
    public int Scale => network.Scale;

    /// <summary>Planes of (Scale w) x (Scale h): L* in 0..100, a*, b*.</summary>
    public (float[] L, float[] A, float[] B) Run(float[] l, float[]? a, float[]? b, int w, int h)
    {
        int s = network.Scale, ow = w * s, oh = h * s;
        var norm = network.Normalization;
        float[]? bicubicL = network.Input == NetworkInput.BicubicUpsampled || !network.Tasks.HasFlag(NetworkTasks.SuperResolution)
            ? Resampler.Resize(l, w, h, ow, oh, ResampleKernel.Bicubic) : null;
        var source = network.Input == NetworkInput.BicubicUpsampled ? bicubicL! : l;
        int iw = network.Input == NetworkInput.BicubicUpsampled ? ow : w, ih = network.Input == NetworkInput.BicubicUpsampled ? oh : h;
        var input = new float[source.Length];
        for (int i = 0; i < input.Length; i++) input[i] = source[i] * norm.LScale + norm.LOffset;

        float[]? sr = null, logits = null, ab = null;
        int lw = 0, lh = 0;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            var x = Tensor.FromArray(input, [1, 1, ih, iw], backend);
            var y = network.Forward(x);
            sr = y.Sr?.ToArray();
            if (y.ColorLogits is { } z) { logits = z.ToArray(); (lh, lw) = (z.Size(2), z.Size(3)); }
            ab = y.Ab?.ToArray();
        }

        float[] outL;
        if (sr is not null)
        {
            outL = sr;
            for (int i = 0; i < outL.Length; i++) outL[i] = Math.Clamp(norm.DenormaliseL(outL[i]), 0f, 100f);
        }
        else outL = bicubicL!;

        float[] outA, outB;
        if (logits is not null)
        {
            var la = new float[lw * lh];
            var lb = new float[lw * lh];
            AnnealedMean.FromLogits(logits, la, lb, temperature);
            outA = Resampler.Resize(la, lw, lh, ow, oh, ResampleKernel.Bilinear);
            outB = Resampler.Resize(lb, lw, lh, ow, oh, ResampleKernel.Bilinear);
        }
        else if (ab is not null)
        {
            int n = ow * oh;
            outA = new float[n];
            outB = new float[n];
            for (int i = 0; i < n; i++) { outA[i] = ab[i] / norm.AbScale; outB[i] = ab[n + i] / norm.AbScale; }
        }
        else if (a is not null)
        {
            outA = Resampler.Resize(a, w, h, ow, oh, ResampleKernel.Bicubic);
            outB = Resampler.Resize(b!, w, h, ow, oh, ResampleKernel.Bicubic);
        }
        else
        {
            outA = new float[ow * oh];
            outB = new float[ow * oh];
        }
        return (outL, outA, outB);
    }
}
