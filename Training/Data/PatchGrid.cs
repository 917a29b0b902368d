namespace ILGpuSat.Training.Data;

/// <summary>
/// Top-left corners of the patches cut from an image: a regular grid with the given stride, patches
/// fully inside the image, so (size - patch) / stride + 1 positions per axis (0 if the image is
/// smaller than a patch). The image's right/bottom remainder beyond the last full stride is not used.
/// </summary>
public static class PatchGrid
{
    /// <summary>Number of positions along one axis.</summary>
    public static int CountAlong(int size, int patch, int stride)
    {
        if (patch <= 0 || stride <= 0) throw new ArgumentOutOfRangeException(nameof(patch), $"PatchGrid: patch ({patch}) and stride ({stride}) must be positive.");
        return size < patch ? 0 : (size - patch) / stride + 1;
    }

    /// <summary>Number of patches in a width x height image.</summary>
    public static int Count(int width, int height, int patch, int stride) =>
        CountAlong(width, patch, stride) * CountAlong(height, patch, stride);

    /// <summary>Top-left corner (x, y) of patch number <paramref name="index"/> (row-major over the grid).</summary>
    public static (int X, int Y) Origin(int width, int index, int patch, int stride)
    {
        int nx = CountAlong(width, patch, stride);
        return (index % nx * stride, index / nx * stride);
    }
}
