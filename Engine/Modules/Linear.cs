using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// torch.nn.Linear: weight [out, in] (PyTorch's layout, so state dicts load as they are), bias [out], PyTorch's
/// default init (U(+-1/sqrt(in)) for both); x [N, in] -> [N, out] (<see cref="F.Linear"/>).
/// </summary>
public sealed class Linear : Layer
{
    public Linear(int inFeatures, int outFeatures, Backend backend, Random rng, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear: features ({inFeatures}, {outFeatures}) must be positive.");
        Weight = RegisterParameter("weight", Tensor.Empty([outFeatures, inFeatures], backend));
        Init.DefaultConvWeight(Weight, rng);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty([outFeatures], backend));
            Init.DefaultConvBias(Bias, Weight, rng);
        }
    }

    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);

    public override string ToString() => $"Linear(in_features={Weight.Size(1)}, out_features={Weight.Size(0)}, bias={Bias is not null})";
}
