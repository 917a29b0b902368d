using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Optim;

/// <summary>
/// Base of the optimizers, as torch.optim.Optimizer with one parameter group: a learning rate that
/// schedulers change, and per-parameter state buffers that live on the parameter's device and are
/// created (zeroed) at a parameter's first step. Parameters without a gradient are skipped.
/// The state is saved and loaded keyed by parameter name (<see cref="SaveState"/>, <see cref="LoadState"/>).
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

    /// <summary>
    /// Writes the learning rates and every parameter's step count and buffers (safetensors, atomically),
    /// keyed by parameter name: <paramref name="names"/> is the model's NamedParameters() (by default the
    /// parameters are named by their index, PyTorch's optimizer state_dict keys). A fresh optimizer over a
    /// fresh model loads it with <see cref="LoadState"/> and continues exactly where this one stopped.
    /// </summary>
    public void SaveState(string path, IEnumerable<(string Name, Tensor Tensor)>? names = null)
    {
        var named = Names(names, path);
        var arrays = new List<(string, float[], int[])>();
        var meta = new Dictionary<string, string>
        {
            ["optimizer"] = GetType().Name,
            ["lr"] = LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["initial_lr"] = InitialLearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (name, p) in named)
        {
            if (!_state.TryGetValue(p, out var state)) continue;
            meta[$"step.{name}"] = state.Step.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (buffer, device) in state.Buffers)
            {
                var host = new float[device.Length];
                p.Backend.Download(device, host);
                arrays.Add(($"{name}.{buffer}", host, [host.Length]));
            }
        }
        IO.SafeTensors.Save(path, arrays, meta);
    }

    /// <summary>
    /// Replaces the learning rate and every parameter's state with those of a file written by
    /// <see cref="SaveState"/>. Strict: the optimizer type, the parameter names and the buffer lengths must
    /// match, or an <see cref="InvalidDataException"/> names the file and the mismatch (nothing is changed).
    /// </summary>
    public void LoadState(string path, IEnumerable<(string Name, Tensor Tensor)>? names = null)
    {
        var named = Names(names, path).ToDictionary(n => n.Name, n => n.Tensor);
        var (tensors, meta) = IO.SafeTensors.Read(path);
        string Get(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{path}: not an optimizer state (no '{key}' in its metadata).");
        if (Get("optimizer") != GetType().Name)
            throw new InvalidDataException($"{path}: holds {Get("optimizer")} state, this optimizer is {GetType().Name}.");
        float lr = float.Parse(Get("lr"), System.Globalization.CultureInfo.InvariantCulture);

        var loaded = new Dictionary<Tensor, (int Step, List<(string Buffer, float[] Data)> Buffers)>(ReferenceEqualityComparer.Instance);
        foreach (var (key, value) in meta)
        {
            if (!key.StartsWith("step.", StringComparison.Ordinal)) continue;
            string name = key["step.".Length..];
            if (!named.TryGetValue(name, out var p))
                throw new InvalidDataException($"{path}: has state for parameter '{name}', which this optimizer does not have.");
            if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int step) || step < 1)
                throw new InvalidDataException($"{path}: step count '{value}' of '{name}' is not a positive integer.");
            loaded[p] = (step, new());
        }
        foreach (var (key, (data, _)) in tensors)
        {
            int dot = key.LastIndexOf('.');
            string name = dot > 0 ? key[..dot] : "";
            if (!named.TryGetValue(name, out var p) || !loaded.TryGetValue(p, out var entry))
                throw new InvalidDataException($"{path}: buffer '{key}' belongs to no parameter with a step count.");
            if (data.Length != p.Length)
                throw new InvalidDataException($"{path}: buffer '{key}' has {data.Length} values, parameter '{name}' has {p.Length}.");
            entry.Buffers.Add((key[(dot + 1)..], data));
        }

        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        foreach (var (p, (step, buffers)) in loaded)
        {
            var state = new ParameterState { Step = step };
            foreach (var (buffer, data) in buffers) state.Load(buffer, p, data);
            _state[p] = state;
        }
        LearningRate = lr;
    }

    /// <summary>Every parameter of this optimizer with its name, checked against the given names.</summary>
    private List<(string Name, Tensor Tensor)> Names(IEnumerable<(string Name, Tensor Tensor)>? names, string path)
    {
        if (names is null) return _parameters.Select((p, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), p)).ToList();
        var byTensor = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (n, t) in names) byTensor.TryAdd(t, n);
        var result = new List<(string, Tensor)>();
        foreach (var p in _parameters)
        {
            if (!byTensor.TryGetValue(p, out var n))
                throw new ArgumentException($"{path}: a parameter of this optimizer ({p}) has no name in the names given.");
            result.Add((n, p));
        }
        return result;
    }

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

        /// <summary>Sets a buffer from saved values (see <see cref="Optimizer.LoadState"/>).</summary>
        internal void Load(string name, Tensor like, float[] values)
        {
            if (_buffers.Remove(name, out var old)) old.Dispose();
            var b = like.Backend.Allocate(like.Length);
            like.Backend.Upload(values, b);
            _buffers[name] = b;
        }

        public void Dispose()
        {
            foreach (var b in _buffers.Values) b.Dispose();
            _buffers.Clear();
        }
    }
}
