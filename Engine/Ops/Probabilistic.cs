namespace ILGpuSat.Engine;

// The losses and sampling of the generative colorizers (GAN, VAE, mixture density network), composed of the
// pointwise, elementwise, softmax and reduction ops, so each backward is theirs by the chain rule.
public static partial class F
{
    /// <summary>
    /// torch.nn.functional.binary_cross_entropy_with_logits, mean reduction: mean(softplus(x) - t x), the stable form
    /// of -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]. d/dx = (sigmoid(x) - t) / count.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target)
    {
        const string op = "binary_cross_entropy_with_logits";
        Check.NotNull(op, nameof(logits), logits);
        Check.NotNull(op, nameof(target), target);
        if (!logits.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"{op}: target {Check.S(target)} must have the logits' shape {Check.S(logits)}.");
        var softplus = Softplus(logits);
        var product = Mul(logits, target);
        var terms = Sub(softplus, product);
        softplus.ReleaseIfNoGrad();
        product.ReleaseIfNoGrad();
        return terms.ReplacedBy(Mean(terms));
    }

    /// <summary>
    /// KL(N(mu, e^logvar) || N(0, 1)) summed over every element, divided by <paramref name="batch"/>:
    /// 0.5 sum(e^logvar + mu^2 - 1 - logvar) / batch, the VAE's KL term per sample (Kingma and Welling, appendix B).
    /// </summary>
    public static Tensor GaussianKl(Tensor mu, Tensor logvar, int batch)
    {
        const string op = "gaussian_kl";
        Check.NotNull(op, nameof(mu), mu);
        Check.NotNull(op, nameof(logvar), logvar);
        if (!mu.Shape.SequenceEqual(logvar.Shape))
            throw new ArgumentException($"{op}: logvar {Check.S(logvar)} must have mu's shape {Check.S(mu)}.");
        if (batch < 1) throw new ArgumentException($"{op}: batch must be positive, got {batch}.");
        var variance = Exp(logvar);
        var squares = Mul(mu, mu);
        var a = Add(variance, squares);
        variance.ReleaseIfNoGrad();
        squares.ReleaseIfNoGrad();
        var b = a.ReplacedBy(Sub(a, logvar));
        var total = b.ReplacedBy(Sum(b));
        // The "- 1" of every element is a constant: sum(... - 1) = sum(...) - count.
        var shifted = total.ReplacedBy(Add(total, Tensor.Full([], -mu.Length, mu.Backend)));
        return shifted.ReplacedBy(Mul(shifted, 0.5f / batch));
    }

    /// <summary>
    /// log sum_j exp(x_j) along dim 1 of x [N, C, ...], keeping the dim ([N, 1, ...]): x_0 - log_softmax(x)_0, which
    /// is exact for any x (log_softmax(x)_0 = x_0 - logsumexp(x)) and stable, with the gradient softmax(x).
    /// </summary>
    public static Tensor LogSumExp(Tensor x)
    {
        const string op = "logsumexp";
        Check.NotNull(op, nameof(x), x);
        Check.MinRank(op, "input", x, 2);
        var logProbabilities = LogSoftmax(x, 1);
        var first = Narrow(x, 1, 0, 1);
        var firstLog = logProbabilities.ReplacedBy(Narrow(logProbabilities, 1, 0, 1));
        var lse = Sub(first, firstLog);
        first.ReleaseIfNoGrad();
        firstLog.ReleaseIfNoGrad();
        return lse;
    }

