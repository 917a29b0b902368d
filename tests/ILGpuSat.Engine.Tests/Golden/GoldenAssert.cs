using ILGpuSat.Engine.Verification;
using NUnit.Framework;

namespace ILGpuSat.Engine.Tests.Golden;

/// <summary>
/// NUnit assertion over <see cref="GoldenComparison"/> (the metric, tolerance and shape rule live in
/// the engine so that the tests and `ilgpusat selftest` judge by the same code).
/// </summary>
internal static class GoldenAssert
{
    public const double DefaultTolerance = GoldenComparison.DefaultTolerance;

    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected) =>
        GoldenComparison.RelativeError(actual, expected);

    /// <summary>Shapes must match exactly, except that a scalar may be [] or [1].</summary>
    public static void Close(string what, float[] actual, int[] actualShape, float[] expected, int[] expectedShape,
        double tolerance = DefaultTolerance)
    {
        var c = GoldenComparison.Of(what, actual, actualShape, expected, expectedShape, tolerance);
        if (!double.IsNaN(c.RelError)) TestContext.Out.WriteLine($"{what}: max rel error {c.RelError:E2}");
        if (!c.Pass) Assert.Fail(c.Problem ?? what);
    }
}
