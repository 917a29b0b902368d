namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// Softmax along <paramref name="dim"/> (default 1: channels of NCHW, per pixel).
    /// dx = y * (dy - sum_c dy * y).
    /// </summary>
    public static Tensor Softmax(Tensor x, int dim = 1)
    {
        const string op = "softmax";
        Check.NotNull(op, nameof(x), x);
        var g = Check.AlongDim(x, Check.Dim(op, x, dim));
        var b = x.Backend;
        var y = Tensor.Empty(x.Shape, b);
        b.Softmax(x.Buffer, g, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        // Backward reads the output; it belongs to this node, so it is not an input of the version check.
        return Autograd.Record(op, y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, b);
            b.SoftmaxBackward(y.Buffer, dy.Buffer, g, dx.Buffer);
            return [dx];
        });
    }

    /// <summary>
    /// Log-softmax along <paramref name="dim"/> (default 1).  dx = dy - exp(y) * sum_c dy.
    /// </summary>
    public static Tensor LogSoftmax(Tensor x, int dim = 1)
    {
        const string op = "log_softmax";
        Check.NotNull(op, nameof(x), x);
        var g = Check.AlongDim(x, Check.Dim(op, x, dim));
        var b = x.Backend;
        var y = Tensor.Empty(x.Shape, b);
        b.LogSoftmax(x.Buffer, g, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record(op, y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, b);
            b.LogSoftmaxBackward(y.Buffer, dy.Buffer, g, dx.Buffer);
            return [dx];
        });
    }
}
