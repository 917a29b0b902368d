namespace ILGpuSat.Kernels;

/// <summary>
/// The smooth pointwise functions of <see cref="Backend.Pointwise"/>, each with the input its derivative is computed
/// from in <see cref="Backend.PointwiseBackward"/> (<see cref="PointwiseFunctions.BackwardReadsOutput"/>):
/// <code>
///   Exp       y = e^x                               dx = dy * y               (reads y)
///   Log       y = ln x                              dx = dy / x               (reads x)
///   Sigmoid   y = 1 / (1 + e^-x)                    dx = dy * y * (1 - y)     (reads y)
///   Softplus  y = max(x, 0) + ln(1 + e^-|x|)        dx = dy * sigmoid(x)      (reads x)
/// </code>
/// Softplus is the stable form of ln(1 + e^x), without PyTorch's threshold (it returns x above 20; the two differ by
/// less than 2e-9 there). Binary cross-entropy with logits is softplus(x) - t x.
/// </summary>
public enum PointwiseFunction
{
    Exp,
    Log,
    Sigmoid,
    Softplus,
}

public static class PointwiseFunctions
{
    /// <summary>True when the backward rule reads the forward's output y, false when it reads the input x.</summary>
    public static bool BackwardReadsOutput(PointwiseFunction f) => f is PointwiseFunction.Exp or PointwiseFunction.Sigmoid;

    /// <summary>The op's name in profiles, errors and the self-test.</summary>
    public static string Name(PointwiseFunction f) => f switch
    {
        PointwiseFunction.Exp => "exp",
        PointwiseFunction.Log => "log",
        PointwiseFunction.Sigmoid => "sigmoid",
        PointwiseFunction.Softplus => "softplus",
        _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown pointwise function"),
    };
}
