namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// Batch normalisation over dim 1 of x [N,C,...] as torch.nn.functional.batch_norm.
    /// Training mode normalises with the batch statistics (biased variance), saves the mean and
    /// 1/sqrt(var+eps) for backward, and updates the running statistics in place when given
    /// (unbiased variance). Eval mode normalises with the running statistics. weight/bias null
    /// means gamma = 1, beta = 0 (affine=False).
    /// Backward: the standard batch-norm gradient (training: through the batch statistics;
    /// eval: dx = dy * gamma / sqrt(running_var + eps)); dgamma = sum dy * x_hat, dbeta = sum dy.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        const string op = "batch_norm";
        Check.NotNull(op, nameof(x), x);
        Check.MinRank(op, "input", x, 2);
        Check.SameBackend(op, x, runningMean, runningVar, weight, bias);
        int c = x.Size(1);
        Check.Vector(op, "running_mean", runningMean, c);
        Check.Vector(op, "running_var", runningVar, c);
        Check.Vector(op, "weight", weight, c);
        Check.Vector(op, "bias", bias, c);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: running_mean and running_var must be given together.");
        if (!training && runningMean is null)
            throw new ArgumentException($"{op}: eval mode needs running_mean and running_var (input {Check.S(x)}).");
        if (!(eps > 0)) throw new ArgumentException($"{op}: eps must be positive, got {eps}.");
        var g = Check.AlongDim(x, 1);
        if (training && g.PerChannel < 2)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got input {Check.S(x)}.");

        var b = x.Backend;
        // affine=False: the kernels always take gamma and beta.
        var gamma = weight ?? Tensor.Ones([c], backend: b);
        var beta = bias ?? Tensor.Zeros([c], backend: b);
        var y = Tensor.Empty(x.Shape, b);

        if (training)
        {
            var saveMean = Tensor.Empty([c], b);
            var saveInvStd = Tensor.Empty([c], b);
            b.BatchNormTrain(x.Buffer, gamma.Buffer, beta.Buffer, g, eps, y.Buffer, saveMean.Buffer, saveInvStd.Buffer,
                runningMean?.Buffer, runningVar?.Buffer, momentum);
            runningMean?.MarkModified();
            runningVar?.MarkModified();
            if (!Autograd.NeedsGrad(x, weight, bias))
            {
                // Only a backward reads them.
                saveMean.Dispose();
                saveInvStd.Dispose();
                return y;
            }
            return Autograd.Record(op, y, [x, weight, bias], dy =>
            {
                var (dx, dgamma, dbeta) = Grads(x, c);
                b.BatchNormTrainBackward(x.Buffer, dy.Buffer, gamma.Buffer, saveMean.Buffer, saveInvStd.Buffer, g,
                    dx.Buffer, dgamma.Buffer, dbeta.Buffer);
                return [dx, dgamma, dbeta];
            });
        }

        var mean = runningMean!;
        var variance = runningVar!;
        b.BatchNormEval(x.Buffer, gamma.Buffer, beta.Buffer, mean.Buffer, variance.Buffer, g, eps, y.Buffer);
        if (!Autograd.NeedsGrad(x, weight, bias)) return y;
        // The running statistics are read by backward, so they are inputs (without gradient) for the version check.
        return Autograd.Record(op, y, [x, weight, bias, mean, variance], dy =>
        {
            var (dx, dgamma, dbeta) = Grads(x, c);
            b.BatchNormEvalBackward(x.Buffer, dy.Buffer, gamma.Buffer, mean.Buffer, variance.Buffer, g, eps,
                dx.Buffer, dgamma.Buffer, dbeta.Buffer);
            return [dx, dgamma, dbeta, null, null];
        });

        static (Tensor, Tensor, Tensor) Grads(Tensor x, int c)
            => (Tensor.Empty(x.Shape, x.Backend), Tensor.Empty([c], x.Backend), Tensor.Empty([c], x.Backend));
    }

    /// <summary>
    /// Instance normalisation as torch.nn.functional.instance_norm without running statistics: each sample's channel is
    /// normalised over its own spatial positions (biased variance), then scaled by weight[c] and shifted by bias[c] when
    /// given. As PyTorch does it: batch norm in training mode on x seen as [1, N*C, H*W], with weight and bias repeated
    /// N times. Backward is batch norm's (through the per-(n, c) statistics); the repeated weight's gradient sums its N
    /// copies (Cat's backward), so dweight[c] = sum over n and pixels of dy * x_hat.
    /// DeepSUM normalises per instance because brightness and contrast differ from frame to frame.
    /// </summary>
    /// <para>
    /// With <paramref name="statistics"/> (one mean and biased variance per sample and channel, as
    /// <see cref="InstanceStatisticsOf"/> measures them) x is normalised with those instead of its own: batch norm in
    /// eval mode on the same [1, N*C, H*W] view. A tiled inference measures a scene's statistics once and applies
    /// them to every tile, so tiles normalise alike and agree with the untiled run (PyTorch has no such argument).
    /// </para>
    public static Tensor InstanceNorm(Tensor x, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f,
                                      InstanceStatistics? statistics = null)
    {
        const string op = "instance_norm";
        Check.NotNull(op, nameof(x), x);
        Check.MinRank(op, "input", x, 3);
        Check.SameBackend(op, x, weight, bias);
        int n = x.Size(0), c = x.Size(1);
        Check.Vector(op, "weight", weight, c);
        Check.Vector(op, "bias", bias, c);
        long spatial = x.Length / ((long)n * c);
        if (spatial < 2)
            throw new ArgumentException($"{op}: expected more than 1 spatial element per channel, got input {Check.S(x)}.");
        if (spatial > int.MaxValue) throw new ArgumentException($"{op}: {spatial} spatial elements per channel are too many.");
        var flat = Reshape(x, 1, n * c, (int)spatial);
        Tensor? Repeat(Tensor? t) => t is null ? null : n == 1 ? t : Cat(Enumerable.Repeat(t, n).ToArray(), dim: 0);
        if (statistics is not null && (statistics.Mean.Length != n * c || statistics.Variance.Length != n * c))
            throw new ArgumentException($"{op}: the given statistics hold {statistics.Mean.Length} means and {statistics.Variance.Length} variances, not N*C = {n * c} for input {Check.S(x)}.");
        var mean = statistics is null ? null : Tensor.FromArray(statistics.Mean, [n * c], x.Backend);
        var variance = statistics is null ? null : Tensor.FromArray(statistics.Variance, [n * c], x.Backend);
        var gamma = Repeat(weight);
        var beta = Repeat(bias);
        var y = BatchNorm(flat, mean, variance, gamma, beta, training: statistics is null, eps: eps);
        // Intermediates are released after their last read (no-ops in grad mode); the caller's weight and bias are kept.
        flat.ReleaseIfNoGrad();
        if (!ReferenceEquals(gamma, weight)) gamma?.ReleaseIfNoGrad();
        if (!ReferenceEquals(beta, bias)) beta?.ReleaseIfNoGrad();
        mean?.ReleaseIfNoGrad();
        variance?.ReleaseIfNoGrad();
        return y.ReplacedBy(Reshape(y, x.Shape));
    }

    /// <summary>
    /// The statistics <see cref="InstanceNorm"/> normalises x [N, C, ...] with: per sample and channel, the mean and the
    /// biased variance over the spatial positions, measured by the same batch-norm kernel on the backend (its running
    /// statistics at momentum 1 are the batch's, the variance unbiased, so it is scaled back by (m - 1) / m). Only the
    /// 2 N C numbers come to the host.
    /// </summary>
    public static InstanceStatistics InstanceStatisticsOf(Tensor x)
    {
        const string op = "instance_statistics";
        Check.NotNull(op, nameof(x), x);
        Check.MinRank(op, "input", x, 3);
        int nc = x.Size(0) * x.Size(1);
        long spatial = x.Length / nc;
        if (spatial < 2 || spatial > int.MaxValue)
            throw new ArgumentException($"{op}: expected 2 to 2^31 - 1 spatial elements per channel, got input {Check.S(x)}.");
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var flat = Reshape(x, 1, nc, (int)spatial);
        var mean = Tensor.Zeros([nc], backend: x.Backend);
        var variance = Tensor.Ones([nc], backend: x.Backend);
        BatchNorm(flat, mean, variance, null, null, training: true, momentum: 1f);
        var unbiased = variance.ToArray();
        float toBiased = (float)((spatial - 1) / (double)spatial);
        for (int i = 0; i < unbiased.Length; i++) unbiased[i] *= toBiased;
        return new InstanceStatistics(mean.ToArray(), unbiased);
    }
}

/// <summary>Instance-norm statistics of one input: per (sample, channel), row-major [N, C], the mean and biased variance.</summary>
public sealed record InstanceStatistics(float[] Mean, float[] Variance);
