namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// x.reshape(shape) as a copy (the engine's tensors own their buffers): the same elements in the same row-major
    /// order under a new shape of the same length; one -1 entry is inferred. It moves a frames axis in and out of
    /// the batch ([N, T, C, H, W] to [N*T, C, H, W] and back). dx = dy under x's shape.
    /// </summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        const string op = "reshape";
        Check.NotNull(op, nameof(x), x);
        ArgumentNullException.ThrowIfNull(shape);
        var target = (int[])shape.Clone();
        int infer = Array.IndexOf(target, -1);
        if (infer >= 0 && Array.IndexOf(target, -1, infer + 1) >= 0)
            throw new ArgumentException($"{op}: only one dimension can be -1, got [{string.Join(", ", shape)}].");
        if (target.Any(d => d < -1 || d == 0 && infer >= 0))
            throw new ArgumentException($"{op}: sizes must be positive (one may be -1), got [{string.Join(", ", shape)}].");
        long known = target.Where(d => d != -1).Aggregate(1L, (a, d) => a * d);
        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
                throw new ArgumentException($"{op}: {Check.S(x)} ({x.Length} elements) cannot be viewed as [{string.Join(", ", shape)}].");
            target[infer] = (int)(x.Length / known);
        }
        else if (known != x.Length)
            throw new ArgumentException($"{op}: {Check.S(x)} holds {x.Length} elements, [{string.Join(", ", shape)}] holds {known}.");

        var y = Tensor.Empty(target, x.Backend);
        x.Backend.Copy(x.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        var inputShape = x.Shape;
        return Autograd.Record(op, y, [x], dy =>
        {
            var dx = Tensor.Empty(inputShape, dy.Backend);
            dy.Backend.Copy(dy.Buffer, dx.Buffer);
            return [dx];
        });
    }
}
