namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>Sum of all elements as a zero-dimensional tensor.  dx = dy (broadcast).</summary>
    public static Tensor Sum(Tensor x)
    {
        Check.NotNull("sum", nameof(x), x);
        var y = Tensor.Empty([], x.Backend);
        x.Backend.Sum(x.Buffer, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record("sum", y, [x], dy => [Broadcast(dy, x, 1f)]);
    }

    /// <summary>Mean of all elements as a zero-dimensional tensor.  dx = dy / n (broadcast).</summary>
    public static Tensor Mean(Tensor x)
    {
        Check.NotNull("mean", nameof(x), x);
        float inv = (float)(1.0 / x.Length);
        var y = Tensor.Empty([], x.Backend);
        x.Backend.Sum(x.Buffer, y.Buffer);
        x.Backend.Scale(y.Buffer, inv, y.Buffer);
        if (!Autograd.NeedsGrad(x)) return y;
        return Autograd.Record("mean", y, [x], dy => [Broadcast(dy, x, inv)]);
    }

    /// <summary>A tensor shaped like <paramref name="like"/> filled with scale * dy[0], on the device.</summary>
    private static Tensor Broadcast(Tensor dy, Tensor like, float scale)
    {
        var dx = Tensor.Empty(like.Shape, like.Backend);
        like.Backend.FillFromScalar(dy.Buffer, scale, dx.Buffer);
        return dx;
    }
}
