using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// Comparison against a PyTorch reference. The error of a tensor is
///   rel = max_i |actual_i - expected_i| / max(max_i |expected_i|, 1e-30),
/// i.e. the worst absolute error measured against the tensor's own scale (elementwise relative error
/// would be meaningless for entries that cancel to ~0). Non-finite values always fail.
/// </summary>
internal static class GoldenAssert
{
    public const double DefaultTolerance = 1e-4;

    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"length {actual.Length} vs {expected.Length}");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i])) return double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }
        return maxDiff / Math.Max(maxRef, 1e-30);
    }

    /// <summary>Shapes must match exactly, except that a scalar may be [] or [1].</summary>
    public static void Close(string what, float[] actual, int[] actualShape, float[] expected, int[] expectedShape,
        double tolerance = DefaultTolerance)
    {
        bool scalar = expected.Length == 1 && actual.Length == 1 && actualShape.Length <= 1 && expectedShape.Length <= 1;
        if (!scalar)
            Assert.That(actualShape, Is.EqualTo(expectedShape), $"{what}: shape");
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: element count");
        double rel = RelativeError(actual, expected);
        int worst = WorstIndex(actual, expected);
        TestContext.Out.WriteLine($"{what}: max rel error {rel:E2}");
        Assert.That(rel, Is.LessThanOrEqualTo(tolerance),
            $"{what}: max rel error {rel:E3} > {tolerance:E1} (worst at flat index {worst}: got {actual[worst]:R}, expected {expected[worst]:R})");
    }

    private static int WorstIndex(float[] a, float[] b)
    {
        int worst = 0; double w = -1;
        for (int i = 0; i < a.Length; i++)
        {
            double d = float.IsFinite(a[i]) ? Math.Abs((double)a[i] - b[i]) : double.PositiveInfinity;
            if (d > w) { w = d; worst = i; }
        }
        return worst;
    }
}
