using ILGpuSat.Kernels;

namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// 2-D convolution (cross-correlation) of x [N,C,H,W] with weight OIHW [O,C,KH,KW] and an optional bias [O].
    /// dx = conv2d_backward_data(dy, w);  dw = conv2d_backward_weight(x, dy);  db = sum of dy over N, H, W.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1)
    {
        const string op = "conv2d";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight, bias);
        Check.Rank(op, "input", x, 4);
        Check.Rank(op, "weight", weight, 4);
        if (x.Size(1) != weight.Size(1))
            throw new ArgumentException($"{op}: input {Check.S(x)} has {x.Size(1)} channels but weight {Check.S(weight)} expects {weight.Size(1)}.");
        Check.Vector(op, "bias", bias, weight.Size(0));
        var g = new Conv2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), weight.Size(0), weight.Size(2), weight.Size(3),
            stride, stride, padding, padding, dilation, dilation);
        ValidateConv(op, g, x, weight);

        var y = Tensor.Empty([g.N, g.OutC, g.OutH, g.OutW], x.Backend);
        x.Backend.Conv2d(x.Buffer, weight.Buffer, bias?.Buffer, g, y.Buffer);
        if (!Autograd.NeedsGrad(x, weight, bias)) return y;
        return Autograd.Record(op, y, [x, weight, bias], dy =>
        {
            var b = x.Backend;
            Tensor? dx = null, dw = null, db = null;
            if (x.RequiresGrad)
            {
                dx = Tensor.Empty(x.Shape, b);
                b.Conv2dBackwardData(dy.Buffer, weight.Buffer, g, dx.Buffer);
            }
            if (bias is { RequiresGrad: true }) db = Tensor.Empty(bias.Shape, b);
            if (weight.RequiresGrad)
            {
                dw = Tensor.Empty(weight.Shape, b);
                b.Conv2dBackwardWeight(x.Buffer, dy.Buffer, g, dw.Buffer, db?.Buffer);
            }
            else if (db is not null) b.ChannelSum(dy.Buffer, new ChannelGeometry(g.N, g.OutC, g.OutH * g.OutW), db.Buffer);
            return [dx, dw, db];
        });
    }

    /// <summary>
    /// Transposed 2-D convolution of x [N,Cin,H,W] with weight IOHW [Cin,Cout,KH,KW] and an optional bias [Cout]:
    /// the adjoint of the convolution g = <see cref="Conv2dGeometry.ForTranspose"/> (whose input is our
    /// output and whose OIHW weight is our IOHW weight), so forward = conv2d_backward_data(x, w) + bias and
    /// dx = conv2d(dy, w);  dw = conv2d_backward_weight(input: dy, grad: x);  db = sum of dy over N, H, W.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0,
        int outputPadding = 0, int dilation = 1)
    {
        const string op = "conv_transpose2d";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight, bias);
        Check.Rank(op, "input", x, 4);
        Check.Rank(op, "weight", weight, 4);
        if (x.Size(1) != weight.Size(0))
            throw new ArgumentException($"{op}: input {Check.S(x)} has {x.Size(1)} channels but weight {Check.S(weight)} (IOHW) expects {weight.Size(0)}.");
        Check.Vector(op, "bias", bias, weight.Size(1));
        if (stride <= 0 || dilation <= 0 || padding < 0)
            throw new ArgumentException($"{op}: stride {stride} and dilation {dilation} must be positive and padding {padding} non-negative.");
        int n = x.Size(0), cin = x.Size(1), h = x.Size(2), w = x.Size(3), cout = weight.Size(1);
        Conv2dGeometry g;
        try
        {
            g = Conv2dGeometry.ForTranspose(n, cin, h, w, cout, weight.Size(2), weight.Size(3),
                stride, stride, padding, padding, outputPadding, outputPadding, dilation, dilation);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{e.Message} (input {Check.S(x)}, weight {Check.S(weight)})", e);
        }
        if (g.OutH != h || g.OutW != w)
            throw new ArgumentException($"{op}: input {Check.S(x)} is not reachable by a convolution with stride {stride}, padding {padding} and kernel {weight.Size(2)}x{weight.Size(3)}.");

        var outChannels = new ChannelGeometry(n, cout, g.InH * g.InW);
        var y = Tensor.Empty([n, cout, g.InH, g.InW], x.Backend);
        x.Backend.Conv2dBackwardData(x.Buffer, weight.Buffer, g, y.Buffer);
        if (bias is not null) x.Backend.AddChannelBias(y.Buffer, bias.Buffer, outChannels, y.Buffer);
        if (!Autograd.NeedsGrad(x, weight, bias)) return y;
        return Autograd.Record(op, y, [x, weight, bias], dy =>
        {
            var b = x.Backend;
            Tensor? dx = null, dw = null, db = null;
            if (x.RequiresGrad)
            {
                dx = Tensor.Empty(x.Shape, b);
                b.Conv2d(dy.Buffer, weight.Buffer, null, g, dx.Buffer);
            }
            if (weight.RequiresGrad)
            {
                dw = Tensor.Empty(weight.Shape, b);
                b.Conv2dBackwardWeight(dy.Buffer, x.Buffer, g, dw.Buffer, null);
            }
            if (bias is { RequiresGrad: true })
            {
                db = Tensor.Empty(bias.Shape, b);
                b.ChannelSum(dy.Buffer, outChannels, db.Buffer);
            }
            return [dx, dw, db];
        });
    }

    private static void ValidateConv(string op, Conv2dGeometry g, Tensor x, Tensor weight)
    {
        try
        {
            g.Validate(op);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{e.Message} (input {Check.S(x)}, weight {Check.S(weight)})", e);
        }
    }
}
