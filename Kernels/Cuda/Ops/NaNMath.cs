namespace ILGpuSat.Kernels.Cuda.Ops;

/// <summary>
/// Comparisons that let a NaN through, as PyTorch and the CPU backend do. Under ILGPU's fast math,
/// MathF.Max compiles to PTX <c>max.ftz.f32</c>, which returns the other operand when one is NaN: a NaN
/// in max-pool, softmax or batch-norm statistics vanished on the GPU while the CPU propagated it, and a
/// trainer's non-finite check saw nothing. Written as compares and selects, these stay NaN-true.
/// </summary>
public static class NaNMath
{
    /// <summary>The larger of two values; NaN when either is NaN.</summary>
    public static float Max(float a, float b) => a > b || float.IsNaN(a) ? a : b;

    /// <summary>True when <paramref name="candidate"/> replaces the running maximum <paramref name="best"/> in an
    /// arg-max scan in order (the CPU backend's rule: a larger value or a NaN wins).</summary>
    public static bool Replaces(float candidate, float best) => candidate > best || float.IsNaN(candidate);
}
