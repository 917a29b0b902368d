using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// torch.nn.Conv3d with stride 1 and no temporal padding (weight [out, in, kT, k, k], bias [out]) on the frames-major
/// layout [N, T, C, H, W] of <see cref="F.Conv3d"/>; <see cref="Padding"/> pads H and W with zeros.
/// </summary>
public sealed class Conv3d : Layer
{
    public Conv3d(int inChannels, int outChannels, int temporalKernel, int kernelSize, Backend backend, Random rng, int padding = 0, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || temporalKernel <= 0 || kernelSize <= 0)
            throw new ArgumentException($"Conv3d: channels ({inChannels}, {outChannels}) and kernel ({temporalKernel}, {kernelSize}) must be positive.");
        Padding = padding;
        Weight = RegisterParameter("weight", Tensor.Empty([outChannels, inChannels, temporalKernel, kernelSize, kernelSize], backend));
        Init.DefaultConvWeight(Weight, rng);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty([outChannels], backend));
            Init.DefaultConvBias(Bias, Weight, rng);
        }
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Padding { get; }

    public override Tensor Forward(Tensor x) => F.Conv3d(x, Weight, Bias, Padding);

    public override string ToString()
        => $"Conv3d({Weight.Size(1)}, {Weight.Size(0)}, kernel_size=({Weight.Size(2)}, {Weight.Size(3)}, {Weight.Size(4)}), padding=(0, {Padding}, {Padding}), bias={Bias is not null})";
}
