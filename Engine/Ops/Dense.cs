namespace ILGpuSat.Engine;

public static partial class F
{
    /// <summary>
    /// torch.nn.functional.linear: y = x W^T + b for x [N, in], weight [out, in] (PyTorch's layout), bias [out], y
    /// [N, out]. Computed as a 1 x 1 convolution of x seen as [N, in, 1, 1] with the weight seen as [out, in, 1, 1],
    /// so forward and backward are the convolution's GEMM kernels on both backends (dx = dy W, dW = dy^T x,
    /// db = sum over N of dy).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        const string op = "linear";
        Check.NotNull(op, nameof(x), x);
        Check.NotNull(op, nameof(weight), weight);
        Check.SameBackend(op, x, weight, bias);
        Check.Rank(op, "input", x, 2);
        Check.Rank(op, "weight", weight, 2);
        int n = x.Size(0), features = x.Size(1), outputs = weight.Size(0);
        if (weight.Size(1) != features)
            throw new ArgumentException($"{op}: input {Check.S(x)} has {features} features but weight {Check.S(weight)} [out, in] expects {weight.Size(1)}.");
        Check.Vector(op, "bias", bias, outputs);
        var image = Reshape(x, n, features, 1, 1);
        var kernel = Reshape(weight, outputs, features, 1, 1);
        var y = Conv2d(image, kernel, bias);
        image.ReleaseIfNoGrad();
        kernel.ReleaseIfNoGrad();
        return y.ReplacedBy(Reshape(y, n, outputs));
    }

    /// <summary>x [N, ...] as [N, product of the rest] (torch.flatten(x, 1)).</summary>
    public static Tensor Flatten(Tensor x)
    {
        Check.NotNull("flatten", nameof(x), x);
        Check.MinRank("flatten", "input", x, 1);
        long rest = x.Length / Math.Max(1, x.Size(0));
        if (rest > int.MaxValue) throw new ArgumentException($"flatten: {Check.S(x)} has {rest} features per sample, more than one dimension holds.");
        return Reshape(x, x.Size(0), (int)rest);
    }
}
