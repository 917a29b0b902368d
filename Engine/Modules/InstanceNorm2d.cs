using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// torch.nn.InstanceNorm2d without running statistics (PyTorch's default, track_running_stats=False): per-sample,
/// per-channel statistics in training and in eval alike; weight (ones) and bias (zeros) when affine (PyTorch's
/// default is affine=False).
/// </summary>
public sealed class InstanceNorm2d : Layer
{
    public InstanceNorm2d(int numFeatures, Backend backend, float eps = 1e-5f, bool affine = false)
    {
        if (numFeatures <= 0) throw new ArgumentException($"InstanceNorm2d: num_features {numFeatures} must be positive.");
        NumFeatures = numFeatures;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numFeatures], backend: backend));
            Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures], backend: backend));
        }
    }

    public int NumFeatures { get; }
    public float Eps { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4)
            throw new ArgumentException($"InstanceNorm2d: expected 4D input, got {Tensor.Format(x.ShapeSpan)}.");
        if (x.Size(1) != NumFeatures)
            throw new ArgumentException($"InstanceNorm2d: input {Tensor.Format(x.ShapeSpan)} has {x.Size(1)} channels, the layer has {NumFeatures}.");
        return F.InstanceNorm(x, Weight, Bias, Eps);
    }

    public override string ToString() => $"InstanceNorm2d({NumFeatures}, eps={Eps}, affine={Weight is not null})";
}
