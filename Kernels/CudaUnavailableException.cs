namespace ILGpuSat.Kernels;

/// <summary>Raised when a CUDA backend was asked for but no usable NVIDIA driver or device exists.</summary>
public sealed class CudaUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
