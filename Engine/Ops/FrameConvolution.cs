namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// 3-D convolution as torch.nn.functional.conv3d with stride 1, no temporal padding and an optional spatial
    /// padding: x [N, Cin, T, H, W], weight [Cout, Cin, kT, kH, kW], bias [Cout] -&gt; [N, Cout, T - kT + 1, H', W'].
    /// Output frame t is the sum over taps k of the 2-D convolution of input frame t + k with the weight's tap k
    /// (bias once), so forward and backward are the 2-D convolution's kernels on both backends, composed through
    /// Narrow, Reshape, Add and Cat (each with its own backward). DeepSUM's FusionNet fuses frames "slowly" with it.
    /// </summary>
    public static Tensor Conv3d(Tensor x, Tensor weight, Tensor? bias = null, int padding = 0)
    {
        const string op = "conv3d";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight, bias);
        Check.Rank(op, "input", x, 5);
        Check.Rank(op, "weight", weight, 5);
        int n = x.Size(0), cin = x.Size(1), frames = x.Size(2), h = x.Size(3), w = x.Size(4);
        int cout = weight.Size(0), kt = weight.Size(2), kh = weight.Size(3), kw = weight.Size(4);
        if (weight.Size(1) != cin)
            throw new ArgumentException($"{op}: input {Check.S(x)} has {cin} channels but weight {Check.S(weight)} expects {weight.Size(1)}.");
        Check.Vector(op, "bias", bias, cout);
        if (kt > frames)
            throw new ArgumentException($"{op}: {kt} temporal taps need at least {kt} frames, input {Check.S(x)} has {frames} (no temporal padding).");
        if (padding < 0) throw new ArgumentException($"{op}: padding must be >= 0, got {padding}.");
        int outFrames = frames - kt + 1;

        // The weight's taps and the input's frames as 2-D tensors, each made once.
        var taps = Enumerable.Range(0, kt).Select(k => Reshape(Narrow(weight, 2, k, 1), cout, cin, kh, kw)).ToArray();
        var inputs = Enumerable.Range(0, frames).Select(t => Reshape(Narrow(x, 2, t, 1), n, cin, h, w)).ToArray();
        var outputs = new Tensor[outFrames];
        for (int t = 0; t < outFrames; t++)
        {
            Tensor acc = Conv2d(inputs[t], taps[0], bias, padding: padding);
            for (int k = 1; k < kt; k++) acc = Add(acc, Conv2d(inputs[t + k], taps[k], null, padding: padding));
            outputs[t] = Reshape(acc, n, cout, 1, acc.Size(2), acc.Size(3));
        }
        return outFrames == 1 ? outputs[0] : Cat(outputs, dim: 2);
    }

    /// <summary>
    /// Per-sample dynamic convolution (DeepSUM's global dynamic convolution): sample n's own K x K filter
    /// filters[n, 0] is applied to every channel of x[n] with zero padding K / 2, so x [N, C, H, W] and filters
    /// [N, 1, K, K] (K odd) give [N, C, H, W]. RegNet predicts the filters (a softmax over the taps makes them a
    /// weighted average of shifts); the same filters align the frames' masks. Forward and backward are the 2-D
    /// convolution's kernels (the sample's channels as a batch of one-channel images); d filters is the
    /// convolution's weight gradient summed over the channels.
    /// </summary>
    public static Tensor DynamicConv2d(Tensor x, Tensor filters)
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
            var planes = Reshape(Narrow(x, 0, i, 1), c, 1, h, w);
            var filter = Narrow(filters, 0, i, 1);
            outputs[i] = Reshape(Conv2d(planes, filter, null, padding: k / 2), 1, c, h, w);
        }
        return n == 1 ? outputs[0] : Cat(outputs, dim: 0);
    }
}
