using ILGpuSat.Kernels;

namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// The mean over the spatial positions of each sample's channel, x [N, C, H, W] -&gt; [N, C, 1, 1], as
    /// torch.nn.functional.adaptive_avg_pool2d(x, 1) (DeepSUM's RegNet pools its 81 filter logits so). Forward: the
    /// per-channel sum kernel on x seen as [1, N*C, H*W], times 1/(H*W). dx = dy[n, c] / (H*W) at every position
    /// (the per-channel bias kernel adding it to zeros).
    /// </summary>
    public static Tensor SpatialMean(Tensor x)
    {
        const string op = "spatial_mean";
        Check.NotNull(op, nameof(x), x);
        Check.Rank(op, "input", x, 4);
        int n = x.Size(0), c = x.Size(1), hw = x.Size(2) * x.Size(3);
        var g = new ChannelGeometry(1, n * c, hw);
        var b = x.Backend;
        var sum = Tensor.Empty([n, c, 1, 1], b);
        b.ChannelSum(x.Buffer, g, sum.Buffer);
        var y = Tensor.Empty([n, c, 1, 1], b);
        b.Scale(sum.Buffer, 1f / hw, y.Buffer);
        sum.Dispose();
        if (!Autograd.NeedsGrad(x)) return y;
        var shape = x.Shape;
        return Autograd.Record(op, y, [x], dy =>
        {
            var share = Tensor.Empty([n * c], dy.Backend);
            dy.Backend.Scale(dy.Buffer, 1f / hw, share.Buffer);
            var dx = Tensor.Zeros(shape, dy.Backend);
            dy.Backend.AddChannelBias(dx.Buffer, share.Buffer, g, dx.Buffer);
            share.Dispose();
            return [dx];
        });
    }

    /// <summary>
    /// Reflection padding of the last two dimensions by <paramref name="padding"/> on every side, as
    /// torch.nn.functional.pad(x, [p, p, p, p], mode="reflect"): the border row or column itself is not repeated
    /// (padding below the size). DeepSUM pads its convolutions and its dynamic filters this way. Composed of Narrow
    /// (one row or column each) and Cat along W, then along H; the backward is theirs.
    /// </summary>
    public static Tensor ReflectPad2d(Tensor x, int padding)
    {
        const string op = "reflect_pad2d";
        Check.NotNull(op, nameof(x), x);
        Check.MinRank(op, "input", x, 3);
        if (padding < 0) throw new ArgumentException($"{op}: padding must be >= 0, got {padding}.");
        if (padding == 0) return x;
        int hDim = x.Rank - 2, wDim = x.Rank - 1;
        if (padding >= x.Size(hDim) || padding >= x.Size(wDim))
            throw new ArgumentException($"{op}: padding {padding} must be smaller than the spatial size of {Check.S(x)}.");
        Tensor Along(Tensor t, int dim)
        {
            int size = t.Size(dim);
            var parts = new List<Tensor>();
            for (int i = padding; i >= 1; i--) parts.Add(Narrow(t, dim, i, 1));
            parts.Add(t);
            for (int i = 1; i <= padding; i++) parts.Add(Narrow(t, dim, size - 1 - i, 1));
            var padded = Cat(parts.ToArray(), dim);
            // The edge slices are released after the Cat read them (no-ops in grad mode); t is not ours to release.
            foreach (var part in parts) if (!ReferenceEquals(part, t)) part.ReleaseIfNoGrad();
            return padded;
        }
        var wide = Along(x, wDim);
        return wide.ReplacedBy(Along(wide, hDim));
    }
}
