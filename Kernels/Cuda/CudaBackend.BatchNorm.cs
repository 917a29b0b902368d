using ILGPU;
using ILGPU.Runtime;
using ILGpuSat.Kernels.Cuda.Ops;

namespace ILGpuSat.Kernels.Cuda;

// Batch norm: statistics (per-channel partials + finisher that also updates the running statistics on the
// device), then one elementwise normalise kernel. The backward reduces sum dy and sum dy*(x-mean) the same way.
// Eval mode is per-channel broadcast and goes in pieces past 2^30 floats; the training passes and the eval
// backward keep the 2^30 limit (their per-channel sums span the batch; training tensors stay far below it).
public sealed partial class CudaBackend
{
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormStatsArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _bnStatsFinal;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>? _bnApply;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int, ArrayView<float>>? _bnEvalApply;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, ArrayView<float>, int, float, ArrayView<float>, ArrayView<float>>? _bnBackwardFinal;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>>? _bnBackwardData;
    private Action<AcceleratorStream, Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int, ArrayView<float>>? _bnEvalBackwardData;

    public override void BatchNormTrain(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, ChannelGeometry g, float eps,
        DeviceBuffer y, DeviceBuffer saveMean, DeviceBuffer saveInvStd, DeviceBuffer? runningMean, DeviceBuffer? runningVar, float momentum)
    {
        const string op = "batch_norm_train";
        using var _ = Profile(op, 8.0 * g.Length, 12.0 * g.Length);
        g.Validate(op);
        int n = Count(op, g.Length);
        if (g.PerChannel < 2)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got N={g.N} HW={g.HW}.");
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: give both running mean and running variance, or neither.");
        var vx = View(x, op, "x", n);
        var vg = View(gamma, op, "gamma", g.C);
        var vb = View(beta, op, "beta", g.C);
        var vy = View(y, op, "y", n);
        var vm = View(saveMean, op, "saveMean", g.C);
        var vs = View(saveInvStd, op, "saveInvStd", g.C);
        bool update = runningMean is not null;
        var vrm = update ? View(runningMean!, op, "runningMean", g.C) : vm;
        var vrv = update ? View(runningVar!, op, "runningVar", g.C) : vs;

        using (var parts = ChannelPartials(op, vx, vx, vx, ChannelTerm.ShiftedMoments, g))
        {
            var args = new BatchNormStatsArgs { Splits = parts.Splits, HW = g.HW, Count = checked((int)g.PerChannel), UpdateRunning = update ? 1 : 0, Eps = eps, Momentum = momentum };
            var pa = parts.A;
            var pb = parts.B;
            var stats = Cached(ref _bnStatsFinal, a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormStatsArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ReductionKernels.BatchNormStatsFinal));
            Launch(op, g, () => stats(Stream, new Index1D(g.C), vx, pa, pb, args, vm, vs, vrm, vrv));
        }
        var apply = Cached(ref _bnApply, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>>(ElementwiseKernels.BatchNormApply));
        var (e, s) = GridStride(n);
        Launch(op, g, () => apply(Stream, e, n, s, vx, vm, vs, vg, vb, g.C, g.HW, vy));
    }

    public override void BatchNormTrainBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma, DeviceBuffer saveMean, DeviceBuffer saveInvStd,
        ChannelGeometry g, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        const string op = "batch_norm_train_backward";
        using var _ = Profile(op, 12.0 * g.Length, 20.0 * g.Length);
        g.Validate(op);
        int n = Count(op, g.Length);
        var vx = View(x, op, "x", n);
        var vdy = View(dy, op, "dy", n);
        var vg = View(gamma, op, "gamma", g.C);
        var vm = View(saveMean, op, "saveMean", g.C);
        var vs = View(saveInvStd, op, "saveInvStd", g.C);
        var vdx = View(dx, op, "dx", n);
        var vdg = View(dgamma, op, "dgamma", g.C);
        var vdb = View(dbeta, op, "dbeta", g.C);
        BatchNormParamGrads(op, vx, vdy, vm, vs, fromVariance: false, 0f, g, vdg, vdb);
        var k = Cached(ref _bnBackwardData, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>>(ElementwiseKernels.BatchNormBackwardData));
        var (e, s) = GridStride(n);
        float invCount = (float)(1.0 / g.PerChannel);
        Launch(op, g, () => k(Stream, e, n, s, vx, vdy, vg, vm, vs, vdg, vdb, g.C, g.HW, invCount, vdx));
    }

    public override void BatchNormEval(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer runningMean, DeviceBuffer runningVar,
        ChannelGeometry g, float eps, DeviceBuffer y)
    {
        const string op = "batch_norm_eval";
        using var _ = Profile(op, 4.0 * g.Length, 8.0 * g.Length);
        g.Validate(op);
        var vx = View(x, op, "x", g.Length);
        var vg = View(gamma, op, "gamma", g.C);
        var vb = View(beta, op, "beta", g.C);
        var vrm = View(runningMean, op, "runningMean", g.C);
        var vrv = View(runningVar, op, "runningVar", g.C);
        var vy = View(y, op, "y", g.Length);
        var k = Cached(ref _bnEvalApply, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int, ArrayView<float>>(ElementwiseKernels.BatchNormEvalApply));
        foreach (var p in ChannelPieces(op, g))
        {
            int n = p.Length;
            var (e, s) = GridStride(n);
            Launch(op, g, () => k(Stream, e, n, s, vx.SubView(p.Offset, n), vrm.SubView(p.C0, p.C), vrv.SubView(p.C0, p.C), vg.SubView(p.C0, p.C), vb.SubView(p.C0, p.C),
                                  eps, p.C, p.HW, vy.SubView(p.Offset, n)));
        }
    }

    public override void BatchNormEvalBackward(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer gamma, DeviceBuffer runningMean, DeviceBuffer runningVar,
        ChannelGeometry g, float eps, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        const string op = "batch_norm_eval_backward";
        using var _ = Profile(op, 6.0 * g.Length, 16.0 * g.Length);
        g.Validate(op);
        int n = Count(op, g.Length);
        var vx = View(x, op, "x", n);
        var vdy = View(dy, op, "dy", n);
        var vg = View(gamma, op, "gamma", g.C);
        var vrm = View(runningMean, op, "runningMean", g.C);
        var vrv = View(runningVar, op, "runningVar", g.C);
        var vdx = View(dx, op, "dx", n);
        var vdg = View(dgamma, op, "dgamma", g.C);
        var vdb = View(dbeta, op, "dbeta", g.C);
        BatchNormParamGrads(op, vx, vdy, vrm, vrv, fromVariance: true, eps, g, vdg, vdb);
        var k = Cached(ref _bnEvalBackwardData, a => a.LoadAutoGroupedKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int, int, ArrayView<float>>(ElementwiseKernels.BatchNormEvalBackwardData));
        var (e, s) = GridStride(n);
        Launch(op, g, () => k(Stream, e, n, s, vdy, vg, vrv, eps, g.C, g.HW, vdx));
    }

    /// <summary>dbeta = sum dy, dgamma = invStd * sum dy*(x - center) per channel.</summary>
    private void BatchNormParamGrads(string op, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> center, ArrayView<float> invStdOrVar,
        bool fromVariance, float eps, ChannelGeometry g, ArrayView<float> dgamma, ArrayView<float> dbeta)
    {
        using var parts = ChannelPartials(op, x, dy, center, ChannelTerm.DyAndDyCentered, g);
        var pa = parts.A;
        var pb = parts.B;
        int splits = parts.Splits;
        int flag = fromVariance ? 1 : 0;
        var k = Cached(ref _bnBackwardFinal, a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, ArrayView<float>, int, float, ArrayView<float>, ArrayView<float>>(ReductionKernels.BatchNormBackwardFinal));
        Launch(op, g, () => k(Stream, new Index1D(g.C), pa, pb, splits, invStdOrVar, flag, eps, dgamma, dbeta));
    }
}
