using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace ILGpuSat.Kernels.Cuda;

/// <summary>Device memory from the CUDA backend's pool; <see cref="View"/> is exactly <see cref="DeviceBuffer.Length"/> long.</summary>
public sealed class CudaBuffer : DeviceBuffer
{
    private readonly CudaBackend _owner;

    internal CudaBuffer(CudaBackend owner, MemoryBuffer1D<float, Stride1D.Dense> memory, long length) : base(owner, length)
    {
        _owner = owner;
        Memory = memory;
        View = memory.View.SubView(0, Math.Max(length, 1)).AsContiguous();
    }

    /// <summary>The pooled allocation; may be longer than <see cref="DeviceBuffer.Length"/>.</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    /// <summary>The buffer's elements as a kernel argument (one element for an empty buffer, never read).</summary>
    public ArrayView<float> View { get; }

    protected override void Release() => _owner.Return(Memory);
}

/// <summary>
/// The ILGPU backend: every op is one or a few kernels queued on the accelerator's default stream,
/// with no host synchronisation inside an op (scalars stay on the device). Runs on a CUDA GPU, or
/// (for tests, <see cref="Backends.CreateCudaSimulator"/>) on ILGPU's CPU accelerator, which executes
/// the same kernels with one OS thread per GPU thread.
///
/// Conventions for the partial files (ops by family, kernels as static methods in <c>*Kernels</c>
/// classes marked <see cref="CudaKernelAttribute"/> so that <see cref="PtxExport"/> compiles them):
/// <list type="bullet">
/// <item>Get a kernel argument with <see cref="View(DeviceBuffer, string, string, long)"/>, which also checks
/// ownership and length.</item>
/// <item>Load each kernel once: <c>Cached(ref _field, a =&gt; a.LoadAutoGroupedKernel&lt;...&gt;(Kernels.Method))</c>
/// (implicitly grouped, launched as <c>k(Stream, n, ...)</c>) or <c>a.LoadKernel&lt;...&gt;(...)</c> for explicitly
/// grouped kernels (launched as <c>k(Stream, new KernelConfig(grid, group), ...)</c>).</item>
/// <item>Launch inside <see cref="Launch{TSizes}"/> so that a device failure is reported with the op and its sizes.</item>
/// </list>
/// </summary>
public sealed partial class CudaBackend : Backend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly DevicePool _pool;
    private bool _disposed;

    internal CudaBackend(Context context, Accelerator accelerator, bool simulated)
    {
        _context = context;
        _accelerator = accelerator;
        IsSimulated = simulated;
        _pool = new DevicePool(accelerator);
        // Block size of the explicitly grouped reductions: 256 on a GPU, smaller on the CPU simulator
        // (whose group size is bounded by its thread count). Always a power of two <= ReduceShared.
        int g = 1;
        while (g * 2 <= Math.Min(ReduceShared, accelerator.MaxNumThreadsPerGroup)) g *= 2;
        ReduceGroup = g;
        // Enough blocks to fill the device (8 resident 256-thread blocks per SM); the partial sums are
        // combined by a single second-pass block that loops over them.
        ReduceBlocks = simulated ? 4 : Math.Max(accelerator.NumMultiprocessors * 8, 1);
    }

    public override string Name => IsSimulated ? "cuda-sim" : "cuda";

    /// <summary>True when the kernels run on ILGPU's CPU accelerator rather than a GPU.</summary>
    public bool IsSimulated { get; }

    /// <summary>The ILGPU accelerator the kernels run on.</summary>
    public Accelerator Accelerator => _accelerator;

    /// <summary>The stream every op is queued on (in order).</summary>
    public AcceleratorStream Stream => _accelerator.DefaultStream;

    /// <summary>A one-line description of the device.</summary>
    public string DeviceDescription
    {
        get
        {
            string mem = _accelerator.MemorySize >= 1 << 30 ? $"{_accelerator.MemorySize / (double)(1L << 30):F1} GiB" : $"{_accelerator.MemorySize >> 20} MiB";
            string arch = _accelerator is CudaAccelerator cu ? $", {cu.Architecture}" : "";
            return $"{_accelerator.Name} ({_accelerator.AcceleratorType}{arch}, {mem})";
        }
    }

    /// <summary>Threads per block of the explicitly grouped reduction kernels.</summary>
    internal int ReduceGroup { get; }
    /// <summary>Blocks of the first pass of a grid-wide reduction.</summary>
    internal int ReduceBlocks { get; }
    /// <summary>Shared-memory floats a reduction kernel allocates (a compile-time constant of the kernels).</summary>
    internal const int ReduceShared = 256;

    // ---- memory -------------------------------------------------------------------------------

    public override DeviceBuffer Allocate(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), $"{Name}: cannot allocate a buffer of {length} floats.");
        ThrowIfDisposed();
        ThrowIfFaulted("allocate");
        try { return new CudaBuffer(this, _pool.Rent(Math.Max(length, 1), Name), length); }
        catch (Exception e) when (e is not InsufficientMemoryException && IsDeviceError(e)) { throw DeviceFailure("allocate", $"{length} floats", e); }
    }

    internal void Return(MemoryBuffer1D<float, Stride1D.Dense> memory)
    {
        if (_disposed) { memory.Dispose(); return; }
        _pool.Return(memory);
    }

    /// <summary>Frees every pooled allocation not in use.</summary>
    public void TrimPool() => _pool.Trim();

    /// <summary>Bytes held by the pool (in use plus idle).</summary>
    public long PooledBytes => _pool.TotalBytes;

    /// <summary>
    /// Free device memory (cuMemGetInfo) plus the pool's idle allocations, which new buffers reuse first. On
    /// the simulator (ILGPU's CPU accelerator, host memory) the GC's estimate of free host memory.
    /// </summary>
    public override long AvailableBytes
    {
        get
        {
            ThrowIfDisposed();
            long free;
            if (_accelerator is CudaAccelerator cu)
            {
                try { free = cu.GetFreeMemory(); }
                catch (Exception e) when (IsDeviceError(e)) { throw DeviceFailure("available memory", "", e); }
            }
            else free = FreeHostBytes();
            return free + _pool.IdleBytes;
        }
    }

    public override void Upload(ReadOnlySpan<float> source, DeviceBuffer destination)
    {
        var view = View(destination, "upload", "destination");
        if (source.Length != destination.Length)
            throw new ArgumentException($"{Name} upload: {source.Length} floats into a buffer of {destination.Length}.");
        if (source.Length == 0) return;
        ThrowIfFaulted("upload");
        try { view.SubView(0, source.Length).CopyFromCPU(Stream, source); }
        catch (Exception e) when (IsDeviceError(e)) { throw DeviceFailure("upload", $"{source.Length} floats", e); }
    }

    public override void Download(DeviceBuffer source, Span<float> destination)
    {
        var view = View(source, "download", "source");
        if (destination.Length != source.Length)
            throw new ArgumentException($"{Name} download: a buffer of {source.Length} floats into {destination.Length}.");
        if (destination.Length == 0) return;
        ThrowIfFaulted("download");
        try
        {
            view.SubView(0, destination.Length).CopyToCPU(Stream, destination);
            Stream.Synchronize();
        }
        catch (Exception e) when (IsDeviceError(e)) { throw DeviceFailure("download", $"{destination.Length} floats", e); }
    }

    public override void Synchronize()
    {
        ThrowIfFaulted("synchronize");
        try { Stream.Synchronize(); }
        catch (Exception e) when (IsDeviceError(e)) { throw DeviceFailure("synchronize", "(an earlier kernel failed)", e); }
    }

    // ---- helpers for the op files ----------------------------------------------------------------

    /// <summary>
    /// The kernel view of a buffer that must belong to this backend, be alive, and hold at least
    /// <paramref name="minLength"/> floats (when given). The view is exactly the buffer's length.
    /// </summary>
    internal ArrayView<float> View(DeviceBuffer buffer, string op, string name, long minLength = -1)
    {
        if (buffer is not CudaBuffer c || !ReferenceEquals(c.Backend, this))
            throw new ArgumentException($"{op}: buffer '{name}' belongs to backend '{buffer.Backend.Name}', not this {Name} backend.");
        if (c.IsDisposed) throw new ObjectDisposedException(nameof(CudaBuffer), $"{op}: buffer '{name}' used after it was disposed.");
        if (minLength >= 0) CheckLength(op, name, buffer, minLength);
        return c.View;
    }

    /// <summary>Loads a kernel on first use and keeps it in <paramref name="slot"/> (one compile per backend).</summary>
    internal T Cached<T>(ref T? slot, Func<Accelerator, T> load) where T : class
    {
        if (slot is not null) return slot;
        ThrowIfDisposed();
        var loaded = load(_accelerator);
        return Interlocked.CompareExchange(ref slot, loaded, null) ?? loaded;
    }

    /// <summary>Runs a launch; device errors come back naming the op and its sizes (formatted only on failure).
    /// Launches are asynchronous, so a kernel fault normally surfaces at a later call; with
    /// <see cref="SynchronizeEachLaunch"/> (or ILGPUSAT_CUDA_SYNC=1) every launch waits, and a fault names its op.</summary>
    internal void Launch<TSizes>(string op, TSizes sizes, Action launch)
    {
        ThrowIfFaulted(op);
        try
        {
            launch();
            if (SynchronizeEachLaunch) Stream.Synchronize();
        }
        catch (Exception e) when (IsDeviceError(e)) { throw DeviceFailure(op, sizes?.ToString() ?? "", e); }
    }

    /// <summary>Wait for every kernel after its launch, so a fault is reported by the op that caused it
    /// (slower; for debugging). Defaults to the environment variable ILGPUSAT_CUDA_SYNC=1.</summary>
    public bool SynchronizeEachLaunch { get; set; } = Environment.GetEnvironmentVariable("ILGPUSAT_CUDA_SYNC") == "1";

    /// <summary>
    /// The first device fault (op, sizes, CUDA's message), or null. A CUDA error such as an illegal address
    /// is sticky: every later call in the context fails with it. So after the first fault every op throws a
    /// <see cref="DeviceFaultException"/> that names the op that faulted, instead of a confusing error
    /// under its own name.
    /// </summary>
    public string? Fault { get; private set; }

    private void ThrowIfFaulted(string op)
    {
        if (Fault is { } f)
            throw new DeviceFaultException($"{Name} {op}: not run, the device has been unusable since {f} (a CUDA fault is sticky; restart the process)");
    }

    /// <summary>Test seam: puts the backend in the state a real kernel fault leaves it in.</summary>
    internal void SimulateFault(string op, string message) => Fault ??= $"{op} failed: {message}";

    /// <summary>Largest element count a kernel indexes with 32-bit ints (leaves headroom for i + stride).</summary>
    internal const int MaxElements = 1 << 30;

    /// <summary>One image of a convolution past 2^30 floats is refused (larger batches go in launches of whole images,
    /// see CudaBackend.Pieces.cs); so a tile's largest tensor must stay within it.</summary>
    public override long MaxBufferFloats => MaxElements;

    /// <summary>An element count as an int, or a clear error for tensors beyond 32-bit indexing (the ops that are
    /// not cut into launches: batch norm's training passes and eval backward).</summary>
    internal static int Count(string op, long n)
    {
        if (n > MaxElements) throw new ArgumentException($"{op}: {n} elements exceed the CUDA kernels' 32-bit indexing limit of {MaxElements} (2^30) floats per tensor; split the batch or use smaller tiles.");
        return (int)n;
    }

    /// <summary>
    /// Extent and stride of a grid-stride implicitly grouped launch over n items: the grid is capped so that
    /// huge tensors loop inside the kernel rather than launching millions of blocks.
    /// </summary>
    internal (Index1D Extent, int Stride) GridStride(int n)
    {
        int cap = IsSimulated ? _accelerator.MaxNumThreadsPerGroup * 4 : _accelerator.NumMultiprocessors * 2048;
        int e = Math.Clamp(n, 1, Math.Max(cap, 1));
        return (new Index1D(e), e);
    }

    private static bool IsDeviceError(Exception e) => e is AcceleratorException or InternalCompilerException or OutOfMemoryException
        || e.GetType().Namespace?.StartsWith("ILGPU", StringComparison.Ordinal) == true;

    /// <summary>A device (or, on the simulator, host) allocation failure.</summary>
    internal static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || (e is CudaException ce && ((ce.Error ?? "").Contains("OUT_OF_MEMORY", StringComparison.OrdinalIgnoreCase)
                                      || ce.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)));

    private Exception DeviceFailure(string op, string sizes, Exception e)
    {
        if (IsOutOfMemory(e))
            return new InsufficientMemoryException($"{Name} {op} ({sizes}): the device ran out of memory{FreeMemoryText()}. Try a smaller batch or crop size.", e);
        if (Fault is { } earlier)
            return new DeviceFaultException($"{Name} {op} ({sizes}): not run, the device has been unusable since {earlier}", e);
        Fault = $"{op} ({sizes}) failed on {_accelerator.Name}: {e.Message}";
        return new DeviceFaultException($"{Name} {Fault}", e);
    }

    internal string FreeMemoryText()
    {
        try
        {
            if (_accelerator is CudaAccelerator cu)
                return $" ({cu.GetFreeMemory() / (double)(1 << 20):F0} MiB free of {_accelerator.MemorySize / (double)(1 << 20):F0} MiB, {PooledBytes / (double)(1 << 20):F0} MiB held by the pool)";
        }
        catch (Exception) { /* the device may be unusable after the failure; the message must still come out */ }
        return "";
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>
    /// Frees the pool, then the accelerator, then the context, each step on its own: after a sticky fault
    /// every driver call fails (cuMemFree included), and one failing step must neither hide the original
    /// error nor leave the accelerator or the context undisposed. Dispose never throws.
    /// </summary>
    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Fault is null) Quietly(() => Stream.Synchronize());
        Quietly(_pool.Trim);
        Quietly(_accelerator.Dispose);
        Quietly(_context.Dispose);
        base.Dispose();
    }

    private static void Quietly(Action step)
    {
        try { step(); }
        catch (Exception e) when (e is not OutOfMemoryException) { /* the device is already broken; the first fault was reported */ }
    }

    /// <summary>
    /// Device allocations bucketed by size class (four classes per power of two, at most 19% slack), reused
    /// when a buffer is disposed. A failed allocation frees the idle buckets and retries once before
    /// reporting out of memory.
    /// </summary>
    private sealed class DevicePool(Accelerator accelerator)
    {
        private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _idle = new();
        private readonly object _lock = new();
        private long _totalBytes;

        public long TotalBytes => Interlocked.Read(ref _totalBytes);

        /// <summary>Bytes of the pooled allocations no buffer uses now.</summary>
        public long IdleBytes
        {
            get
            {
                lock (_lock)
                {
                    long sum = 0;
                    foreach (var (size, stack) in _idle) sum += size * stack.Count * sizeof(float);
                    return sum;
                }
            }
        }

        public static long SizeClass(long n)
        {
            if (n <= 256) return 256;
            int shift = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)n) - 2;
            long step = 1L << shift;
            return (n + step - 1) / step * step;
        }

        public MemoryBuffer1D<float, Stride1D.Dense> Rent(long n, string backendName)
        {
            long size = SizeClass(n);
            lock (_lock)
            {
                if (_idle.TryGetValue(size, out var stack) && stack.Count > 0) return stack.Pop();
            }
            try { return New(size); }
            catch (Exception e) when (IsOutOfMemory(e))
            {
                Trim();
                try { return New(size); }
                catch (Exception e2) when (IsOutOfMemory(e2))
                {
                    string free = accelerator is CudaAccelerator cu ? $"{SafeFree(cu) / (double)(1 << 20):F0} MiB free" : "unknown free memory";
                    throw new InsufficientMemoryException(
                        $"{backendName}: out of device memory allocating {size * 4 / (double)(1 << 20):F1} MiB ({n} floats); {free} of {accelerator.MemorySize / (double)(1 << 20):F0} MiB, " +
                        $"{TotalBytes / (double)(1 << 20):F0} MiB held by this process's pool. Try a smaller batch or crop size.", e2);
                }
            }
        }

        private static long SafeFree(CudaAccelerator cu)
        {
            try { return cu.GetFreeMemory(); } catch (Exception) { return 0; }
        }

        private MemoryBuffer1D<float, Stride1D.Dense> New(long size)
        {
            var m = accelerator.Allocate1D<float>(size);
            Interlocked.Add(ref _totalBytes, size * sizeof(float));
            return m;
        }

        public void Return(MemoryBuffer1D<float, Stride1D.Dense> memory)
        {
            lock (_lock)
            {
                if (!_idle.TryGetValue(memory.Length, out var stack)) _idle[memory.Length] = stack = new();
                stack.Push(memory);
            }
        }

        public void Trim()
        {
            lock (_lock)
            {
                foreach (var stack in _idle.Values)
                    while (stack.Count > 0)
                    {
                        var m = stack.Pop();
                        Interlocked.Add(ref _totalBytes, -m.Length * sizeof(float));
                        try { m.Dispose(); }
                        catch (Exception e) when (e is not OutOfMemoryException) { /* cuMemFree fails after a sticky fault: free the rest */ }
                    }
                _idle.Clear();
            }
        }
    }
}
