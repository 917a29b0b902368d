using System.Numerics;
using System.Runtime.CompilerServices;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// Work done on a finished run of one output channel's row while it is still in cache (the bias is already
/// added by the GEMM or the output sink). A struct type parameter, so the plain convolution's
/// <see cref="NoEpilogue"/> compiles to nothing.
/// </summary>
internal unsafe interface IRowEpilogue
{
    void Apply(int channel, float* v, int n);
}

/// <summary>The plain convolution: nothing after the bias.</summary>
internal readonly struct NoEpilogue : IRowEpilogue
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Apply(int channel, float* v, int n) { }
}

/// <summary>
/// The fused convolution's activation and post-affine (<see cref="ConvEpilogue"/>), in place:
/// v = act(v) * postScale[c] + postShift[c]. PReLU with one weight is a LeakyReLU with that slope.
/// </summary>
internal readonly unsafe struct ActivationEpilogue : IRowEpilogue
{
    private readonly ConvActivation _act;
    private readonly float _slope;
    private readonly float* _prelu, _postScale, _postShift;
    private readonly bool _perChannelSlope;

    /// <param name="prelu">PReLU weight (1 or OutC floats) or null; read only when the activation is PReLU.</param>
    public ActivationEpilogue(ConvActivation act, float slope, float* prelu, int preluLength, float* postScale, float* postShift)
    {
        _act = act;
        _slope = act == ConvActivation.Relu ? 0f : slope;
        _prelu = prelu;
        _perChannelSlope = act == ConvActivation.PRelu && preluLength > 1;
        if (act == ConvActivation.PRelu && preluLength == 1) _slope = prelu[0];
        _postScale = postScale;
        _postShift = postShift;
    }

    public void Apply(int channel, float* v, int n)
    {
        if (_act != ConvActivation.None) Rectify(v, n, _perChannelSlope ? _prelu[channel] : _slope);
        if (_postScale != null || _postShift != null)
            Affine(v, n, _postScale == null ? 1f : _postScale[channel], _postShift == null ? 0f : _postShift[channel]);
    }

    /// <summary>v = v &lt; 0 ? slope * v : v (slope 0: ReLU).</summary>
    private static void Rectify(float* v, int n, float slope)
    {
        int i = 0;
        int w = Vector<float>.Count;
        var a = new Vector<float>(slope);
        for (; i <= n - w; i += w)
        {
            var x = Unsafe.ReadUnaligned<Vector<float>>(v + i);
            Unsafe.WriteUnaligned(v + i, Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), x * a, x));
        }
        for (; i < n; i++) if (v[i] < 0f) v[i] *= slope;
    }

    private static void Affine(float* v, int n, float scale, float shift)
    {
        int i = 0;
        int w = Vector<float>.Count;
        var s = new Vector<float>(scale);
        var t = new Vector<float>(shift);
        for (; i <= n - w; i += w)
            Unsafe.WriteUnaligned(v + i, Unsafe.ReadUnaligned<Vector<float>>(v + i) * s + t);
        for (; i < n; i++) v[i] = v[i] * scale + shift;
    }
}
