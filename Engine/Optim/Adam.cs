namespace ILGpuSat.Engine.Optim;

/// <summary>
/// torch.optim.Adam: m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2,
/// param -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps), with L2 weight decay added to the gradient.
/// </summary>
public class Adam : Optimizer
{
    private readonly bool _decoupled;

    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weightDecay = 0f) : this(parameters, lr, beta1, beta2, eps, weightDecay, decoupled: false)
    {
    }

    private protected Adam(IEnumerable<Tensor> parameters, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
        : base(parameters, lr)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentException($"{GetType().Name}: betas ({beta1}, {beta2}) must lie in [0, 1).");
        CheckNonNegative(nameof(eps), eps);
        CheckNonNegative(nameof(weightDecay), weightDecay);
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _decoupled = decoupled;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    protected override void Update(Tensor param, Tensor grad, ParameterState state)
    {
        var m = state.Buffer("exp_avg", param, out _);
        var v = state.Buffer("exp_avg_sq", param, out _);
        param.Backend.AdamStep(param.Buffer, grad.Buffer, m, v, LearningRate, Beta1, Beta2, Eps, WeightDecay, _decoupled, state.Step);
    }
}

/// <summary>torch.optim.AdamW: Adam with decoupled weight decay, param *= 1 - lr*weightDecay (default 0.01).</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weightDecay = 1e-2f) : base(parameters, lr, beta1, beta2, eps, weightDecay, decoupled: true)
    {
    }
}
