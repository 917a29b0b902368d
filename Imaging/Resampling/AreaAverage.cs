namespace ILGpuSat.Imaging.Resampling;

/// <summary>
/// Shrinking by pixel-area averaging (OpenCV's INTER_AREA, MATLAB's 'box' when the factor is whole): each output pixel
/// is the mean of the input area it covers, fractional pixels at its edges weighted by the share covered. divcolor's
/// fields are colour at low resolution: a mean of ab over the area is the colour a coarse pixel has, where a
/// cubic kernel would ring at edges between land covers. Separable: rows first, then columns, in double.
/// </summary>
public static class AreaAverage
{
    /// <summary>A plane (width x height, row-major) shrunk to outWidth x outHeight (each at most the input's).</summary>
    public static float[] Shrink(ReadOnlySpan<float> plane, int width, int height, int outWidth, int outHeight)
    {
        if (width < 1 || height < 1 || plane.Length != width * height)
            throw new ArgumentException($"AreaAverage: {plane.Length} values for {width}x{height}.");
        if (outWidth < 1 || outHeight < 1 || outWidth > width || outHeight > height)
            throw new ArgumentException($"AreaAverage: {outWidth}x{outHeight} must lie between 1x1 and the input's {width}x{height} (it only shrinks).");
        var columns = Weights(width, outWidth);
        var rows = Weights(height, outHeight);
        var horizontal = new double[outWidth * height];
        for (int y = 0; y < height; y++)
            for (int o = 0; o < outWidth; o++)
            {
                double sum = 0;
                foreach (var (i, w) in columns[o]) sum += w * plane[y * width + i];
                horizontal[y * outWidth + o] = sum;
            }
        var result = new float[outWidth * outHeight];
        for (int o = 0; o < outHeight; o++)
            for (int x = 0; x < outWidth; x++)
            {
                double sum = 0;
                foreach (var (i, w) in rows[o]) sum += w * horizontal[i * outWidth + x];
                result[o * outWidth + x] = (float)sum;
            }
        return result;
    }

    /// <summary>Per output index, the input indices it covers and the share of the output pixel each takes (summing to 1).</summary>
    private static (int Index, double Weight)[][] Weights(int length, int outLength)
    {
        double scale = (double)length / outLength;
        var weights = new (int, double)[outLength][];
        for (int o = 0; o < outLength; o++)
        {
            double start = o * scale, end = (o + 1) * scale;
            var list = new List<(int, double)>();
            for (int i = (int)Math.Floor(start); i < Math.Min(length, (int)Math.Ceiling(end)); i++)
            {
                double covered = Math.Min(end, i + 1) - Math.Max(start, i);
                if (covered > 1e-12) list.Add((i, covered / scale));
            }
            weights[o] = list.ToArray();
        }
        return weights;
    }
}
