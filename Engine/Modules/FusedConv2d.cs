using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// An inference-only convolution layer: <see cref="F.Conv2dFused"/> with weights prepared elsewhere (batch norm
/// folded in, a stride-1 transposed convolution rewritten as a convolution). Its tensors are buffers, not
/// parameters: nothing here is trained, and <see cref="F.Conv2dFused"/> has no gradient.
/// </summary>
public sealed class FusedConv2d : Layer
{
    /// <param name="weight">OIHW, taken over by this layer.</param>
    /// <param name="bias">[O] or null, taken over by this layer.</param>
    /// <param name="preluWeight">[1] or [O] for PReLU, taken over by this layer.</param>
    /// <param name="postScale">[O] or null: a batch norm after the activation (with <paramref name="postShift"/>), taken over.</param>
    public FusedConv2d(Tensor weight, Tensor? bias, ConvActivation activation, float negativeSlope = 0f, Tensor? preluWeight = null,
        Tensor? postScale = null, Tensor? postShift = null, int stride = 1, int padding = 0, int dilation = 1)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4) throw new ArgumentException($"FusedConv2d: weight must be OIHW (4-D), got {Tensor.Format(weight.ShapeSpan)}.");
        Weight = RegisterBuffer("weight", weight);
        if (bias is not null) Bias = RegisterBuffer("bias", bias);
        if (preluWeight is not null) PreluWeight = RegisterBuffer("prelu_weight", preluWeight);
        if (postScale is not null) PostScale = RegisterBuffer("post_scale", postScale);
        if (postShift is not null) PostShift = RegisterBuffer("post_shift", postShift);
        Activation = activation;
        NegativeSlope = negativeSlope;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public ConvActivation Activation { get; }
    public float NegativeSlope { get; }
    public Tensor? PreluWeight { get; }
    public Tensor? PostScale { get; }
    public Tensor? PostShift { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }

    public override Tensor Forward(Tensor x)
        => F.Conv2dFused(x, Weight, Bias, Activation, NegativeSlope, PreluWeight, PostScale, PostShift, Stride, Padding, Dilation);

    public override string ToString()
        => $"FusedConv2d({Weight.Size(1)}, {Weight.Size(0)}, kernel_size={Weight.Size(2)}x{Weight.Size(3)}, stride={Stride}, padding={Padding}, dilation={Dilation}, "
           + $"activation={Activation}{(PostScale is null && PostShift is null ? "" : ", post-affine")})";
}
