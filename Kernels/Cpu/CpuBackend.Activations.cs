using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// ReLU, LeakyReLU and PReLU with their gradients. As in PyTorch the gradient at exactly 0 takes
// the negative branch (x > 0 ? dy : slope * dy).
public sealed partial class CpuBackend
{
    public override void Relu(DeviceBuffer x, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("relu", n, 8.0 * n);
        CheckLength("relu", "x", x, n);
        MapElements(new ReluOp(), HostArray(x), HostArray(y), n);
    }

    public override void ReluBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx)
    {
        int n = (int)dx.Length;
        using var _ = Profile("relu_bwd", n, 12.0 * n);
        CheckLength("relu_bwd", "x", x, n);
        CheckLength("relu_bwd", "dy", dy, n);
        MapElements(new ReluGradOp(), HostArray(x), HostArray(dy), HostArray(dx), n);
    }

    public override void LeakyRelu(DeviceBuffer x, float negativeSlope, DeviceBuffer y)
    {
        int n = (int)y.Length;
        using var _ = Profile("leaky_relu", 2.0 * n, 8.0 * n);
        CheckLength("leaky_relu", "x", x, n);
        MapElements(new LeakyOp(negativeSlope), HostArray(x), HostArray(y), n);
    }

    public override void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float negativeSlope, DeviceBuffer dx)
    {
        int n = (int)dx.Length;
        using var _ = Profile("leaky_relu_bwd", 2.0 * n, 12.0 * n);
        CheckLength("leaky_relu_bwd", "x", x, n);
        CheckLength("leaky_relu_bwd", "dy", dy, n);
        MapElements(new LeakyGradOp(negativeSlope), HostArray(x), HostArray(dy), HostArray(dx), n);
    }

    public override void PRelu(DeviceBuffer x, DeviceBuffer weight, ChannelGeometry g, DeviceBuffer y)
    {
        const string op = "prelu";
        g.Validate(op);
        using var _ = Profile(op, 2.0 * g.Length, 8.0 * g.Length + 4.0 * weight.Length);
        bool shared = CheckPReluWeight(op, weight, g);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "y", y, g.Length);
        var xa = HostArray(x);
        var ya = HostArray(y);
        var wa = HostArray(weight);
        int hw = g.HW, c = g.C;
        CpuParallel.ForPlaneSegments(Threads, g.N * c, hw,
            (s, e, p) => SimdMath.Map(new LeakyOp(wa[shared ? 0 : p % c]), xa, ya, s, e));
    }

    public override void PReluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dweight)
    {
        const string op = "prelu_bwd";
        g.Validate(op);
        using var _ = Profile(op, 4.0 * g.Length, 12.0 * g.Length + 8.0 * weight.Length);
        bool shared = CheckPReluWeight(op, weight, g);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "dy", dy, g.Length);
        CheckLength(op, "dx", dx, g.Length);
        CheckLength(op, "dweight", dweight, weight.Length);
        var xa = HostArray(x);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        var wa = HostArray(weight);
        int hw = g.HW, c = g.C, planes = g.N * g.C;
        var partial = ArrayPool<double>.Shared.Rent(planes);
        try
        {
            CpuParallel.For(Threads, planes, hw, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                    partial[p] = PReluGradPlane(xa, da, ga, wa[shared ? 0 : p % c], p * hw, (p + 1) * hw);
            });
            // Per-plane partials summed in a fixed order: the result does not depend on the thread count.
            var dw = Host(dweight);
            if (shared)
            {
                double total = 0;
                for (int p = 0; p < planes; p++) total += partial[p];
                dw[0] = (float)total;
            }
            else
            {
                for (int ch = 0; ch < c; ch++)
                {
                    double total = 0;
                    for (int n = 0; n < g.N; n++) total += partial[n * c + ch];
                    dw[ch] = (float)total;
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }

    /// <summary>Weight must hold 1 (shared) or C (per channel) values; returns whether it is shared.</summary>
    private static bool CheckPReluWeight(string op, DeviceBuffer weight, ChannelGeometry g)
    {
        if (weight.Length != 1 && weight.Length != g.C)
            throw new ArgumentException($"{op}: weight holds {weight.Length} values; PReLU needs 1 (shared) or C={g.C} (per channel).");
        return weight.Length == 1;
    }

    /// <summary>dx over one plane; returns sum over x &lt;= 0 of x * dy (the plane's weight gradient).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static double PReluGradPlane(float[] x, float[] dy, float[] dx, float w, int start, int end)
    {
        ref float rx = ref SimdMath.At(x);
        ref float rd = ref SimdMath.At(dy);
        ref float rg = ref SimdMath.At(dx);
        var vw = Vector512.Create(w);
        double total = 0;
        int i = start;
        while (!Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated && end - i >= 8)
        {
            // AVX2: 8 lanes, so half the block keeps each lane's float sum as short as with 16 lanes.
            var vw8 = Vector256.Create(w);
            int stop = i + Math.Min(512, (end - i) / 8 * 8);
            var acc = Vector256<float>.Zero;
            for (; i < stop; i += 8)
            {
                var xv = Vector256.LoadUnsafe(ref rx, (nuint)i);
                var gv = Vector256.LoadUnsafe(ref rd, (nuint)i);
                var pos = Vector256.GreaterThan(xv, Vector256<float>.Zero);
                Vector256.ConditionalSelect(pos, gv, gv * vw8).StoreUnsafe(ref rg, (nuint)i);
                acc = Vector256.FusedMultiplyAdd(Vector256.ConditionalSelect(pos, Vector256<float>.Zero, xv), gv, acc);
            }
            total += Vector256.Sum(Vector256.WidenLower(acc) + Vector256.WidenUpper(acc));
        }
        while (end - i >= SimdMath.W)
        {
            int stop = i + Math.Min(1024, (end - i) / SimdMath.W * SimdMath.W);
            var acc = Vector512<float>.Zero;
            for (; i < stop; i += SimdMath.W)
            {
                var xv = SimdMath.Load(ref rx, i);
                var gv = SimdMath.Load(ref rd, i);
                var pos = Vector512.GreaterThan(xv, Vector512<float>.Zero);
                SimdMath.Store(Vector512.ConditionalSelect(pos, gv, gv * vw), ref rg, i);
                acc = Vector512.FusedMultiplyAdd(Vector512.ConditionalSelect(pos, Vector512<float>.Zero, xv), gv, acc);
            }
            total += Vector512.Sum(Vector512.WidenLower(acc) + Vector512.WidenUpper(acc));
        }
        for (; i < end; i++)
        {
            float xv = Unsafe.Add(ref rx, i), gv = Unsafe.Add(ref rd, i);
            Unsafe.Add(ref rg, i) = xv > 0 ? gv : gv * w;
            if (!(xv > 0)) total += (double)xv * gv;
        }
        return total;
    }

    private readonly struct ReluOp : IUnaryMap
    {
        // Max propagates NaN, as torch.relu does.
        public Vector512<float> Apply(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
        public Vector256<float> Apply(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
        public float Apply(float x) => MathF.Max(x, 0f);
    }

    /// <summary>(x, dy) -> x > 0 ? dy : 0.</summary>
    private readonly struct ReluGradOp : IBinaryMap
    {
        public Vector512<float> Apply(Vector512<float> x, Vector512<float> dy)
            => Vector512.GreaterThan(x, Vector512<float>.Zero) & dy;
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> dy)
            => Vector256.GreaterThan(x, Vector256<float>.Zero) & dy;
        public float Apply(float x, float dy) => x > 0 ? dy : 0f;
    }

    /// <summary>x > 0 ? x : slope * x (LeakyReLU, and PReLU with one plane's weight).</summary>
    private readonly struct LeakyOp(float slope) : IUnaryMap
    {
        private readonly Vector512<float> _slope = Vector512.Create(slope);
        public Vector512<float> Apply(Vector512<float> x)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * _slope);
        public Vector256<float> Apply(Vector256<float> x)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * Vector256.Create(slope));
        public float Apply(float x) => x > 0 ? x : x * slope;
    }

    /// <summary>(x, dy) -> x > 0 ? dy : slope * dy.</summary>
    private readonly struct LeakyGradOp(float slope) : IBinaryMap
    {
        private readonly Vector512<float> _slope = Vector512.Create(slope);
        public Vector512<float> Apply(Vector512<float> x, Vector512<float> dy)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, dy * _slope);
        public Vector256<float> Apply(Vector256<float> x, Vector256<float> dy)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * Vector256.Create(slope));
        public float Apply(float x, float dy) => x > 0 ? dy : dy * slope;
    }
}
