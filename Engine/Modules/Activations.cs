using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>torch.nn.PReLU: one learnable slope (numParameters = 1) or one per channel, initialised to <c>init</c>.</summary>
public sealed class PReLU : Layer
{
    public PReLU(int numParameters, Backend backend, float init = 0.25f)
    {
        if (numParameters <= 0) throw new ArgumentException($"PReLU: num_parameters {numParameters} must be positive.");
        Weight = RegisterParameter("weight", Tensor.Full([numParameters], init, backend: backend));
    }

    public Tensor Weight { get; }

    public override Tensor Forward(Tensor x) => F.Prelu(x, Weight);

    public override string ToString() => $"PReLU(num_parameters={Weight.Length})";
}

public sealed class ReLU : Layer
{
    public override Tensor Forward(Tensor x) => F.Relu(x);
    public override string ToString() => "ReLU()";
}

public sealed class LeakyReLU(float negativeSlope = 0.01f) : Layer
{
    public float NegativeSlope { get; } = negativeSlope;
    public override Tensor Forward(Tensor x) => F.LeakyRelu(x, NegativeSlope);
    public override string ToString() => $"LeakyReLU(negative_slope={NegativeSlope})";
}
