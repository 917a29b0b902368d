namespace ILGpuSat.Engine;

/// <summary>
/// Owns every tensor created on this thread while it is the innermost open scope, and disposes them
/// when it ends, so their buffers return to the backend's pool and the next training step reuses
/// them instead of allocating. Scopes nest (a thread-local stack) and must end in reverse order.
/// <code>
/// using (var scope = new TensorScope())
/// {
///     var loss = F.MseLoss(model.Forward(x), y);
///     loss.Backward();
///     optimizer.Step();
/// }   // activations, saved tensors and the loss are freed here; parameters and .Grad are not
/// </code>
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly TensorScope? _parent;
    private readonly List<Tensor> _owned = new();
    private bool _ended;

    public TensorScope()
    {
        _parent = _current;
        _current = this;
    }

    /// <summary>The innermost open scope of this thread, if any.</summary>
    public static TensorScope? Current => _current;

    /// <summary>Tensors this scope will still dispose.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            foreach (var t in _owned) if (ReferenceEquals(t.Scope, this) && !t.IsDisposed) n++;
            return n;
        }
    }

    internal static void Adopt(Tensor t)
    {
        var scope = _current;
        if (scope is null) return;
        t.Scope = scope;
        scope._owned.Add(t);
    }

    /// <summary>Hands <paramref name="t"/> to the enclosing scope (or to the caller when there is none) and returns it.</summary>
    public Tensor Escape(Tensor t)
    {
        if (!ReferenceEquals(t.Scope, this))
            throw new InvalidOperationException($"TensorScope.Escape: tensor {t} is not owned by this scope.");
        t.Scope = null;
        if (_parent is not null && !_parent._ended)
        {
            t.Scope = _parent;
            _parent._owned.Add(t);
        }
        return t;
    }

    public void Dispose()
    {
        if (_ended) return;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("TensorScope: scopes must end in the reverse order of their creation (an inner scope is still open).");
        _ended = true;
        _current = _parent;
        foreach (var t in _owned)
        {
            // A tensor that was kept, escaped or disposed already no longer points at this scope.
            if (ReferenceEquals(t.Scope, this)) t.Dispose();
        }
        _owned.Clear();
    }
}
