namespace ILGpuSat.Engine.Verification;

/// <summary>One tensor compared against its PyTorch reference.</summary>
/// <param name="Tensor">What was compared, e.g. "output", "d/dweight", "running_mean after update".</param>
/// <param name="RelError">See <see cref="GoldenComparison.RelativeError"/>; NaN when the shapes differ or the tensor is missing.</param>
/// <param name="Problem">Why it failed (starts with <paramref name="Tensor"/>), or null when it passed.</param>
public sealed record GoldenComparison(string Tensor, double RelError, bool Pass, string? Problem)
{
    /// <summary>The tolerance every PyTorch golden comparison uses.</summary>
    public const double DefaultTolerance = 1e-4;

    /// <summary>
    /// The error of a tensor against its reference:
    ///   rel = max_i |actual_i - expected_i| / max(max_i |expected_i|, 1e-30),
    /// i.e. the worst absolute error measured against the tensor's own scale (elementwise relative
    /// error would be meaningless for entries that cancel to ~0). Any non-finite value gives +infinity.
    /// </summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"golden comparison: {actual.Length} values against {expected.Length} expected.");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i])) return double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }
        return maxDiff / Math.Max(maxRef, 1e-30);
    }

    /// <summary>
    /// Compares <paramref name="actual"/> with <paramref name="expected"/>. Shapes must match exactly,
    /// except that a one-element scalar may be [] or [1] (PyTorch's 0-d results).
    /// </summary>
    public static GoldenComparison Of(string tensor, float[] actual, int[] actualShape, float[] expected, int[] expectedShape,
        double tolerance = DefaultTolerance)
    {
        bool scalar = expected.Length == 1 && actual.Length == 1 && actualShape.Length <= 1 && expectedShape.Length <= 1;
        if (!scalar && !actualShape.AsSpan().SequenceEqual(expectedShape))
            return new(tensor, double.NaN, false, $"{tensor}: shape {Format(actualShape)}, PyTorch has {Format(expectedShape)}");
        if (actual.Length != expected.Length)
            return new(tensor, double.NaN, false, $"{tensor}: {actual.Length} values, PyTorch has {expected.Length}");
        double rel = RelativeError(actual, expected);
        if (rel <= tolerance) return new(tensor, rel, true, null);
        int worst = WorstIndex(actual, expected);
        return new(tensor, rel, false,
            $"{tensor}: max rel error {rel:E3} > {tolerance:E1} (worst at flat index {worst}: got {actual[worst]:R}, expected {expected[worst]:R})");
    }

    /// <summary>A tensor that should have been compared but could not be (e.g. no gradient reached it).</summary>
    public static GoldenComparison Missing(string tensor, string why) => new(tensor, double.NaN, false, $"{tensor}: {why}");

    private static int WorstIndex(float[] a, float[] b)
    {
        int worst = 0;
        double w = -1;
        for (int i = 0; i < a.Length; i++)
        {
            double d = float.IsFinite(a[i]) ? Math.Abs((double)a[i] - b[i]) : double.PositiveInfinity;
            if (d > w) { w = d; worst = i; }
        }
        return worst;
    }

    private static string Format(int[] shape) => "[" + string.Join(", ", shape) + "]";
}
