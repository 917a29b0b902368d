namespace ILGpuSat.Kernels.Cpu;

/// <summary>A host array from the CPU backend's pool.</summary>
public sealed class CpuBuffer : DeviceBuffer
{
    private readonly CpuBackend _owner;

    internal CpuBuffer(CpuBackend owner, float[] array, long length) : base(owner, length)
    {
        _owner = owner;
        Array = array;
    }

    /// <summary>The backing array; may be longer than <see cref="DeviceBuffer.Length"/>.</summary>
    public float[] Array { get; }

    public Span<float> Span => Array.AsSpan(0, (int)Length);

    protected override void Release() => _owner.Return(Array);
}

/// <summary>
/// The managed CPU backend: vectorised (System.Runtime.Intrinsics / Vector&lt;T&gt;) and multithreaded
/// kernels. It is also the reference the CUDA kernels are tested against. The ops live in the
/// partial files beside this one, one file per family.
/// </summary>
public sealed partial class CpuBackend : Backend
{
    /// <summary>Idle arrays by length; <see cref="_lengths"/> holds the lengths that have one, in order.</summary>
    private readonly Dictionary<int, Stack<float[]>> _pool = new();
    private readonly SortedSet<int> _lengths = new();
    private readonly object _poolLock = new();

    /// <summary>
    /// A request may take an idle array up to this many times longer than it needs. Exact-length reuse alone kept one
    /// array of every size a forward ever made, about twice its live peak (liu2018's tiles: 2.0 GB idle for a 1.07 GB
    /// peak); letting a 128 MB request take an idle 192 MB one holds the pool near the peak.
    /// </summary>
    private const double MaxOversize = 2.0;

    public override string Name => "cpu";

    /// <summary>Threads used by the kernels (default: all cores).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public override DeviceBuffer Allocate(long length)
    {
        if (length < 0 || length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"cpu: cannot allocate a buffer of {length} floats.");
        int n = (int)Math.Max(length, 1);
        float[]? array = null;
        lock (_poolLock)
        {
            // The shortest idle array that holds n floats and is not more than MaxOversize times n.
            int limit = (int)Math.Min(int.MaxValue, (long)(n * MaxOversize));
            foreach (int idle in _lengths.GetViewBetween(n, Math.Max(n, limit)))
            {
                var stack = _pool[idle];
                array = stack.Pop();
                if (stack.Count == 0) _lengths.Remove(idle);
                break;
            }
        }
        array ??= GC.AllocateUninitializedArray<float>(n);
        return new CpuBuffer(this, array, length);
    }

    internal void Return(float[] array)
    {
        lock (_poolLock)
        {
            if (!_pool.TryGetValue(array.Length, out var stack)) _pool[array.Length] = stack = new Stack<float[]>();
            stack.Push(array);
            _lengths.Add(array.Length);
        }
    }

    /// <summary>
    /// The GC's view of free memory (its limit, the machine's RAM or the container's, less the memory in use
    /// at the last collection) plus this backend's idle pooled arrays, which new buffers reuse first.
    /// </summary>
    public override long AvailableBytes
    {
        get
        {
            long free = FreeHostBytes();
            long pooled = 0;
            lock (_poolLock)
                foreach (var (length, stack) in _pool) pooled += (long)length * stack.Count * sizeof(float);
            return free + pooled;
        }
    }

    /// <summary>Drops every pooled array (memory goes back to the GC).</summary>
    public void TrimPool()
    {
        lock (_poolLock)
        {
            _pool.Clear();
            _lengths.Clear();
        }
    }

    public override void Upload(ReadOnlySpan<float> source, DeviceBuffer destination)
    {
        var d = Host(destination);
        if (source.Length != d.Length)
            throw new ArgumentException($"cpu upload: {source.Length} floats into a buffer of {d.Length}.");
        source.CopyTo(d);
    }

    public override void Download(DeviceBuffer source, Span<float> destination)
    {
        var s = Host(source);
        if (destination.Length != s.Length)
            throw new ArgumentException($"cpu download: a buffer of {s.Length} floats into {destination.Length}.");
        s.CopyTo(destination);
    }

    public override void Synchronize() { }

    /// <summary>The host span of a buffer that must belong to this backend.</summary>
    internal Span<float> Host(DeviceBuffer buffer)
    {
        if (buffer is not CpuBuffer c || !ReferenceEquals(c.Backend, this))
            throw new ArgumentException($"cpu: buffer belongs to backend '{buffer.Backend.Name}', not this CPU backend.");
        if (c.IsDisposed) throw new ObjectDisposedException(nameof(CpuBuffer), "cpu: buffer used after it was disposed.");
        return c.Span;
    }

    internal float[] HostArray(DeviceBuffer buffer)
    {
        Host(buffer);
        return ((CpuBuffer)buffer).Array;
    }
}