    /// <summary>
    /// The negative log-likelihood of z under a diagonal Gaussian mixture, averaged over the batch (the mixture
    /// density network's loss, Bishop 1994): for z [N, D] and per sample K components with weight logits
    /// [N, K], means [N, K, D] and log standard deviations [N, K, D],
    /// <code>-mean_n log sum_k pi_k N(z_n | mu_nk, diag(sigma_nk^2)),  pi = softmax(weight logits),
    /// log N = -sum_d [ (z_d - mu_kd)^2 / (2 sigma_kd^2) + log sigma_kd ] - D/2 log 2 pi</code>
    /// with the sum over components as a log-sum-exp.
    /// </summary>
    public static Tensor GaussianMixtureNll(Tensor z, Tensor weightLogits, Tensor means, Tensor logStd)
    {
        const string op = "gaussian_mixture_nll";
        Check.NotNull(op, nameof(z), z);
        Check.NotNull(op, nameof(weightLogits), weightLogits);
        Check.NotNull(op, nameof(means), means);
        Check.NotNull(op, nameof(logStd), logStd);
        Check.Rank(op, "z", z, 2);
        Check.Rank(op, "weight logits", weightLogits, 2);
        Check.Rank(op, "means", means, 3);
        int n = z.Size(0), d = z.Size(1), k = weightLogits.Size(1);
        if (weightLogits.Size(0) != n || !means.Shape.SequenceEqual([n, k, d]) || !logStd.Shape.SequenceEqual(means.Shape))
            throw new ArgumentException($"{op}: z {Check.S(z)} [N, D], weight logits {Check.S(weightLogits)} [N, K], means {Check.S(means)} and log std {Check.S(logStd)} [N, K, D] disagree.");
        var rows = Reshape(z, n, 1, d);
        var copies = k == 1 ? rows : Cat(Enumerable.Repeat(rows, k).ToArray(), dim: 1);
        if (!ReferenceEquals(copies, rows)) rows.ReleaseIfNoGrad();
        var diff = Sub(copies, means);
        copies.ReleaseIfNoGrad();
        var negated = Mul(logStd, -1f);
        var inverse = negated.ReplacedBy(Exp(negated));                      // 1 / sigma
        var scaled = Mul(diff, inverse);
        diff.ReleaseIfNoGrad();
        inverse.ReleaseIfNoGrad();
        var squares = scaled.ReplacedBy(Mul(scaled, scaled));
        var halfSquares = squares.ReplacedBy(Mul(squares, 0.5f));
        var perDimension = halfSquares.ReplacedBy(Add(halfSquares, logStd));   // (z - mu)^2 / 2 sigma^2 + log sigma
        // Sum over D as D times the mean over the last axis (the spatial mean of [N, K, 1, D]).
        var grid = perDimension.ReplacedBy(Reshape(perDimension, n, k, 1, d));
        var mean = grid.ReplacedBy(SpatialMean(grid));
        var negLog = mean.ReplacedBy(Mul(mean, (float)d));                     // [N, K, 1, 1]
        var column = Reshape(weightLogits, n, k, 1, 1);
        var logWeights = column.ReplacedBy(LogSoftmax(column, 1));
        var joint = Sub(logWeights, negLog);                                   // log pi_k + log N + D/2 log 2 pi
        logWeights.ReleaseIfNoGrad();
        negLog.ReleaseIfNoGrad();
        var lse = joint.ReplacedBy(LogSumExp(joint));                          // [N, 1, 1, 1]
        var total = lse.ReplacedBy(Mean(lse));
        var loss = total.ReplacedBy(Mul(total, -1f));
        return loss.ReplacedBy(Add(loss, Tensor.Full([], (float)(0.5 * d * Math.Log(2 * Math.PI)), z.Backend)));
    }

    /// <summary>
    /// Standard normal samples of the given shape from <paramref name="rng"/> (Box-Muller in double on the host, so a
    /// seed gives the same draws on every backend): the epsilon of the reparameterisation z = mu + sigma epsilon.
    /// </summary>
    public static Tensor StandardNormal(int[] shape, Random rng, Kernels.Backend backend)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(rng);
        long count = shape.Aggregate(1L, (a, s) => a * s);
        var values = new float[count];
        for (long i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1)), angle = 2.0 * Math.PI * u2;
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < count) values[i + 1] = (float)(radius * Math.Sin(angle));
        }
        return Tensor.FromArray(values, shape, backend);
    }
}
