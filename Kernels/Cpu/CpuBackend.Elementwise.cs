using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// Fill, copy and the arithmetic elementwise kernels (n = y.Length).
public sealed partial class CpuBackend
{
    public override void Fill(DeviceBuffer y, float value)
    {
        int n = (int)y.Length;
        using var _ = Profile("fill", 0, 4.0 * n);
        var ya = HostArray(y);
        CpuParallel.ForElements(Threads, n, (s, e) => ya.AsSpan(s, e - s).Fill(value));
    }

    public override void FillFromScalar(DeviceBuffer scalar, float scale, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("fill_from_scalar", n, 4.0 * n + 4);
        CheckLength("fill_from_scalar", "scalar", scalar, 1);
        float value = Host(scalar)[0] * scale;
        var ya = HostArray(y);
        CpuParallel.ForElements(Threads, n, (s, e) => ya.AsSpan(s, e - s).Fill(value));
    }

    public override void Copy(DeviceBuffer x, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("copy", 0, 8.0 * n);
        CheckLength("copy", "x", x, n);
        var xa = HostArray(x);
        var ya = HostArray(y);
        if (ReferenceEquals(xa, ya)) return;
        CpuParallel.ForElements(Threads, n, (s, e) => xa.AsSpan(s, e - s).CopyTo(ya.AsSpan(s, e - s)));
    }

    public override void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("add", n, 12.0 * n);
        CheckLength("add", "a", a, n);
        CheckLength("add", "b", b, n);
        MapElements(new AddOp(), HostArray(a), HostArray(b), HostArray(y), n);
    }

    public override void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("multiply", n, 12.0 * n);
        CheckLength("multiply", "a", a, n);
        CheckLength("multiply", "b", b, n);
        MapElements(new MultiplyOp(), HostArray(a), HostArray(b), HostArray(y), n);
    }

    public override void Scale(DeviceBuffer x, float alpha, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("scale", n, 8.0 * n);
        CheckLength("scale", "x", x, n);
        MapElements(new ScaleOp(alpha), HostArray(x), HostArray(y), n);
    }

    public override void Sqrt(DeviceBuffer x, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("sqrt", n, 8.0 * n);
        CheckLength("sqrt", "x", x, n);
        MapElements(new SqrtOp(), HostArray(x), HostArray(y), n);
    }

    public override void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("axpy", 2.0 * n, 12.0 * n);
        CheckLength("axpy", "x", x, n);
        var ya = HostArray(y);
        MapElements(new AxpyOp(alpha), HostArray(x), ya, ya, n);
    }

    /// <summary>y = op(x) over [0, n), split across threads.</summary>
    private void MapElements<T>(T op, float[] x, float[] y, int n) where T : struct, IUnaryMap
        => CpuParallel.ForElements(Threads, n, (s, e) => SimdMath.Map(op, x, y, s, e));

    /// <summary>y = op(a, b) over [0, n), split across threads.</summary>
    private void MapElements<T>(T op, float[] a, float[] b, float[] y, int n) where T : struct, IBinaryMap
        => CpuParallel.ForElements(Threads, n, (s, e) => SimdMath.Map(op, a, b, y, s, e));

    private readonly struct AddOp : IBinaryMap
    {
        public Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => a + b;
        public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a + b;
        public float Apply(float a, float b) => a + b;
    }

    private readonly struct MultiplyOp : IBinaryMap
    {
        public Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => a * b;
        public Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a * b;
        public float Apply(float a, float b) => a * b;
    }

    private readonly struct ScaleOp(float alpha) : IUnaryMap
    {
        private readonly Vector512<float> _alpha = Vector512.Create(alpha);
        public Vector512<float> Apply(Vector512<float> x) => x * _alpha;
        public Vector256<float> Apply(Vector256<float> x) => x * Vector256.Create(alpha);
        public float Apply(float x) => x * alpha;
    }

    private readonly struct SqrtOp : IUnaryMap
    {
        public Vector512<float> Apply(Vector512<float> x) => Vector512.Sqrt(x);
        public Vector256<float> Apply(Vector256<float> x) => Vector256.Sqrt(x);
        public float Apply(float x) => MathF.Sqrt(x);
    }

    /// <summary>(x, y) -> y + alpha * x.</summary>
    private readonly struct AxpyOp(float alpha) : IBinaryMap
    {
        private readonly Vector512<float> _alpha = Vector512.Create(alpha);
        public Vector512<float> Apply(Vector512<float> x, Vector512<float> y) => Vector512.FusedMultiplyAdd(_alpha, x, y);
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> y) => Vector256.FusedMultiplyAdd(Vector256.Create(alpha), x, y);
        public float Apply(float x, float y) => MathF.FusedMultiplyAdd(alpha, x, y);
    }
}
