namespace ILGpuSat.Kernels;

/// <summary>The activation a fused convolution applies in its epilogue (see <see cref="ConvEpilogue"/>).</summary>
public enum ConvActivation
{
    None,
    /// <summary>max(v, 0).</summary>
    Relu,
    /// <summary>v &lt; 0 ? slope * v : v with the constant <see cref="ConvEpilogue.NegativeSlope"/>.</summary>
    LeakyRelu,
    /// <summary>v &lt; 0 ? a[c] * v : v with <see cref="ConvEpilogue.PreluWeight"/> of 1 (shared) or OutC entries.</summary>
    PRelu,
}

/// <summary>
/// What a fused convolution (<see cref="Backend.Conv2dFused"/>) does to each accumulated output before it is
/// stored: y[n,o,:] = act(conv(x, w)[n,o,:] + Bias[o]) * PostScale[o] + PostShift[o], every term optional.
/// Batch norm before the activation is folded into the weights and Bias at fold time; PostScale/PostShift
/// carry a batch norm that follows the activation (Zhang's conv, ReLU, BN), which cannot be folded into
/// weights. A post-affine is allowed only with <see cref="ConvActivation.None"/> or <see cref="ConvActivation.Relu"/>
/// (the CUDA epilogue writes relu(v)*s + t as a clamp of v*s + t at t, which needs a rectifier that is zero below 0).
/// </summary>
public readonly record struct ConvEpilogue(
    DeviceBuffer? Bias = null,
    ConvActivation Activation = ConvActivation.None,
    float NegativeSlope = 0f,
    DeviceBuffer? PreluWeight = null,
    DeviceBuffer? PostScale = null,
    DeviceBuffer? PostShift = null)
{
    /// <summary>Throws unless every buffer present has the length the op needs and the combination is supported.</summary>
    public void Validate(string op, int outC)
    {
        if (Bias is not null && Bias.Length < outC)
            throw new ArgumentException($"{op}: bias holds {Bias.Length} floats, needs OutC = {outC}.");
        if (PostScale is not null && PostScale.Length < outC)
            throw new ArgumentException($"{op}: post-activation scale holds {PostScale.Length} floats, needs OutC = {outC}.");
        if (PostShift is not null && PostShift.Length < outC)
            throw new ArgumentException($"{op}: post-activation shift holds {PostShift.Length} floats, needs OutC = {outC}.");
        if (Activation == ConvActivation.PRelu)
        {
            if (PreluWeight is null)
                throw new ArgumentException($"{op}: PReLU activation needs a PReLU weight.");
            if (PreluWeight.Length != 1 && PreluWeight.Length != outC)
                throw new ArgumentException($"{op}: PReLU weight holds {PreluWeight.Length} floats; it must be 1 (shared) or OutC = {outC}.");
        }
        else if (PreluWeight is not null)
            throw new ArgumentException($"{op}: a PReLU weight was given for activation {Activation}.");
        if (!float.IsFinite(NegativeSlope))
            throw new ArgumentException($"{op}: LeakyReLU slope {NegativeSlope} is not finite.");
        if ((PostScale is not null || PostShift is not null) && Activation is not (ConvActivation.None or ConvActivation.Relu))
            throw new ArgumentException($"{op}: a post-activation scale/shift is supported after ReLU or no activation, not after {Activation}.");
    }
}
