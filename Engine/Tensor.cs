using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;

namespace ILGpuSat.Engine;

/// <summary>
/// A float32, contiguous, row-major (NCHW for images) array stored in one <see cref="DeviceBuffer"/>
/// of a <see cref="Kernels.Backend"/>, plus what reverse-mode autograd needs: whether it requires a
/// gradient, the accumulated gradient <see cref="Grad"/>, and the node that produced it.
///
/// Lifetime: a tensor created inside a <see cref="TensorScope"/> is disposed when the scope ends
/// (its buffer goes back to the backend's pool) unless <see cref="Keep"/> is called. Tensors made
/// outside any scope (parameters, datasets) are disposed by their owner.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly int[] _shape;
    private DeviceBuffer? _buffer;
    private bool _requiresGrad;

    /// <summary>Wraps a buffer of exactly the shape's length; the tensor owns it from now on.</summary>
    internal Tensor(DeviceBuffer buffer, int[] shape)
    {
        long length = CheckShape(shape, "tensor");
        if (buffer.Length != length)
            throw new ArgumentException($"tensor: shape {Format(shape)} needs {length} floats but the buffer holds {buffer.Length}.");
        _buffer = buffer;
        _shape = (int[])shape.Clone();
        Length = length;
        Backend = buffer.Backend;
        TensorScope.Adopt(this);
    }

    // ---- creation -----------------------------------------------------------------------------

    /// <summary>A tensor holding a copy of <paramref name="data"/> (row-major) with the given shape.</summary>
    public static Tensor FromArray(float[] data, int[] shape, Backend backend, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        long length = CheckShape(shape, "Tensor.FromArray");
        if (data.Length != length)
            throw new ArgumentException($"Tensor.FromArray: shape {Format(shape)} needs {length} values but the array has {data.Length}.");
        var t = Empty(shape, backend);
        t.Backend.Upload(data, t.Buffer);
        t.RequiresGrad = requiresGrad;
        return t;
    }

    /// <summary>A tensor whose contents are undefined (a pooled buffer); for outputs about to be overwritten.</summary>
    public static Tensor Empty(int[] shape, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        long length = CheckShape(shape, "Tensor.Empty");
        return new Tensor(backend.Allocate(length), shape);
    }

    public static Tensor Full(int[] shape, float value, Backend backend, bool requiresGrad = false)
    {
        var t = Empty(shape, backend);
        t.Backend.Fill(t.Buffer, value);
        t.RequiresGrad = requiresGrad;
        return t;
    }

    public static Tensor Zeros(int[] shape, Backend backend, bool requiresGrad = false) => Full(shape, 0f, backend, requiresGrad);
    public static Tensor Ones(int[] shape, Backend backend, bool requiresGrad = false) => Full(shape, 1f, backend, requiresGrad);

    /// <summary>A zero-dimensional (one-element) tensor, like <c>torch.tensor(value)</c>.</summary>
    public static Tensor Scalar(float value, Backend backend, bool requiresGrad = false) => Full([], value, backend, requiresGrad);

    // ---- shape --------------------------------------------------------------------------------

    public Backend Backend { get; }

    /// <summary>A copy of the shape (outermost dimension first).</summary>
    public int[] Shape => (int[])_shape.Clone();

    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Size of dimension <paramref name="dim"/>; negative counts from the end.</summary>
    public int Size(int dim)
    {
        int d = dim < 0 ? dim + _shape.Length : dim;
        if (d < 0 || d >= _shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), $"tensor {Format(_shape)} has no dimension {dim}.");
        return _shape[d];
    }

    internal ReadOnlySpan<int> ShapeSpan => _shape;

    /// <summary>The storage; throws if the tensor has been disposed (for example by its scope).</summary>
    public DeviceBuffer Buffer => _buffer ?? throw new ObjectDisposedException(nameof(Tensor),
        $"tensor {Format(_shape)} was used after it was disposed (was it made inside a TensorScope that has ended? call Keep() to keep it).");

    public bool IsDisposed => _buffer is null;

    // ---- autograd -----------------------------------------------------------------------------

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves only (tensors not produced by a
    /// recorded op); op outputs require a gradient when any input does and grad mode is on.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null && !value)
                throw new InvalidOperationException($"tensor {Format(_shape)} is the output of '{GradFn.Op}'; only leaf tensors can stop requiring a gradient.");
            _requiresGrad = value;
        }
    }

    /// <summary>Gradient accumulated by <see cref="Backward()"/> (leaves only); owned by this tensor.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>The recorded op that produced this tensor; null for leaves.</summary>
    public Node? GradFn { get; internal set; }

    public bool IsLeaf => GradFn is null;

    /// <summary>Bumped by every in-place change so that backward can detect stale saved inputs.</summary>
    public int Version { get; private set; }

    internal void MarkModified() => Version++;

    /// <summary>Back-propagates from this one-element tensor (seed 1) into the leaves' <see cref="Grad"/>.</summary>
    public void Backward() => Backward(releaseIntermediates: false);

    /// <summary>
    /// Back-propagates from this one-element tensor. With <paramref name="releaseIntermediates"/>, every
    /// intermediate result of the recorded graph that a scope owns (not <see cref="Keep"/>-ed, not this
    /// tensor) is disposed as soon as the last backward rule that reads it has run, as PyTorch frees a
    /// graph's saved tensors during backward: the peak memory of a training step is then the forward's
    /// activations plus the gradients in flight, not both in full. Reading such an intermediate (say, a
    /// network output) after this backward is an error naming the disposed tensor: read or Keep() it first.
    /// </summary>
    public void Backward(bool releaseIntermediates)
    {
        if (Length != 1)
            throw new InvalidOperationException($"backward: called on a tensor of shape {Format(_shape)}; without an explicit gradient it must hold one element.");
        Autograd.Backward(this, null, releaseIntermediates);
    }

    /// <summary>Back-propagates <paramref name="gradient"/> (the upstream gradient, same shape as this tensor).</summary>
    public void Backward(Tensor gradient)
    {
        if (!gradient.ShapeSpan.SequenceEqual(_shape))
            throw new ArgumentException($"backward: gradient {Format(gradient._shape)} does not match tensor {Format(_shape)}.");
        Autograd.Backward(this, gradient, releaseIntermediates: false);
    }

    /// <summary>Drops the accumulated gradient (its buffer goes back to the pool), like set_to_none.</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    // ---- data ---------------------------------------------------------------------------------

    /// <summary>Copies the contents to the host (waits for the device).</summary>
    public float[] ToArray()
    {
        var result = new float[Length];
        Backend.Download(Buffer, result);
        return result;
    }

    /// <summary>The value of a one-element tensor (waits for the device).</summary>
    public float Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"item: tensor {Format(_shape)} has {Length} elements, not one.");
        Span<float> one = stackalloc float[1];
        Backend.Download(Buffer, one);
        return one[0];
    }

    /// <summary>Overwrites the contents in place (no autograd record).</summary>
    public void CopyFrom(Tensor source)
    {
        if (!source.ShapeSpan.SequenceEqual(_shape))
            throw new ArgumentException($"copy: source {Format(source._shape)} does not match destination {Format(_shape)}.");
        if (ReferenceEquals(source.Backend, Backend)) Backend.Copy(source.Buffer, Buffer);
        else Backend.Upload(source.ToArray(), Buffer);
        MarkModified();
    }

    /// <summary>Overwrites the contents in place from host values (row-major).</summary>
    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"copy: {values.Length} values into tensor {Format(_shape)} of {Length} elements.");
        Backend.Upload(values, Buffer);
        MarkModified();
    }

    /// <summary>Fills in place with one value (no autograd record).</summary>
    public void Fill(float value)
    {
        Backend.Fill(Buffer, value);
        MarkModified();
    }

    /// <summary>A copy that does not require a gradient and has no history.</summary>
    public Tensor Clone(Backend? backend = null)
    {
        var copy = Empty(_shape, backend ?? Backend);
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>This tensor's data on another backend (a copy), or this tensor if it is already there.</summary>
    public Tensor To(Backend backend) => ReferenceEquals(backend, Backend) ? this : Clone(backend);

    // ---- lifetime -----------------------------------------------------------------------------

    internal TensorScope? Scope { get; set; }

    /// <summary>Takes this tensor out of its scope: the caller now owns it and must dispose it.</summary>
    public Tensor Keep()
    {
        Scope = null;
        return this;
    }

    /// <summary>
    /// Frees this intermediate now, when nothing can read it any more: forward code calls it right after a value's
    /// last use, so an inference forward holds only the activations still to be read (PyTorch's no_grad frees them
    /// by reference counting; here the forward says when). It does nothing in grad mode, where a backward rule may
    /// have saved the tensor, and nothing to a tensor no scope owns (parameters, kept tensors, a caller's input made
    /// outside a scope). Callers never release a tensor they were given as input.
    /// </summary>
    public void ReleaseIfNoGrad()
    {
        if (Autograd.IsGradEnabled || Scope is null) return;
        Dispose();
    }

    /// <summary>
    /// <paramref name="next"/>, computed from this tensor as its last read, after <see cref="ReleaseIfNoGrad"/> on this
    /// one, unless next is this tensor itself (a layer that returned its input): <c>x = x.ReplacedBy(f(x))</c>.
    /// </summary>
    public Tensor ReplacedBy(Tensor next)
    {
        if (!ReferenceEquals(next, this)) ReleaseIfNoGrad();
        return next;
    }

    public void Dispose()
    {
        Scope = null;
        Grad?.Dispose();
        Grad = null;
        _buffer?.Dispose();
        _buffer = null;
    }

    public override string ToString()
    {
        string s = $"Tensor{Format(_shape)}";
        if (IsDisposed) return s + " (disposed)";
        if (GradFn is not null) return s + $" grad_fn={GradFn.Op}";
        return RequiresGrad ? s + " requires_grad" : s;
    }

    // ---- helpers ------------------------------------------------------------------------------

    /// <summary>"[2,3,8,8]": how shapes appear in every error message.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    private static long CheckShape(int[] shape, string op)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long length = 1;
        foreach (int d in shape)
        {
            if (d <= 0) throw new ArgumentException($"{op}: shape {Format(shape)} has a non-positive dimension.");
            length *= d;
        }
        if (length > Array.MaxLength)
            throw new ArgumentException($"{op}: shape {Format(shape)} has {length} elements, more than one buffer can hold.");
        return length;
    }
}
