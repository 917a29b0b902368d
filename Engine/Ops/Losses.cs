namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// sum(w (input - target)^2) / count: a per-element weighted MSE, as divcolor's colour-rebalanced L2 (each ab
    /// value weighted by the rebalancing weight of its pixel's colour bin). <paramref name="weights"/> has the input's
    /// shape and is a constant. Composed of Sub, Mul and Mean.
    /// </summary>
    public static Tensor WeightedMseLoss(Tensor input, Tensor target, Tensor weights)
    {
        const string op = "weighted_mse_loss";
        Check.NotNull(op, nameof(input), input);
        Check.NotNull(op, nameof(target), target);
        Check.NotNull(op, nameof(weights), weights);
        if (!input.Shape.SequenceEqual(target.Shape) || !input.Shape.SequenceEqual(weights.Shape))
            throw new ArgumentException($"{op}: input {Check.S(input)}, target {Check.S(target)} and weights {Check.S(weights)} must have one shape.");
        var diff = Sub(input, target);
        var squares = diff.ReplacedBy(Mul(diff, diff));
        var weighted = squares.ReplacedBy(Mul(squares, weights));
        return weighted.ReplacedBy(Mean(weighted));
    }

    /// <summary>
    /// The gradient loss of divcolor: the MSE between the horizontal finite differences of input and target
    /// (x[..., j+1] - x[..., j]) plus the MSE between their vertical ones, over x [N, C, H, W] with H, W of at least 2,
    /// so a prediction is asked to have the target's edges, not only its values. Composed of Narrow, Sub and MseLoss.
    /// </summary>
    public static Tensor GradientLoss(Tensor input, Tensor target)
    {
        const string op = "gradient_loss";
        Check.NotNull(op, nameof(input), input);
        Check.NotNull(op, nameof(target), target);
        Check.Rank(op, "input", input, 4);
        if (!input.Shape.SequenceEqual(target.Shape)) throw new ArgumentException($"{op}: target {Check.S(target)} must have the input's shape {Check.S(input)}.");
        int h = input.Size(2), w = input.Size(3);
        if (h < 2 || w < 2) throw new ArgumentException($"{op}: H and W must be at least 2, got {Check.S(input)}.");
        Tensor Difference(Tensor x, int dim, int size)
        {
            var next = Narrow(x, dim, 1, size - 1);
            var previous = Narrow(x, dim, 0, size - 1);
            var d = Sub(next, previous);
            next.ReleaseIfNoGrad();
            previous.ReleaseIfNoGrad();
            return d;
        }
        var horizontal = MseLoss(Difference(input, 3, w), Difference(target, 3, w));
        var vertical = MseLoss(Difference(input, 2, h), Difference(target, 2, h));
        var total = Add(horizontal, vertical);
        horizontal.ReleaseIfNoGrad();
        vertical.ReleaseIfNoGrad();
        return total;
    }

    /// <summary>
    /// lambda * sum of w^2 over <paramref name="weights"/>: an L2 penalty on chosen parameters only (the SpaceNet GAN
    /// penalises its discriminator's weights, not its generator's), added to that network's loss. Its gradient,
    /// 2 lambda w, reaches exactly those tensors. Composed of Mul, Sum and Add.
    /// </summary>
    public static Tensor L2Penalty(IEnumerable<Tensor> weights, float lambda)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!(lambda >= 0) || float.IsInfinity(lambda)) throw new ArgumentException($"l2_penalty: lambda must be 0 or more, got {lambda}.");
        Tensor? total = null;
        foreach (var w in weights)
        {
            var squares = Mul(w, w);
            var sum = squares.ReplacedBy(Sum(squares));
            if (total is null) { total = sum; continue; }
            var next = Add(total, sum);
            total.ReleaseIfNoGrad();
            sum.ReleaseIfNoGrad();
            total = next;
        }
        if (total is null) throw new ArgumentException("l2_penalty: no weights given.");
        return total.ReplacedBy(Mul(total, lambda));
    }

    /// <summary>
    /// mean((input - target)^2) as a zero-dimensional tensor.
    /// dinput = dloss * 2 (input - target) / n;  dtarget = -dinput.
    /// The upstream gradient stays on the device (the kernel reads dloss[0]).
    /// </summary>
    public static Tensor MseLoss(Tensor input, Tensor target)
    {
        const string op = "mse_loss";
        Check.NotNull(op, nameof(input), input);
        Check.NotNull(op, nameof(target), target);
        Check.SameBackend(op, input, target);
        Check.SameShape(op, "input", input, "target", target);
        var b = input.Backend;
        var loss = Tensor.Empty([], b);
        b.MseLoss(input.Buffer, target.Buffer, loss.Buffer);
        if (!Autograd.NeedsGrad(input, target)) return loss;
        return Autograd.Record(op, loss, [input, target], dloss =>
        {
            var dinput = Tensor.Empty(input.Shape, b);
            b.MseLossBackward(input.Buffer, target.Buffer, dloss.Buffer, dinput.Buffer);
            Tensor? dtarget = null;
            if (target.RequiresGrad)
            {
                dtarget = Tensor.Empty(target.Shape, b);
                b.Scale(dinput.Buffer, -1f, dtarget.Buffer);
            }
            return [input.RequiresGrad ? dinput : null, dtarget];
        });
    }

    /// <summary>
    /// Cross-entropy of logits [N,C,...] (classes on dim 1) against a soft target distribution of the
    /// same shape, with optional per-pixel weights [N,1,...]: the mean over the N*pixels of
    /// w * (-sum_c z_c log softmax_c(logits)) (the colorization loss of Zhang et al. / Liu et al.).
    /// dlogits = dloss * w * (softmax * sum_c z_c - z) / (N*pixels). The target and the weights are
    /// constants: asking for their gradient is an error rather than a silently missing term.
    /// </summary>
    public static Tensor SoftCrossEntropy(Tensor logits, Tensor targetDistribution, Tensor? pixelWeights = null)
    {
        const string op = "soft_cross_entropy";
        Check.NotNull(op, nameof(logits), logits);
        Check.NotNull(op, nameof(targetDistribution), targetDistribution);
        Check.SameBackend(op, logits, targetDistribution, pixelWeights);
        Check.MinRank(op, "logits", logits, 2);
        Check.SameShape(op, "logits", logits, "target", targetDistribution);
        if (pixelWeights is not null)
        {
            var expected = logits.Shape;
            expected[1] = 1;
            if (!pixelWeights.ShapeSpan.SequenceEqual(expected))
                throw new ArgumentException($"{op}: weights {Check.S(pixelWeights)} must have shape {Tensor.Format(expected)} for logits {Check.S(logits)}.");
        }
        if (Autograd.IsGradEnabled && (targetDistribution.RequiresGrad || (pixelWeights?.RequiresGrad ?? false)))
            throw new ArgumentException($"{op}: gradients with respect to the target distribution or the weights are not implemented; pass them without requires_grad.");

        var g = Check.AlongDim(logits, 1);
        var b = logits.Backend;
        var loss = Tensor.Empty([], b);
        b.SoftmaxCrossEntropy(logits.Buffer, targetDistribution.Buffer, pixelWeights?.Buffer, g, loss.Buffer);
        if (!Autograd.NeedsGrad(logits)) return loss;
        return Autograd.Record(op, loss, [logits, targetDistribution, pixelWeights], dloss =>
        {
            var dlogits = Tensor.Empty(logits.Shape, b);
            b.SoftmaxCrossEntropyBackward(logits.Buffer, targetDistribution.Buffer, pixelWeights?.Buffer, g, dloss.Buffer, dlogits.Buffer);
            return [dlogits, null, null];
        });
    }
}
