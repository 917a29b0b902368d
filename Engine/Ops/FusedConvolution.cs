using ILGpuSat.Kernels;

namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// Inference convolution: act(conv2d(x, weight) + bias) * postScale + postShift in one kernel (the backend's
    /// <see cref="Backend.Conv2dFused"/>; see <see cref="ConvEpilogue"/>). weight is OIHW; bias, postScale and
    /// postShift are [O] or null; preluWeight is [1] or [O] for <see cref="ConvActivation.PRelu"/>. Forward only:
    /// it records no gradient, so it refuses inputs that need one (run it under <see cref="Autograd.NoGrad"/> or
    /// on tensors that do not require grad).
    /// </summary>
    public static Tensor Conv2dFused(Tensor x, Tensor weight, Tensor? bias, ConvActivation activation, float negativeSlope = 0f,
        Tensor? preluWeight = null, Tensor? postScale = null, Tensor? postShift = null, int stride = 1, int padding = 0, int dilation = 1)
    {
        const string op = "conv2d_fused";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight, bias, preluWeight, postScale);
        Check.SameBackend(op, x, postShift);
        Check.Rank(op, "input", x, 4);
        Check.Rank(op, "weight", weight, 4);
        if (x.Size(1) != weight.Size(1))
            throw new ArgumentException($"{op}: input {Check.S(x)} has {x.Size(1)} channels but weight {Check.S(weight)} expects {weight.Size(1)}.");
        int outC = weight.Size(0);
        Check.Vector(op, "bias", bias, outC);
        Check.Vector(op, "postScale", postScale, outC);
        Check.Vector(op, "postShift", postShift, outC);
        if (preluWeight is not null && preluWeight.Length != 1) Check.Vector(op, "preluWeight", preluWeight, outC);
        if (Autograd.NeedsGrad(x, weight, bias, preluWeight) || Autograd.NeedsGrad(postScale, postShift))
            throw new InvalidOperationException($"{op}: the fused convolution is forward-only (inference) and has no gradient; " +
                "call it under Autograd.NoGrad() or on tensors that do not require grad, or use conv2d and the separate activation to train.");
        var g = new Conv2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), outC, weight.Size(2), weight.Size(3),
            stride, stride, padding, padding, dilation, dilation);
        ValidateConv(op, g, x, weight);
        var y = Tensor.Empty([g.N, g.OutC, g.OutH, g.OutW], x.Backend);
        var epilogue = new ConvEpilogue(bias?.Buffer, activation, negativeSlope, preluWeight?.Buffer, postScale?.Buffer, postShift?.Buffer);
        x.Backend.Conv2dFused(x.Buffer, weight.Buffer, g, epilogue, y.Buffer);
        return y;
    }
}
