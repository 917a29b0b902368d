using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>torch.nn.Conv2d (square kernel, groups = 1): weight OIHW [out, in, k, k], bias [out].</summary>
public sealed class Conv2d : Layer
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, Backend backend, Random rng, int stride = 1, int padding = 0,
        int dilation = 1, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0)
            throw new ArgumentException($"Conv2d: channels ({inChannels}, {outChannels}) and kernel size {kernelSize} must be positive.");
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Weight = RegisterParameter("weight", Tensor.Empty([outChannels, inChannels, kernelSize, kernelSize], backend));
        Init.DefaultConvWeight(Weight, rng);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty([outChannels], backend));
            Init.DefaultConvBias(Bias, Weight, rng);
        }
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }

    public override Tensor Forward(Tensor x) => F.Conv2d(x, Weight, Bias, Stride, Padding, Dilation);

    public override string ToString()
        => $"Conv2d({Weight.Size(1)}, {Weight.Size(0)}, kernel_size={Weight.Size(2)}, stride={Stride}, padding={Padding}, dilation={Dilation}, bias={Bias is not null})";
}

/// <summary>torch.nn.ConvTranspose2d (square kernel, groups = 1): weight IOHW [in, out, k, k], bias [out].</summary>
public sealed class ConvTranspose2d : Layer
{
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, Backend backend, Random rng, int stride = 1,
        int padding = 0, int outputPadding = 0, int dilation = 1, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0)
            throw new ArgumentException($"ConvTranspose2d: channels ({inChannels}, {outChannels}) and kernel size {kernelSize} must be positive.");
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        Dilation = dilation;
        Weight = RegisterParameter("weight", Tensor.Empty([inChannels, outChannels, kernelSize, kernelSize], backend));
        Init.DefaultConvWeight(Weight, rng);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty([outChannels], backend));
            Init.DefaultConvBias(Bias, Weight, rng);
        }
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int OutputPadding { get; }
    public int Dilation { get; }

    public override Tensor Forward(Tensor x) => F.ConvTranspose2d(x, Weight, Bias, Stride, Padding, OutputPadding, Dilation);

    public override string ToString()
        => $"ConvTranspose2d({Weight.Size(0)}, {Weight.Size(1)}, kernel_size={Weight.Size(2)}, stride={Stride}, padding={Padding}, output_padding={OutputPadding}, bias={Bias is not null})";
}
