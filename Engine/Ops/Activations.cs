namespace ILGpuSat.Engine;

public static partial class F
{
    // y = max(x, 0);  dx = dy * (x > 0)
    public static Tensor Relu(Tensor x)
    {
        Check.NotNull("relu", nameof(x), x);
        var y = Tensor.Empty(x.Shape, x.Backend);
        x.Backend.Relu(x.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record("relu", y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Backend);
            x.Backend.ReluBackward(x.Buffer, dy.Buffer, dx.Buffer);
            return [dx];
        });
    }

    // y = x > 0 ? x : slope * x;  dx = dy * (x > 0 ? 1 : slope)
    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f)
    {
        Check.NotNull("leaky_relu", nameof(x), x);
        var y = Tensor.Empty(x.Shape, x.Backend);
        x.Backend.LeakyRelu(x.Buffer, negativeSlope, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record("leaky_relu", y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Backend);
            x.Backend.LeakyReluBackward(x.Buffer, dy.Buffer, negativeSlope, dx.Buffer);
            return [dx];
        });
    }

    /// <summary>
    /// PReLU: y = x > 0 ? x : a_c * x with one slope shared (weight [1]) or one per channel
    /// (weight [C], channels = dim 1).
    /// dx = dy * (x > 0 ? 1 : a_c);  da_c = sum over x &lt;= 0 of dy * x.
    /// </summary>
    public static Tensor Prelu(Tensor x, Tensor weight)
    {
        const string op = "prelu";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight);
        Check.MinRank(op, "input", x, 2);
        int c = x.Size(1);
        if (weight.Rank != 1 || (weight.Length != 1 && weight.Length != c))
            throw new ArgumentException($"{op}: weight {Check.S(weight)} must have shape [1] or [{c}] for input {Check.S(x)}.");
        var g = Check.AlongDim(x, 1);
        var y = Tensor.Empty(x.Shape, x.Backend);
        x.Backend.PRelu(x.Buffer, weight.Buffer, g, y.Buffer);
        if (!Autograd.NeedsGrad(x, weight)) return y;
        return Autograd.Record(op, y, [x, weight], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Backend);
            var dw = Tensor.Empty(weight.Shape, x.Backend);
            x.Backend.PReluBackward(x.Buffer, weight.Buffer, dy.Buffer, g, dx.Buffer, dw.Buffer);
            return [dx, dw];
        });
    }
}
