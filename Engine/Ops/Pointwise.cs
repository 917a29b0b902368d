using ILGpuSat.Kernels;

namespace ILGpuSat.Engine;

// Smooth pointwise functions, forward and backward side by side (the backend's Pointwise kernels):
//   exp(x)       dx = dy * y
//   log(x)       dx = dy / x
//   sigmoid(x)   dx = dy * y * (1 - y)
//   softplus(x)  dx = dy * sigmoid(x)      ln(1 + e^x), computed stably
public static partial class F
{
    public static Tensor Exp(Tensor x) => Pointwise(PointwiseFunction.Exp, x);

    public static Tensor Log(Tensor x) => Pointwise(PointwiseFunction.Log, x);

    public static Tensor Sigmoid(Tensor x) => Pointwise(PointwiseFunction.Sigmoid, x);

    public static Tensor Softplus(Tensor x) => Pointwise(PointwiseFunction.Softplus, x);

    private static Tensor Pointwise(PointwiseFunction f, Tensor x)
    {
        string op = PointwiseFunctions.Name(f);
        Check.NotNull(op, nameof(x), x);
        var b = x.Backend;
        var y = Tensor.Empty(x.Shape, b);
        b.Pointwise(f, x.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        var saved = PointwiseFunctions.BackwardReadsOutput(f) ? y : x;
        return Autograd.Record(op, y, [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, b);
            b.PointwiseBackward(f, saved.Buffer, dy.Buffer, dx.Buffer);
            return [dx];
        });
    }
}
