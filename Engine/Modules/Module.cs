using ILGpuSat.Engine.IO;
using ILGpuSat.Kernels;

namespace ILGpuSat.Engine.Modules;

/// <summary>
/// The state of a layer or a network, as torch.nn.Module: named parameters, named buffers and named child
/// modules, in registration order, so that <see cref="StateDict"/> produces PyTorch's keys and order
/// ("0.weight", "bn.running_mean", ...). Parameters and buffers are owned by the module (never by
/// a <see cref="TensorScope"/>) and freed by <see cref="Dispose"/>.
/// A module's call signature is its own: a <see cref="Layer"/> maps one tensor to one tensor (and composes
/// in <see cref="Sequential"/>); a network with several inputs or outputs defines its own typed Forward
/// (returning, say, a record of its SR image and colour logits).
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = new();
    private readonly List<(string Name, Tensor Tensor)> _buffers = new();
    private readonly List<(string Name, Module Module)> _children = new();

    /// <summary>Training mode (batch statistics in batch norm); see <see cref="Train"/> / <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    // ---- registration -------------------------------------------------------------------------

    /// <summary>Registers a trainable tensor (requires grad; owned by this module from now on).</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        CheckNewName(name);
        value.Keep();
        value.RequiresGrad = true;
        _parameters.Add((name, value));
        return value;
    }

    /// <summary>Registers a state tensor that is saved but not trained (running statistics).</summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckNewName(name);
        value.Keep();
        _buffers.Add((name, value));
        return value;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckNewName(name);
        _children.Add((name, module));
        return module;
    }

    private void CheckNewName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: '{name}' is not a valid member name (non-empty, no '.').");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: a member named '{name}' is already registered.");
    }

    // ---- traversal ----------------------------------------------------------------------------

    /// <summary>Parameters of this module and its descendants with dotted names, in PyTorch's order.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters() => Walk("", m => m._parameters);

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor);

    /// <summary>Buffers (running statistics, ...) of this module and its descendants with dotted names.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedBuffers() => Walk("", m => m._buffers);

    /// <summary>Direct children in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module ("") and all its descendants with dotted names, depth first.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        yield return ("", this);
        foreach (var (name, child) in _children)
            foreach (var (sub, m) in child.NamedModules())
                yield return (sub.Length == 0 ? name : name + "." + sub, m);
    }

    private IEnumerable<(string Name, Tensor Tensor)> Walk(string prefix, Func<Module, List<(string Name, Tensor Tensor)>> members)
    {
        foreach (var (name, t) in members(this)) yield return (prefix + name, t);
        foreach (var (name, child) in _children)
            foreach (var item in child.Walk(prefix + name + ".", members))
                yield return item;
    }

    // ---- modes and gradients ------------------------------------------------------------------

    /// <summary>Sets training mode on this module and every descendant.</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, child) in _children) child.Train(mode);
        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>Drops every parameter's gradient (set_to_none).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    // ---- state --------------------------------------------------------------------------------

    /// <summary>
    /// Parameters and buffers by PyTorch key, in PyTorch's order (each module's own parameters,
    /// then its own buffers, then its children). The values are the live tensors, not copies.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var dict = new OrderedDictionary<string, Tensor>();
        AddState(dict, "");
        return dict;
    }

    private void AddState(OrderedDictionary<string, Tensor> dict, string prefix)
    {
        foreach (var (name, t) in _parameters) dict.Add(prefix + name, t);
        foreach (var (name, t) in _buffers) dict.Add(prefix + name, t);
        foreach (var (name, child) in _children) child.AddState(dict, prefix + name + ".");
    }

    /// <summary>
    /// Copies values into the parameters and buffers. Shapes must match exactly; with
    /// <paramref name="strict"/> the keys must match too. All problems are reported in one exception.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = own.Where(kv => state.TryGetValue(kv.Key, out var v) && !v.ShapeSpan.SequenceEqual(kv.Value.ShapeSpan))
            .Select(kv => $"{kv.Key}: checkpoint {Tensor.Format(state[kv.Key].ShapeSpan)}, model {Tensor.Format(kv.Value.ShapeSpan)}")
            .ToList();

        var problems = new List<string>();
        if (strict && missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
        if (strict && unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        if (mismatched.Count > 0) problems.Add("shape mismatches: " + string.Join("; ", mismatched));
        if (problems.Count > 0)
            throw new ArgumentException($"load_state_dict into {GetType().Name}: " + string.Join(". ", problems) + ".");

        foreach (var (key, target) in own)
            if (state.TryGetValue(key, out var source)) target.CopyFrom(source);
    }

    /// <summary>Writes the state dict as a safetensors file (atomically).</summary>
    public void Save(string path, SafeTensorsDType dtype = SafeTensorsDType.F32) => SafeTensors.Save(path, StateDict(), dtype: dtype);

    /// <summary>Loads a safetensors file written by <see cref="Save"/> or by PyTorch (safetensors.torch.save_file).</summary>
    public void Load(string path, bool strict = true)
    {
        // A module without state has nothing to load into; the file is still read (and checked) on the CPU.
        var backend = BackendOf();
        using var scratch = backend is null ? new Kernels.Cpu.CpuBackend() : null;
        var loaded = SafeTensors.Load(path, backend ?? scratch!);
        try
        {
            LoadStateDict(loaded, strict);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>The backend of this module's first parameter or buffer (null if it has none).</summary>
    protected Backend? BackendOf() => StateDict().Values.FirstOrDefault()?.Backend;

    public virtual void Dispose()
    {
        foreach (var (_, t) in _parameters) t.Dispose();
        foreach (var (_, t) in _buffers) t.Dispose();
        foreach (var (_, child) in _children) child.Dispose();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => GetType().Name;
}
