namespace ILGpuSat.Kernels.Cuda;

/// <summary>A kernel or driver call failed on the GPU (not out of memory). The message names the op that
/// faulted first; after such a fault the CUDA context is unusable until the process restarts.</summary>
public sealed class DeviceFaultException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
