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

    /// <summary>
    /// When set, inputs are normalised with these statistics instead of their own (a tiled inference's statistics of
    /// the whole scene; see <see cref="F.InstanceNorm"/>). Null: PyTorch's behaviour.
    /// </summary>
    public InstanceStatistics? Statistics { get; set; }

    /// <summary>When true, each forward records its input's own statistics in <see cref="Captured"/>.</summary>
    public bool CaptureStatistics { get; set; }

    /// <summary>The statistics of the last forward's input while <see cref="CaptureStatistics"/> is on.</summary>
    public InstanceStatistics? Captured { get; private set; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4)
            throw new ArgumentException($"InstanceNorm2d: expected 4D input, got {Tensor.Format(x.ShapeSpan)}.");
        if (x.Size(1) != NumFeatures)
            throw new ArgumentException($"InstanceNorm2d: input {Tensor.Format(x.ShapeSpan)} has {x.Size(1)} channels, the layer has {NumFeatures}.");
        if (CaptureStatistics) Captured = F.InstanceStatisticsOf(x);
        return F.InstanceNorm(x, Weight, Bias, Eps, Statistics);
    }

    public override string ToString() => $"InstanceNorm2d({NumFeatures}, eps={Eps}, affine={Weight is not null})";
}
