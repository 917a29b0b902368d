using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

// Optimizer updates in place, following torch.optim (1.13, single-tensor path) operation by
// operation, in float, so that trajectories match PyTorch's to rounding.
public sealed partial class CpuBackend
{
    public override void SgdStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer,
        float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        const string op = "sgd_step";
        int n = (int)param.Length;
        bool useMomentum = momentum != 0;
        using var _ = Profile(op, 6.0 * n, (useMomentum ? 20.0 : 12.0) * n);
        CheckLength(op, "grad", grad, n);
        if (useMomentum)
        {
            if (momentumBuffer is null) throw new ArgumentException($"{op}: momentum {momentum} needs a momentum buffer.");
            CheckLength(op, "momentumBuffer", momentumBuffer, n);
        }
        if (nesterov && (!useMomentum || dampening != 0))
            throw new ArgumentException($"{op}: Nesterov momentum requires a momentum and zero dampening.");
        var pa = HostArray(param);
        var ga = HostArray(grad);
        var ba = useMomentum ? HostArray(momentumBuffer!) : null;
        float oneMinusDampening = (float)(1.0 - AsWritten(dampening));
        var k = new SgdScalars
        {
            Lr = lr, Momentum = momentum, OneMinusDampening = oneMinusDampening, WeightDecay = weightDecay,
            UseMomentum = useMomentum, Nesterov = nesterov, FirstStep = firstStep,
        };
        CpuParallel.ForElements(Threads, n, (s, e) => SgdRange(pa, ga, ba, k, s, e));
    }

    private struct SgdScalars
    {
        public float Lr, Momentum, OneMinusDampening, WeightDecay;
        public bool UseMomentum, Nesterov, FirstStep;
    }

    /// <summary>
    /// d = g + wd*p; buf = first ? d : buf*momentum + (1-dampening)*d; d = nesterov ? d + momentum*buf : buf;
    /// p += -lr*d. The flags are loop-invariant, so their branches cost nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void SgdRange(float[] pa, float[] ga, float[]? ba, SgdScalars k, int s, int e)
    {
        ref float rp = ref SimdMath.At(pa);
        ref float rg = ref SimdMath.At(ga);
        ref float rb = ref ba is null ? ref Unsafe.NullRef<float>() : ref SimdMath.At(ba);
        var wd = Vector512.Create(k.WeightDecay);
        var mom = Vector512.Create(k.Momentum);
        var damp = Vector512.Create(k.OneMinusDampening);
        var negLr = Vector512.Create(-k.Lr);
        bool decay = k.WeightDecay != 0;
        int i = s;
        for (; i <= e - SimdMath.W; i += SimdMath.W)
        {
            var p = SimdMath.Load(ref rp, i);
            var d = SimdMath.Load(ref rg, i);
            if (decay) d += wd * p;
            if (k.UseMomentum)
            {
                var b = k.FirstStep ? d : SimdMath.Load(ref rb, i) * mom + damp * d;
                SimdMath.Store(b, ref rb, i);
                d = k.Nesterov ? d + mom * b : b;
            }
            SimdMath.Store(p + negLr * d, ref rp, i);
        }
        for (; i < e; i++)
        {
            ref float p = ref Unsafe.Add(ref rp, i);
            float d = Unsafe.Add(ref rg, i);
            if (decay) d += k.WeightDecay * p;
            if (k.UseMomentum)
            {
                ref float b = ref Unsafe.Add(ref rb, i);
                b = k.FirstStep ? d : b * k.Momentum + k.OneMinusDampening * d;
                d = k.Nesterov ? d + k.Momentum * b : b;
            }
            p += -k.Lr * d;
        }
    }

    public override void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        const string op = "adam_step";
        int n = (int)param.Length;
        using var _ = Profile(op, 14.0 * n, 28.0 * n);
        CheckLength(op, "grad", grad, n);
        CheckLength(op, "m", m, n);
        CheckLength(op, "v", v, n);
        if (step < 1) throw new ArgumentException($"{op}: step counts from 1, got {step}.");

        var k = AdamScalars.For(lr, beta1, beta2, eps, weightDecay, decoupled, step);
        var pa = HostArray(param);
        var ga = HostArray(grad);
        var ma = HostArray(m);
        var va = HostArray(v);
        CpuParallel.ForElements(Threads, n, (s, e) => AdamRange(pa, ga, ma, va, k, s, e));
    }

    public override void ClipByGlobalNorm(DeviceBuffer grad, DeviceBuffer sumOfSquares, float maxNorm)
    {
        const string op = "clip_by_global_norm";
        int n = (int)grad.Length;
        using var _ = Profile(op, n, 8.0 * n + 4);
        CheckLength(op, "sumOfSquares", sumOfSquares, 1);
        // As torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6) in float, clamped to 1.
        float norm = MathF.Sqrt(Host(sumOfSquares)[0]);
        float coef = maxNorm / (norm + 1e-6f);
        if (!(coef < 1f)) return; // multiplying by 1 would change nothing
        MapElements(new ScaleOp(coef), HostArray(grad), HostArray(grad), n);
    }

    /// <summary>
    /// The double a float hyper-parameter was written as (0.999f -> 0.999): PyTorch forms 1 - beta^t
    /// in double from the Python literal, and for beta2 = 0.999 the float's own value would already
    /// shift the first bias correction by 1e-5.
    /// </summary>
    private static double AsWritten(float f) => AdamScalars.AsWritten(f);

    /// <summary>
    /// p *= decay; g += l2*p; m = m*b1 + (1-b1)*g; v = v*b2 + (1-b2)*g*g;
    /// p += -step_size * m / (sqrt(v)/sqrt(bc2) + eps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void AdamRange(float[] pa, float[] ga, float[] ma, float[] va, AdamScalars k, int s, int e)
    {
        ref float rp = ref SimdMath.At(pa);
        ref float rg = ref SimdMath.At(ga);
        ref float rm = ref SimdMath.At(ma);
        ref float rv = ref SimdMath.At(va);
        var decay = Vector512.Create(k.Decay);
        var l2 = Vector512.Create(k.L2);
        var b1 = Vector512.Create(k.Beta1);
        var c1 = Vector512.Create(k.OneMinusBeta1);
        var b2 = Vector512.Create(k.Beta2);
        var c2 = Vector512.Create(k.OneMinusBeta2);
        var bc2 = Vector512.Create(k.Bc2Sqrt);
        var eps = Vector512.Create(k.Eps);
        var step = Vector512.Create(k.NegStepSize);
        int i = s;
        for (; i <= e - SimdMath.W; i += SimdMath.W)
        {
            var p = SimdMath.Load(ref rp, i) * decay;
            var g = SimdMath.Load(ref rg, i) + l2 * p;
            var mv = SimdMath.Load(ref rm, i) * b1 + c1 * g;
            var vv = SimdMath.Load(ref rv, i) * b2 + c2 * (g * g);
            var denom = Vector512.Sqrt(vv) / bc2 + eps;
            SimdMath.Store(mv, ref rm, i);
            SimdMath.Store(vv, ref rv, i);
            SimdMath.Store(p + step * (mv / denom), ref rp, i);
        }
        for (; i < e; i++)
        {
            float p = Unsafe.Add(ref rp, i) * k.Decay;
            float g = Unsafe.Add(ref rg, i) + k.L2 * p;
            float mv = Unsafe.Add(ref rm, i) * k.Beta1 + k.OneMinusBeta1 * g;
            float vv = Unsafe.Add(ref rv, i) * k.Beta2 + k.OneMinusBeta2 * (g * g);
            float denom = MathF.Sqrt(vv) / k.Bc2Sqrt + k.Eps;
            Unsafe.Add(ref rm, i) = mv;
            Unsafe.Add(ref rv, i) = vv;
            Unsafe.Add(ref rp, i) = p + k.NegStepSize * (mv / denom);
        }
    }
}
