using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ILGpuSat.Kernels.Cpu.Gemm;

/// <summary>
/// Per-thread packing buffers: pinned, 64-byte aligned and kept between calls, so that a GEMM or
/// convolution allocates nothing in steady state (pool threads live for the whole process).
/// Each user takes its own <see cref="Slot"/>; a pointer from one slot stays valid while the same
/// thread asks for the other slots, but not across a second request for the same slot.
/// </summary>
internal static unsafe class Scratch
{
    public enum Slot { PackA, PackB, Conv, Count }

    [ThreadStatic] private static float[]?[]? _arrays;

    /// <summary>At least <paramref name="floats"/> floats, aligned to a cache line; contents undefined.</summary>
    public static float* Get(Slot slot, long floats)
    {
        var arrays = _arrays ??= new float[]?[(int)Slot.Count];
        var a = arrays[(int)slot];
        if (a is null || a.Length < floats + 16)
        {
            long grown = Math.Max(floats + 16, a is null ? 0 : a.Length + a.Length / 2);
            if (grown > Array.MaxLength) throw new OutOfMemoryException($"cpu gemm: scratch of {floats} floats is too large.");
            // Pinned arrays live on the pinned object heap: they never move, so raw pointers stay valid.
            a = GC.AllocateUninitializedArray<float>((int)grown, pinned: true);
            arrays[(int)slot] = a;
        }
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(a));
        return (float*)(((nint)p + 63) & ~(nint)63);
    }
}
