using System.Globalization;

namespace ILGpuSat.Kernels;

/// <summary>
/// The per-step constants of one Adam/AdamW update, computed once on the host for every backend alike:
/// in double from the hyper-parameters as written (0.999f is taken as 0.999, as Python has it), then
/// rounded to float. Computing <c>1 - beta2</c> or the bias corrections in float from float betas puts
/// the second moment 1.3e-5 relative off PyTorch at step 1; this way both backends are within 1e-7.
/// The update, per element: p *= Decay; g += L2 * p; m = Beta1 * m + OneMinusBeta1 * g;
/// v = Beta2 * v + OneMinusBeta2 * g * g; p += NegStepSize * m / (sqrt(v) / Bc2Sqrt + Eps).
/// </summary>
public struct AdamScalars
{
    public float Decay, L2, Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, Bc2Sqrt, Eps, NegStepSize;

    /// <param name="decoupled">AdamW (decay the weights) instead of Adam's L2 term on the gradient.</param>
    /// <param name="step">1-based step count.</param>
    public static AdamScalars For(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        if (step < 1) throw new ArgumentException($"adam_step: step counts from 1, got {step}.");
        double lrD = AsWritten(lr), b1 = AsWritten(beta1), b2 = AsWritten(beta2), wd = AsWritten(weightDecay);
        double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
        return new AdamScalars
        {
            Decay = decoupled ? (float)(1 - lrD * wd) : 1f,
            L2 = decoupled ? 0f : weightDecay,
            Beta1 = beta1,
            OneMinusBeta1 = (float)(1 - b1),
            Beta2 = beta2,
            OneMinusBeta2 = (float)(1 - b2),
            Bc2Sqrt = (float)Math.Sqrt(bc2),
            Eps = eps,
            NegStepSize = (float)(-lrD / bc1),
        };
    }

    /// <summary>The double a float hyper-parameter was written as (its shortest round-trip decimal).</summary>
    public static double AsWritten(float f)
        => double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
