namespace ILGpuSat.Engine;

/// <summary>
/// Functional ops with PyTorch semantics (torch.nn.functional names, C# casing). Each op family
/// lives in one file of this folder with its forward and its backward rule side by side.
/// </summary>
public static partial class F
{
    // y = a + b;  da = dy, db = dy
    public static Tensor Add(Tensor a, Tensor b)
    {
        const string op = "add";
        CheckPair(op, a, b);
        var y = Tensor.Empty(a.Shape, a.Backend);
        a.Backend.Add(a.Buffer, b.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(a, b)) return y;
        return Autograd.Record(op, y, [a, b], dy => [dy, dy]);
    }

    // y = a - b;  da = dy, db = -dy
    public static Tensor Sub(Tensor a, Tensor b)
    {
        const string op = "sub";
        CheckPair(op, a, b);
        var y = Tensor.Empty(a.Shape, a.Backend);
        a.Backend.Copy(a.Buffer, y.Buffer);
        a.Backend.Axpy(-1f, b.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(a, b)) return y;
        return Autograd.Record(op, y, [a, b], dy => [dy, b.RequiresGrad ? Scaled(dy, -1f) : null]);
    }

    // y = a * b (elementwise);  da = dy * b, db = dy * a
    public static Tensor Mul(Tensor a, Tensor b)
    {
        const string op = "mul";
        CheckPair(op, a, b);
        var y = Tensor.Empty(a.Shape, a.Backend);
        a.Backend.Multiply(a.Buffer, b.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(a, b)) return y;
        return Autograd.Record(op, y, [a, b], dy =>
        [
            a.RequiresGrad ? Product(dy, b) : null,
            b.RequiresGrad ? Product(dy, a) : null,
        ]);
    }

    // y = s * x;  dx = s * dy
    public static Tensor Mul(Tensor x, float s)
    {
        Check.NotNull("mul", nameof(x), x);
        var y = Scaled(x, s);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record("mul", y, [x], dy => [Scaled(dy, s)]);
    }

    private static void CheckPair(string op, Tensor a, Tensor b)
    {
        Check.NotNull(op, nameof(a), a);
        Check.NotNull(op, nameof(b), b);
        Check.SameBackend(op, a, b);
        Check.SameShape(op, "a", a, "b", b);
    }

    private static Tensor Scaled(Tensor x, float s)
    {
        var y = Tensor.Empty(x.Shape, x.Backend);
        x.Backend.Scale(x.Buffer, s, y.Buffer);
        return y;
    }

    private static Tensor Product(Tensor a, Tensor b)
    {
        var y = Tensor.Empty(a.Shape, a.Backend);
        a.Backend.Multiply(a.Buffer, b.Buffer, y.Buffer);
        return y;
    }
}
