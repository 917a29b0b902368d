namespace ILGpuSat.Engine.Optim;

/// <summary>
/// torch.optim.SGD: g = grad + weightDecay*param; with momentum, buf = first step ? g :
/// momentum*buf + (1-dampening)*g and g = nesterov ? g + momentum*buf : buf; param -= lr*g.
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Tensor> parameters, float lr, float momentum = 0f, float dampening = 0f,
        float weightDecay = 0f, bool nesterov = false) : base(parameters, lr)
    {
        CheckNonNegative(nameof(momentum), momentum);
        CheckNonNegative(nameof(weightDecay), weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Sgd: Nesterov momentum requires a momentum and zero dampening.");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public float Momentum { get; }
    public float Dampening { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    protected override void Update(Tensor param, Tensor grad, ParameterState state)
    {
        bool first = false;
        var buffer = Momentum != 0 ? state.Buffer("momentum_buffer", param, out first) : null;
        param.Backend.SgdStep(param.Buffer, grad.Buffer, buffer, LearningRate, Momentum, Dampening, WeightDecay, Nesterov, first);
    }
}
