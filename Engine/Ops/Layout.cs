namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// Concatenates along <paramref name="dim"/> (all other sizes equal), as torch.cat. Each input
    /// is a block of channels of the output when the shape is seen as [outer, size(dim), inner].
    /// dx_i = the matching block of dy.
    /// </summary>
    public static Tensor Cat(Tensor[] xs, int dim = 1)
    {
        const string op = "cat";
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Length == 0) throw new ArgumentException($"{op}: needs at least one tensor.");
        for (int i = 0; i < xs.Length; i++) Check.NotNull(op, $"xs[{i}]", xs[i]);
        var first = xs[0];
        int d = Check.Dim(op, first, dim);
        int total = 0;
        foreach (var t in xs)
        {
            Check.SameBackend(op, first, t);
            bool same = t.Rank == first.Rank;
            for (int k = 0; same && k < t.Rank; k++) same = k == d || t.Size(k) == first.Size(k);
            if (!same)
                throw new ArgumentException($"{op}: tensors {string.Join(", ", xs.Select(Check.S))} must match in every dimension but {d}.");
            total += t.Size(d);
        }

        var shape = first.Shape;
        shape[d] = total;
        var y = Tensor.Empty(shape, first.Backend);
        var geo = Check.AlongDim(y, d);
        int offset = 0;
        foreach (var t in xs)
        {
            int count = t.Size(d);
            first.Backend.CopyChannels(t.Buffer, count, 0, y.Buffer, total, offset, count, geo.N, geo.HW);
            offset += count;
        }
        if (!Autograd.NeedsGrad(xs)) return y;
        return Autograd.Record(op, y, xs, dy =>
        {
            var dxs = new Tensor?[xs.Length];
            int start = 0;
            for (int i = 0; i < xs.Length; i++)
            {
                int count = xs[i].Size(d);
                if (xs[i].RequiresGrad)
                {
                    dxs[i] = Tensor.Empty(xs[i].Shape, dy.Backend);
                    dy.Backend.CopyChannels(dy.Buffer, total, start, dxs[i]!.Buffer, count, 0, count, geo.N, geo.HW);
                }
                start += count;
            }
            return dxs;
        });
    }

    /// <summary>
    /// x.narrow(dim, start, length) as a copy: indices [start, start+length) of dimension <paramref name="dim"/>.
    /// dx = dy placed at those indices, zeros elsewhere.
    /// </summary>
    public static Tensor Narrow(Tensor x, int dim, int start, int length)
    {
        const string op = "narrow";
        Check.NotNull(op, nameof(x), x);
        int d = Check.Dim(op, x, dim);
        int size = x.Size(d);
        if (start < 0 || length <= 0 || start + length > size)
            throw new ArgumentException($"{op}: range start {start}, length {length} does not fit dimension {d} of size {size} in {Check.S(x)}.");
        var shape = x.Shape;
        shape[d] = length;
        var y = Tensor.Empty(shape, x.Backend);
        var geo = Check.AlongDim(x, d);
        x.Backend.CopyChannels(x.Buffer, size, start, y.Buffer, length, 0, length, geo.N, geo.HW);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record(op, y, [x], dy =>
        {
            var dx = Tensor.Zeros(x.Shape, backend: x.Backend);
            x.Backend.CopyChannels(dy.Buffer, length, 0, dx.Buffer, size, start, length, geo.N, geo.HW);
            return [dx];
        });
    }
}
