using ILGpuSat.Kernels.Cpu.Conv;

namespace ILGpuSat.Kernels.Cpu;

// Convolutions: validation, profiling and pinning here; the GEMM-based algorithms in Conv/ and Gemm/.
public sealed partial class CpuBackend
{
    public override unsafe void Conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, Conv2dGeometry g, DeviceBuffer y)
    {
        using var _ = Profile("conv2d_fwd", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        const string op = "cpu conv2d";
        g.Validate(op);
        CheckLength(op, "x", x, g.InputLength);
        CheckLength(op, "weight", w, g.WeightLength);
        if (bias != null) CheckLength(op, "bias", bias, g.OutC);
        CheckLength(op, "y", y, g.OutputLength);
        fixed (float* px = HostArray(x))
        fixed (float* pw = HostArray(w))
        fixed (float* pb = bias == null ? null : HostArray(bias))
        fixed (float* py = HostArray(y))
            ConvForward.Run(px, pw, pb, ConvShape.Forward(g), g.N, g.OutC, py, Threads);
    }

    public override unsafe void Conv2dFused(DeviceBuffer x, DeviceBuffer w, Conv2dGeometry g, in ConvEpilogue epilogue, DeviceBuffer y)
    {
        using var _ = Profile("conv2d_fused", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        const string op = "cpu conv2d fused";
        g.Validate(op);
        epilogue.Validate(op, g.OutC);
        CheckLength(op, "x", x, g.InputLength);
        CheckLength(op, "weight", w, g.WeightLength);
        CheckLength(op, "y", y, g.OutputLength);
        var e = epilogue;
        fixed (float* px = HostArray(x))
        fixed (float* pw = HostArray(w))
        fixed (float* pb = e.Bias == null ? null : HostArray(e.Bias))
        fixed (float* pa = e.PreluWeight == null ? null : HostArray(e.PreluWeight))
        fixed (float* ps = e.PostScale == null ? null : HostArray(e.PostScale))
        fixed (float* pt = e.PostShift == null ? null : HostArray(e.PostShift))
        fixed (float* py = HostArray(y))
        {
            var act = new ActivationEpilogue(e.Activation, e.NegativeSlope, pa, (int)(e.PreluWeight?.Length ?? 0), ps, pt);
            ConvForward.Run(px, pw, pb, ConvShape.Forward(g), g.N, g.OutC, py, Threads, act);
        }
    }

    public override unsafe void Conv2dBackwardData(DeviceBuffer dy, DeviceBuffer w, Conv2dGeometry g, DeviceBuffer dx)
    {
        using var _ = Profile("conv2d_bwd_data", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        const string op = "cpu conv2d backward data";
        g.Validate(op);
        CheckLength(op, "dy", dy, g.OutputLength);
        CheckLength(op, "weight", w, g.WeightLength);
        CheckLength(op, "dx", dx, g.InputLength);
        fixed (float* pdy = HostArray(dy))
        fixed (float* pw = HostArray(w))
        fixed (float* pdx = HostArray(dx))
            ConvBackwardData.Run(pdy, pw, g, pdx, Threads);
    }

    public override unsafe void Conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, Conv2dGeometry g, DeviceBuffer dw, DeviceBuffer? dbias)
    {
        using var _ = Profile("conv2d_bwd_weight", g.Flops, 4.0 * (g.InputLength + g.WeightLength + g.OutputLength));
        const string op = "cpu conv2d backward weight";
        g.Validate(op);
        CheckLength(op, "x", x, g.InputLength);
        CheckLength(op, "dy", dy, g.OutputLength);
        CheckLength(op, "dweight", dw, g.WeightLength);
        if (dbias != null) CheckLength(op, "dbias", dbias, g.OutC);
        fixed (float* px = HostArray(x))
        fixed (float* pdy = HostArray(dy))
        fixed (float* pdw = HostArray(dw))
        fixed (float* pdb = dbias == null ? null : HostArray(dbias))
            ConvBackwardWeight.Run(px, pdy, g, pdw, pdb, Threads);
    }
}
