using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// torch.nn.BatchNorm2d: weight (gamma, ones) and bias (beta, zeros) when affine; buffers
/// running_mean (zeros), running_var (ones) and num_batches_tracked (stored as float, so that a
/// PyTorch state dict loads strictly) when tracking running statistics.
/// </summary>
public sealed class BatchNorm2d : Layer
{
    private readonly Tensor? _one;

    public BatchNorm2d(int numFeatures, Backend backend, float eps = 1e-5f, float momentum = 0.1f, bool affine = true,
        bool trackRunningStats = true)
    {
        if (numFeatures <= 0) throw new ArgumentException($"BatchNorm2d: num_features {numFeatures} must be positive.");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numFeatures], backend: backend));
            Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures], backend: backend));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures], backend: backend));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures], backend: backend));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], backend: backend));
            _one = Tensor.Ones([], backend: backend).Keep();
        }
    }

    public int NumFeatures { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }
    public Tensor? NumBatchesTracked { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4)
            throw new ArgumentException($"BatchNorm2d: expected 4D input, got {Tensor.Format(x.ShapeSpan)}.");
        if (x.Size(1) != NumFeatures)
            throw new ArgumentException($"BatchNorm2d: input {Tensor.Format(x.ShapeSpan)} has {x.Size(1)} channels, the layer has {NumFeatures}.");
        if (Training && NumBatchesTracked is not null)
        {
            x.Backend.Axpy(1f, _one!.Buffer, NumBatchesTracked.Buffer);  // on the device: no sync
            NumBatchesTracked.MarkModified();
        }
        // Without running statistics PyTorch normalises with batch statistics in eval mode too.
        return F.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, Training || RunningMean is null, Momentum, Eps);
    }

    public override void Dispose()
    {
        _one?.Dispose();
        base.Dispose();
    }

    public override string ToString() => $"BatchNorm2d({NumFeatures}, eps={Eps}, momentum={Momentum}, affine={Weight is not null})";
}
