namespace ILGpuSat.Kernels.Cuda;

/// <summary>How a kernel method is launched, which decides how it is compiled for PTX export.</summary>
public enum KernelGrouping
{
    /// <summary>First parameter is an Index1D/2D/3D; loaded with LoadAutoGroupedKernel.</summary>
    Implicit,
    /// <summary>Uses Group/Grid/SharedMemory itself; loaded with LoadKernel and launched with a KernelConfig.</summary>
    Explicit,
}

/// <summary>
/// Marks a static kernel method of the CUDA backend. <see cref="PtxExport"/> finds every marked method in
/// this assembly, compiles it for sm_90 and checks it with ptxas, so a new kernel is covered by adding the
/// attribute where it is declared (no central list to edit).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CudaKernelAttribute(KernelGrouping grouping) : Attribute
{
    public KernelGrouping Grouping { get; } = grouping;

    /// <summary>Hot, register-heavy kernels (convolution, GEMM) that must not spill to local memory: the PTX test fails if they do.</summary>
    public bool MustNotSpill { get; init; }
}
