using ILGpuSat.Engine;
using ILGpuSat.Imaging.Color;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Networks.Blocks;

namespace ILGpuSat.Inference;

/// <summary>
/// One tile through the network: LR L* (and the input's a*b* for models without colour) in, the 4x L*, a*, b*
/// of the whole tile out (the caller crops the context away). Every step is what docs/inference.md describes and
/// all of them run on the backend, so only the LR tile goes up and the three output planes come down:
/// normalisation (at LR: the bicubic's weights sum to 1, so normalising first is the same up to rounding), bicubic
/// x4 (MATLAB kernel, <see cref="BicubicUpsampler"/>) for BicubicUpsampled models, the forward in NoGrad, colour
/// as the annealed mean of softmax(logits / T) (a 1x1 convolution with the 313 bin centres) at 1/4 resolution then
/// bilinear x4, or the regressed a*b*, or the input's a*b* bicubic x4.
/// <para>
/// The returned planes are this runner's own arrays, reused by the next tile of the same size (tiles of one grid
/// share few sizes), so a long run makes no garbage per tile: read them before the next <see cref="Run"/>.
/// </para>
/// </summary>
internal sealed class TileRunner : IDisposable
{
    private readonly SatNetwork _network;
    private readonly Backend _backend;
    private readonly BicubicUpsampler _bicubic;
    private readonly Tensor _binCentres;
    private readonly Dictionary<(string Plane, int Length), float[]> _planes = new();

    public TileRunner(SatNetwork network, Backend backend)
    {
        _network = network;
        _backend = backend;
        _bicubic = new BicubicUpsampler(backend, network.Scale);
        // Annealed mean as a convolution: ab = sum_q softmax(z / T)_q * centre_q is a 1x1 convolution 313 -> 2.
        var bins = AbBins.Default;
        var centres = new float[2 * AbBins.Count];
        bins.A.CopyTo(centres.AsSpan(0, AbBins.Count));
        bins.B.CopyTo(centres.AsSpan(AbBins.Count, AbBins.Count));
        _binCentres = Tensor.FromArray(centres, [2, AbBins.Count, 1, 1], backend).Keep();
    }

    public int Scale => _network.Scale;

    /// <summary>
    /// Planes of (Scale w) x (Scale h): L* in 0..100, a*, b* (this runner's arrays, valid until the next call), from the
    /// first w x h values of <paramref name="l"/> (and <paramref name="a"/>, <paramref name="b"/>), row-major.
    /// </summary>
    public (float[] L, float[] A, float[] B) Run(float[] l, float[]? a, float[]? b, int w, int h,
                                                 float temperature = AnnealedMean.DefaultTemperature)
    {
        int s = _network.Scale, n = w * s * h * s;
        var norm = _network.Normalization;
        bool bicubicInput = _network.Input == NetworkInput.BicubicUpsampled;
        bool hasSr = _network.Tasks.HasFlag(NetworkTasks.SuperResolution);
        var outL = Plane("L", n);
        var outA = Plane("a", n);
        var outB = Plane("b", n);

        var normalised = Plane("input", w * h);
        for (int i = 0; i < normalised.Length; i++) normalised[i] = norm.NormaliseL(l[i]);

        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            var lr = Tensor.FromArray(normalised, [1, 1, h, w], _backend);
            Tensor? upsampled = bicubicInput || !hasSr ? _bicubic.Forward(lr) : null;
            var y = _network.Forward(bicubicInput ? upsampled! : lr);

            // L*: the SR output, or (a colour-only model) the bicubic x4 input, denormalised and clamped.
            var lightness = y.Sr ?? upsampled!;
            _backend.Download(lightness.Buffer, outL);
            for (int i = 0; i < n; i++) outL[i] = Math.Clamp(norm.DenormaliseL(outL[i]), 0f, 100f);

            if (y.ColorLogits is { } logits)
            {
                var tempered = F.Mul(logits, 1f / temperature);
                logits.ReleaseIfNoGrad();
                var probabilities = F.Softmax(tempered, 1);
                tempered.ReleaseIfNoGrad();
                var ab = F.Conv2d(probabilities, _binCentres, null);
                probabilities.ReleaseIfNoGrad();
                DownloadAb(F.Interpolate(ab, h * s, w * s, "bilinear"), outA, outB, 1f);
            }
            else if (y.Ab is { } regressed) DownloadAb(regressed, outA, outB, 1f / norm.AbScale);
            else if (a is not null)
            {
                var inputAb = Plane("input ab", 2 * w * h);
                a.AsSpan(0, w * h).CopyTo(inputAb);
                b!.AsSpan(0, w * h).CopyTo(inputAb.AsSpan(w * h));
                DownloadAb(_bicubic.Forward(Tensor.FromArray(inputAb, [2, 1, h, w], _backend)), outA, outB, 1f);
            }
            else
            {
                outA.AsSpan().Clear();
                outB.AsSpan().Clear();
            }
        }
        return (outL, outA, outB);
    }

    /// <summary>A [1, 2, H, W] or [2, 1, H, W] tensor's two planes into a and b, times <paramref name="scale"/>.</summary>
    private void DownloadAb(Tensor ab, float[] a, float[] b, float scale)
    {
        var both = Plane("ab", a.Length * 2);
        ab.Backend.Download(ab.Buffer, both);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = both[i] * scale;
            b[i] = both[a.Length + i] * scale;
        }
    }

    private float[] Plane(string name, int length)
    {
        if (!_planes.TryGetValue((name, length), out var plane))
        {
            // Tiles of one grid come in at most four sizes per axis; drop old sizes if a caller runs many grids.
            if (_planes.Count > 64) _planes.Clear();
            _planes[(name, length)] = plane = new float[length];
        }
        return plane;
    }

    public void Dispose()
    {
        _bicubic.Dispose();
        _binCentres.Dispose();
    }
}
