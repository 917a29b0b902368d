using System.Buffers;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// Per-channel bias and its gradient (the channel sum).
public sealed partial class CpuBackend
{
    public override void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, ChannelGeometry g, DeviceBuffer y)
    {
        const string op = "add_channel_bias";
        g.Validate(op);
        using var _ = Profile(op, g.Length, 8.0 * g.Length + 4.0 * g.C);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "bias", bias, g.C);
        CheckLength(op, "y", y, g.Length);
        var xa = HostArray(x);
        var ya = HostArray(y);
        var ba = HostArray(bias);
        int hw = g.HW, c = g.C;
        CpuParallel.ForPlaneSegments(Threads, g.N * c, hw, (s, e, p) => SimdMath.Map(new AddScalarOp(ba[p % c]), xa, ya, s, e));
    }

    public override void ChannelSum(DeviceBuffer x, ChannelGeometry g, DeviceBuffer sum)
    {
        const string op = "channel_sum";
        g.Validate(op);
        using var _ = Profile(op, g.Length, 4.0 * g.Length + 4.0 * g.C);
        CheckLength(op, "x", x, g.Length);
        CheckLength(op, "sum", sum, g.C);
        var xa = HostArray(x);
        int hw = g.HW, planes = g.N * g.C;
        var partial = ArrayPool<double>.Shared.Rent(planes);
        try
        {
            CpuParallel.For(Threads, planes, hw, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++) partial[p] = SimdMath.Sum(xa, p * hw, (p + 1) * hw);
            });
            var s = Host(sum);
            for (int ch = 0; ch < g.C; ch++) s[ch] = (float)SumOverBatch(partial, g, ch);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }

    /// <summary>Sum of the per-plane partials [N, C] of one channel, in batch order.</summary>
    private static double SumOverBatch(double[] partial, ChannelGeometry g, int channel)
    {
        double total = 0;
        for (int n = 0; n < g.N; n++) total += partial[n * g.C + channel];
        return total;
    }

    private readonly struct AddScalarOp(float b) : IUnaryMap
    {
        private readonly Vector512<float> _b = Vector512.Create(b);
        public Vector512<float> Apply(Vector512<float> x) => x + _b;
        public Vector256<float> Apply(Vector256<float> x) => x + Vector256.Create(b);
        public float Apply(float x) => x + b;
    }
}
