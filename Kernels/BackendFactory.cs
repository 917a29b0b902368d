using ILGPU;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;

namespace ILGpuSat.Kernels;

/// <summary>Creates backends by name: "cpu", "cuda", or "auto" (CUDA when a device is present, else CPU).</summary>
public static class Backends
{
    public static Backend Create(string device) => device.Trim().ToLowerInvariant() switch
    {
        "cpu" => new CpuBackend(),
        "cuda" or "gpu" => CreateCuda(),
        "auto" => TryCreateCuda(out var cuda, out _) ? cuda! : new CpuBackend(),
        _ => throw new ArgumentException($"Unknown device '{device}': use cpu, cuda or auto."),
    };

    /// <summary>Why "auto" would not pick CUDA, or null when it would (for a log line).</summary>
    public static string? CudaUnavailableReason()
    {
        if (!TryCreateCuda(out var cuda, out var error)) return error!.Message;
        cuda!.Dispose();
        return null;
    }

    /// <summary>The CUDA backend on the first CUDA device; throws <see cref="CudaUnavailableException"/> with what to try when there is none.</summary>
    public static CudaBackend CreateCuda(int deviceIndex = 0)
    {
        LibCudaResolver.Register();
        if (!LibCudaResolver.TryLoad(out var driverPath))
            throw new CudaUnavailableException(
                $"cuda: the NVIDIA driver library libcuda was not found (searched {LibCudaResolver.SearchDescription}). " +
                "Install the NVIDIA driver (nvidia-smi should list the GPU; in a container run with the NVIDIA container toolkit, e.g. --gpus all), or use --device cpu.");
        Context? context = null;
        try
        {
            context = Context.Create(b => Configure(b.Cuda()));
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
                throw new CudaUnavailableException(
                    $"cuda: the driver ({driverPath}) loaded but reports no CUDA device. Check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu.");
            if (deviceIndex < 0 || deviceIndex >= devices.Count)
                throw new CudaUnavailableException($"cuda: device {deviceIndex} requested but {devices.Count} CUDA device(s) exist.");
            var accelerator = devices[deviceIndex].CreateCudaAccelerator(context);
            return new CudaBackend(context, accelerator, simulated: false);
        }
        catch (CudaUnavailableException)
        {
            context?.Dispose();
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            throw new CudaUnavailableException(
                $"cuda: could not initialise the device with the driver at {driverPath}: {e.Message} " +
                "Check that the driver supports your GPU (nvidia-smi) and is not older than CUDA 11.8, or use --device cpu.", e);
        }
    }

    /// <summary>
    /// The CUDA backend's kernels on ILGPU's CPU accelerator (one OS thread per GPU thread; slow, for
    /// tests). The simulated device has <paramref name="warpSize"/> x <paramref name="warpsPerGroup"/>
    /// threads per group, so explicitly grouped kernels run with small, non-trivial blocks. With
    /// <paramref name="boundsChecks"/> every view access is checked against the buffer's length (a kernel
    /// reading past a buffer would otherwise read the pooled allocation's slack unnoticed).
    /// </summary>
    public static CudaBackend CreateCudaSimulator(int warpSize = 4, int warpsPerGroup = 4, int multiprocessors = 1, bool boundsChecks = true)
    {
        var device = new CPUDevice(warpSize, warpsPerGroup, multiprocessors);
        var context = Context.Create(b =>
        {
            Configure(b.CPU(device));
            if (boundsChecks) b.Assertions();
        });
        try
        {
            var accelerator = device.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel);
            return new CudaBackend(context, accelerator, simulated: true);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Settings shared by the real and the simulated CUDA backend and by the PTX export.
    /// O1, not O2: O2 turns on ILGPU's uniform-branch analysis, which takes kernel parameters as uniform
    /// before the implicit index is bound, so every implicitly grouped kernel branched on its thread index
    /// with <c>bra.uni</c> (168 predicated bra.uni across the kernels; undefined behaviour on hardware, ILGPU
    /// issue #846). O1 emits none (checked by the PTX tests). It costs the conv GEMM its 16-byte vector
    /// stores (16 st.global.v4 per kernel at O2, none at O1) and 0-5 registers; to be won back, measured,
    /// once the backend has run on a GPU.
    /// EnableAlgorithms (ILGPU.Algorithms) supplies the PTX implementations of MathF.Exp and MathF.Log
    /// (XMath) that the softmax and cross-entropy kernels call: without it they do not compile
    /// ("'ExpF' does not have an intrinsic implementation for this backend").</summary>
    internal static Context.Builder Configure(Context.Builder b) =>
        b.Math(MathMode.Fast32BitOnly).Optimize(OptimizationLevel.O1).EnableAlgorithms();

    private static bool TryCreateCuda(out CudaBackend? backend, out Exception? error)
    {
        try
        {
            backend = CreateCuda();
            error = null;
            return true;
        }
        catch (CudaUnavailableException e)
        {
            backend = null;
            error = e;
            return false;
        }
    }
}
