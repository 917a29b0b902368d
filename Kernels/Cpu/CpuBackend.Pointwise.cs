using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// exp, log, sigmoid and softplus with their gradients (PointwiseFunction says which input each backward reads).
// exp and sigmoid are vectorised with SimdMath.Exp (about half an ulp); log and softplus go lane by lane through
// the scalar library (softplus in double, so ln(1 + e^-|x|) keeps its precision for large |x|).
public sealed partial class CpuBackend
{
    public override void Pointwise(PointwiseFunction f, DeviceBuffer x, DeviceBuffer y)
    {
        string op = PointwiseFunctions.Name(f);
        int n = (int)y.Length;
        using var _ = Profile(op, 20.0 * n, 8.0 * n);
        CheckLength(op, "x", x, n);
        var xa = HostArray(x);
        var ya = HostArray(y);
        switch (f)
        {
            case PointwiseFunction.Exp: MapElements(new ExpOp(), xa, ya, n); break;
            case PointwiseFunction.Log: MapElements(new LogOp(), xa, ya, n); break;
            case PointwiseFunction.Sigmoid: MapElements(new SigmoidOp(), xa, ya, n); break;
            case PointwiseFunction.Softplus: MapElements(new SoftplusOp(), xa, ya, n); break;
            default: throw new ArgumentOutOfRangeException(nameof(f), f, "unknown pointwise function");
        }
    }

    public override void PointwiseBackward(PointwiseFunction f, DeviceBuffer saved, DeviceBuffer dy, DeviceBuffer dx)
    {
        string op = PointwiseFunctions.Name(f) + "_bwd";
        int n = (int)dx.Length;
        using var _ = Profile(op, 20.0 * n, 12.0 * n);
        CheckLength(op, "saved", saved, n);
        CheckLength(op, "dy", dy, n);
        var sa = HostArray(saved);
        var dya = HostArray(dy);
        var dxa = HostArray(dx);
        switch (f)
        {
            case PointwiseFunction.Exp: MapElements(new MultiplyOp(), sa, dya, dxa, n); break;
            case PointwiseFunction.Log: MapElements(new DivideByOp(), sa, dya, dxa, n); break;
            case PointwiseFunction.Sigmoid: MapElements(new SigmoidGradOp(), sa, dya, dxa, n); break;
            case PointwiseFunction.Softplus: MapElements(new SoftplusGradOp(), sa, dya, dxa, n); break;
            default: throw new ArgumentOutOfRangeException(nameof(f), f, "unknown pointwise function");
        }
    }

    private readonly struct ExpOp : IUnaryMap
    {
        public Vector512<float> Apply(Vector512<float> x) => SimdMath.Exp(x);
        public Vector256<float> Apply(Vector256<float> x) => SimdMath.Exp(x);
        public float Apply(float x) => MathF.Exp(x);
    }

    private readonly struct LogOp : IUnaryMap
    {
        public Vector512<float> Apply(Vector512<float> x) => SimdMath.Log(x);
        public Vector256<float> Apply(Vector256<float> x) => SimdMath.Log(x);
        public float Apply(float x) => MathF.Log(x);
    }

    /// <summary>1 / (1 + e^-x): e^-x overflows to inf for x below -88, giving 0, as it should.</summary>
    private readonly struct SigmoidOp : IUnaryMap
    {
        public Vector512<float> Apply(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + SimdMath.Exp(-x));
        public Vector256<float> Apply(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + SimdMath.Exp(-x));
        public float Apply(float x) => 1f / (1f + MathF.Exp(-x));
    }

    private readonly struct SoftplusOp : IUnaryMap
    {
        public Vector512<float> Apply(Vector512<float> x) => Lanes(x);
        public Vector256<float> Apply(Vector256<float> x) => Lanes(x);
        public float Apply(float x) => (float)(Math.Max(x, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs((double)x))));

        private Vector512<float> Lanes(Vector512<float> x)
        {
            Span<float> lanes = stackalloc float[Vector512<float>.Count];
            x.CopyTo(lanes);
            for (int i = 0; i < lanes.Length; i++) lanes[i] = Apply(lanes[i]);
            return Vector512.Create((ReadOnlySpan<float>)lanes);
        }

        private Vector256<float> Lanes(Vector256<float> x)
        {
            Span<float> lanes = stackalloc float[Vector256<float>.Count];
            x.CopyTo(lanes);
            for (int i = 0; i < lanes.Length; i++) lanes[i] = Apply(lanes[i]);
            return Vector256.Create((ReadOnlySpan<float>)lanes);
        }
    }

    /// <summary>(x, dy) -> dy / x: the gradient of ln.</summary>
    private readonly struct DivideByOp : IBinaryMap
    {
        public Vector512<float> Apply(Vector512<float> x, Vector512<float> dy) => dy / x;
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> dy) => dy / x;
        public float Apply(float x, float dy) => dy / x;
    }

    /// <summary>(y, dy) -> dy * y * (1 - y).</summary>
    private readonly struct SigmoidGradOp : IBinaryMap
    {
        public Vector512<float> Apply(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);
        public Vector256<float> Apply(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
        public float Apply(float y, float dy) => dy * y * (1f - y);
    }

    /// <summary>(x, dy) -> dy * sigmoid(x).</summary>
    private readonly struct SoftplusGradOp : IBinaryMap
    {
        public Vector512<float> Apply(Vector512<float> x, Vector512<float> dy) => dy * new SigmoidOp().Apply(x);
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> dy) => dy * new SigmoidOp().Apply(x);
        public float Apply(float x, float dy) => dy * new SigmoidOp().Apply(x);
    }
}
