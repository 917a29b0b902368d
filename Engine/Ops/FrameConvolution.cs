namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// 3-D convolution over (frames, H, W) with stride 1, no temporal padding and an optional spatial zero padding, on
    /// the frames-major layout the multi-image networks keep: x [N, T, Cin, H, W] (frames before channels, so
    /// Reshape to [N*T, Cin, H, W] is free of reordering), weight [Cout, Cin, kT, kH, kW] as torch.nn.Conv3d, bias
    /// [Cout]; the result [N, T - kT + 1, Cout, H', W'] is torch's conv3d of x.permute(0, 2, 1, 3, 4), permuted back.
    /// Output frame t is the sum over taps k of the 2-D convolution of input frame t + k with tap k of the weight, so
    /// each tap is one batched 2-D convolution over every (sample, frame) at once: the frames t + k for all t are one
    /// Narrow of the frames axis. Forward and backward are the 2-D convolution's kernels on both backends, composed
    /// through Narrow, Reshape and Add. DeepSUM's FusionNet fuses frames "slowly" with it (9 -&gt; 7 -&gt; 5 -&gt; 3 -&gt; 1).
    /// </summary>
    public static Tensor Conv3d(Tensor x, Tensor weight, Tensor? bias = null, int padding = 0)
    {
        const string op = "conv3d";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight, bias);
        Check.Rank(op, "input", x, 5);
        Check.Rank(op, "weight", weight, 5);
        int n = x.Size(0), frames = x.Size(1), cin = x.Size(2), h = x.Size(3), w = x.Size(4);
        int cout = weight.Size(0), kt = weight.Size(2), kh = weight.Size(3), kw = weight.Size(4);
        if (weight.Size(1) != cin)
            throw new ArgumentException($"{op}: input {Check.S(x)} [N, T, C, H, W] has {cin} channels but weight {Check.S(weight)} expects {weight.Size(1)}.");
        Check.Vector(op, "bias", bias, cout);
        if (kt > frames)
            throw new ArgumentException($"{op}: {kt} temporal taps need at least {kt} frames, input {Check.S(x)} [N, T, C, H, W] has {frames} (no temporal padding).");
        if (padding < 0) throw new ArgumentException($"{op}: padding must be >= 0, got {padding}.");
        int outFrames = frames - kt + 1;
        // Intermediates are released after their last read (no-ops in grad mode), so inference holds one tap's.
        Tensor? acc = null;
        for (int k = 0; k < kt; k++)
        {
            var slice = Narrow(weight, 2, k, 1);
            var tap = slice.ReplacedBy(Reshape(slice, cout, cin, kh, kw));
            var frames_ = kt == 1 ? x : Narrow(x, 1, k, outFrames);
            var window = Reshape(frames_, n * outFrames, cin, h, w);
            if (!ReferenceEquals(frames_, x)) frames_.ReleaseIfNoGrad();
            var y = Conv2d(window, tap, k == 0 ? bias : null, padding: padding);
            window.ReleaseIfNoGrad();
            tap.ReleaseIfNoGrad();
            if (acc is null) { acc = y; continue; }
            var sum = Add(acc, y);
            acc.ReleaseIfNoGrad();
            y.ReleaseIfNoGrad();
            acc = sum;
        }
        return acc!.ReplacedBy(Reshape(acc!, n, outFrames, cout, acc!.Size(2), acc.Size(3)));
    }

    /// <summary>
    /// Per-sample dynamic convolution (DeepSUM's global dynamic convolution): sample n's own K x K filter
    /// filters[n, 0] is applied to every channel of x[n] with zero padding K / 2, so x [N, C, H, W] and filters
    /// [N, 1, K, K] (K odd) give [N, C, H, W]; with <paramref name="reflect"/> the border is reflected instead
    /// (DeepSUM's choice: a shifted frame does not fade at its edges). RegNet predicts the filters (a softmax over the taps makes them a
    /// weighted average of shifts); the same filters align the frames' masks. Forward and backward are the 2-D
    /// convolution's kernels (the sample's channels as a batch of one-channel images); d filters is the
    /// convolution's weight gradient summed over the channels.
    /// </summary>
    public static Tensor DynamicConv2d(Tensor x, Tensor filters, bool reflect = false)
    {
        const string op = "dynamic_conv2d";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(filters), filters);
        Check.SameBackend(op, x, filters);
        Check.Rank(op, "input", x, 4);
        Check.Rank(op, "filters", filters, 4);
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3), k = filters.Size(2);
        if (filters.Size(0) != n || filters.Size(1) != 1 || filters.Size(3) != k || k % 2 == 0)
            throw new ArgumentException($"{op}: filters must be [N, 1, K, K] with K odd and N = {n} (input {Check.S(x)}), got {Check.S(filters)}.");
        var outputs = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            // Intermediates are released after their last read (no-ops in grad mode).
            var sample = Narrow(x, 0, i, 1);
            var planes = sample.ReplacedBy(Reshape(sample, c, 1, h, w));
            var filter = Narrow(filters, 0, i, 1);
            Tensor filtered;
            if (reflect)
            {
                var padded = planes.ReplacedBy(ReflectPad2d(planes, k / 2));
                filtered = padded.ReplacedBy(Conv2d(padded, filter));
            }
            else filtered = planes.ReplacedBy(Conv2d(planes, filter, null, padding: k / 2));
            filter.ReleaseIfNoGrad();
            outputs[i] = filtered.ReplacedBy(Reshape(filtered, 1, c, h, w));
        }
        if (n == 1) return outputs[0];
        var all = Cat(outputs, dim: 0);
        foreach (var o in outputs) o.ReleaseIfNoGrad();
        return all;
    }
}
