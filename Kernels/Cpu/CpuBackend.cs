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
    private readonly Dictionary<int, Stack<float[]>> _pool = new();
    private readonly object _poolLock = new();

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
            if (_pool.TryGetValue(n, out var stack) && stack.Count > 0) array = stack.Pop();
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
            var info = GC.GetGCMemoryInfo();
            long free = Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes);
            long pooled = 0;
            lock (_poolLock)
                foreach (var (length, stack) in _pool) pooled += (long)length * stack.Count * sizeof(float);
            return free + pooled;
        }
    }

    /// <summary>Drops every pooled array (memory goes back to the GC).</summary>
    public void TrimPool()
    {
        lock (_poolLock) _pool.Clear();
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
