using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cuda;

namespace ILGpuSat.Tools.Bench;

/// <summary>
/// Peak memory of a benchmark, measured as PyTorch's side of it measures its own: on the CPU the growth of the
/// process's peak resident set from construction on; on CUDA the device memory the pool holds at its largest,
/// sampled after each step (<see cref="Sample"/>). Construct it before the model is built.
/// </summary>
internal sealed class PeakMeter
{
    private readonly Backend _backend;
    private readonly long? _before = ProcessMemory.ResidentBytes();
    private readonly bool _peakReset;
    private long _poolPeak;

    public PeakMeter(Backend backend)
    {
        _backend = backend;
        _peakReset = backend is not CudaBackend && ProcessMemory.TryResetPeak();
        backend.ResetPeakBytesInUse();
    }

    public void Sample()
    {
        if (_backend is CudaBackend cuda) _poolPeak = Math.Max(_poolPeak, cuda.PooledBytes);
    }

    /// <summary>The peak (null where the process peak cannot be reset) and what kind of peak it is.</summary>
    public (long? Bytes, string Kind) Peak()
    {
        if (_backend is CudaBackend) return (_poolPeak, "device memory held by the pool");
        long? hwm = ProcessMemory.PeakResidentBytes();
        return (_peakReset && hwm is not null && _before is not null ? Math.Max(0, hwm.Value - _before.Value) : null, "process peak RSS growth");
    }
}
