using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Optim;

/// <summary>
/// Base of the optimizers, as torch.optim.Optimizer with one parameter group: a learning rate that
/// schedulers change, and per-parameter state buffers that live on the parameter's device and are
/// created (zeroed) at a parameter's first step. Parameters without a gradient are skipped.
/// Steps update the parameters in place with one fused kernel per parameter and never wait for the device.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly Dictionary<Tensor, ParameterState> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<Tensor> parameters, float lr)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list.");
        if (_parameters.Distinct(ReferenceEqualityComparer.Instance).Count() != _parameters.Length)
            throw new ArgumentException($"{GetType().Name}: a parameter appears more than once.");
        foreach (var p in _parameters)
            if (!p.IsLeaf || !p.RequiresGrad)
                throw new ArgumentException($"{GetType().Name}: can only optimize leaf tensors that require grad, got {p}.");
        CheckNonNegative("lr", lr);
        LearningRate = lr;
        InitialLearningRate = lr;
    }

    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>The learning rate of the next step (schedulers set it).</summary>
    public float LearningRate { get; set; }

    /// <summary>The learning rate given at construction (PyTorch's initial_lr).</summary>
    public float InitialLearningRate { get; }

    /// <summary>Drops every parameter's gradient so that the next backward starts afresh (set_to_none).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public void Step()
    {
        foreach (var p in _parameters)
        {
            if (p.Grad is null) continue;
            if (!_state.TryGetValue(p, out var state)) _state[p] = state = new ParameterState();
            state.Step++;
            Update(p, p.Grad, state);
            p.MarkModified();
        }
    }

    /// <summary>One parameter's update; <paramref name="state"/>.Step counts from 1.</summary>
    protected abstract void Update(Tensor param, Tensor grad, ParameterState state);

    /// <summary>The state of one parameter (for inspection and tests): step count and named buffers.</summary>
    public ParameterState? StateOf(Tensor param) => _state.GetValueOrDefault(param);

    protected void CheckNonNegative(string name, float value)
    {
        if (!(value >= 0)) throw new ArgumentException($"{GetType().Name}: {name} must be non-negative, got {value}.");
    }

    public void Dispose()
    {
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>Per-parameter optimizer state: a step count and device buffers made on first use.</summary>
    public sealed class ParameterState : IDisposable
    {
        private readonly Dictionary<string, DeviceBuffer> _buffers = new();

        public int Step { get; internal set; }

        public IReadOnlyDictionary<string, DeviceBuffer> Buffers => _buffers;

        /// <summary>The buffer named <paramref name="name"/>, created zeroed with the parameter's length on first use.</summary>
        public DeviceBuffer Buffer(string name, Tensor like, out bool created)
        {
            created = false;
            if (_buffers.TryGetValue(name, out var b)) return b;
            b = like.Backend.Allocate(like.Length);
            like.Backend.Fill(b, 0f);
            _buffers[name] = b;
            created = true;
            return b;
        }

        public void Dispose()
        {
            foreach (var b in _buffers.Values) b.Dispose();
            _buffers.Clear();
        }
    }
}
