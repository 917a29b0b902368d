using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Kernels;

namespace ILGpuSat.Networks;

/// <summary>A module that can switch its eval-mode forward to folded, fused layers (see <see cref="InferenceFolding"/>).</summary>
internal interface IInferenceFoldable
{
    /// <summary>Builds the folded layers from the current (eval-mode) weights and statistics; eval-mode Forward uses them from now on.</summary>
    void FoldForInference();
}

/// <summary>
/// Turns a trained network into an inference network: batch norm folded into the convolution before it,
/// stride-1 transposed convolutions rewritten as convolutions, and bias + activation applied in the
/// convolution's epilogue (<see cref="F.Conv2dFused"/>). See docs/inference.md for what is folded where.
/// </summary>
public static class InferenceFolding
{
    /// <summary>
    /// Returns an eval-mode network computing the same function as <paramref name="trained"/> in eval mode
    /// (within 1e-4 relative), with every ConvBlock's batch norm folded into its (de)convolution's weights and
    /// bias and the bias + PReLU/LeakyReLU/ReLU applied in the convolution's epilogue; <paramref name="trained"/>
    /// is left unchanged. The copy keeps the original parameters too (its state dict is the trained one's, so it
    /// saves and reloads like it); the folded layers are built once here, so load new weights into
    /// <paramref name="trained"/> and fold again rather than into the copy. Train mode on the copy runs the
    /// unfolded layers.
    /// </summary>
    public static SatNetwork FoldForInference(SatNetwork trained)
    {
        ArgumentNullException.ThrowIfNull(trained);
        var state = trained.StateDict();
        var backend = state.Values.FirstOrDefault()?.Backend
            ?? throw new ArgumentException($"FoldForInference: {trained.GetType().Name} has no parameters to fold.");
        var copy = trained.Rebuild(new LayerFactory(backend, 0))
            ?? throw new ArgumentException($"FoldForInference: {trained.GetType().Name} cannot be rebuilt for folding; build it through ModelCatalog.Create.");
        try
        {
            copy.LoadStateDict(state);
            copy.Normalization = trained.Normalization;
            copy.Eval();
            using (Autograd.NoGrad())
                foreach (var (_, module) in copy.NamedModules().ToList())
                    if (module is IInferenceFoldable foldable) foldable.FoldForInference();
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>Eval batch norm as y = x * scale + shift per channel: scale = gamma / sqrt(var + eps), shift = beta - mean * scale.</summary>
    internal static (float[] Scale, float[] Shift) BatchNormAffine(BatchNorm2d bn)
    {
        int c = bn.NumFeatures;
        float[] mean = bn.RunningMean?.ToArray() ?? throw new ArgumentException("FoldForInference: a batch norm without running statistics normalises with batch statistics in eval mode and cannot be folded.");
        float[] var = bn.RunningVar!.ToArray();
        float[] gamma = bn.Weight?.ToArray() ?? Enumerable.Repeat(1f, c).ToArray();
        float[] beta = bn.Bias?.ToArray() ?? new float[c];
        var scale = new float[c];
        var shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            double s = gamma[i] / Math.Sqrt(var[i] + (double)bn.Eps);
            scale[i] = (float)s;
            shift[i] = (float)(beta[i] - mean[i] * s);
        }
        return (scale, shift);
    }

    /// <summary>
    /// A stride-1 transposed convolution's IOHW weight as the OIHW weight of the equivalent convolution:
    /// conv_transpose(x, w) with padding p = conv2d(x, w') with w'[o, c, i, j] = w[c, o, KH-1-i, KW-1-j] and
    /// padding d*(K-1) - p (returned).
    /// </summary>
    internal static (float[] Weight, int[] Shape, int Padding) TransposedAsConv(ConvTranspose2d deconv)
    {
        var w = deconv.Weight;
        int cin = w.Size(0), cout = w.Size(1), kh = w.Size(2), kw = w.Size(3);
        if (!BecomesConv(deconv))
            throw new ArgumentException($"FoldForInference: only stride-1 square transposed convolutions become convolutions (got stride {deconv.Stride}, kernel {kh}x{kw}).");
        int pad = deconv.Dilation * (kh - 1) - deconv.Padding;
        if (pad < 0)
            throw new ArgumentException($"FoldForInference: transposed convolution padding {deconv.Padding} exceeds its reach {deconv.Dilation * (kh - 1)}.");
        float[] src = w.ToArray();
        var dst = new float[src.Length];
        for (int c = 0; c < cin; c++)
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        dst[((o * cin + c) * kh + i) * kw + j] = src[((c * cout + o) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)];
        return (dst, [cout, cin, kh, kw], pad);
    }

    /// <summary>Whether <see cref="TransposedAsConv"/> applies: stride 1, no output padding, a square kernel.</summary>
    internal static bool BecomesConv(ConvTranspose2d deconv)
        => deconv.Stride == 1 && deconv.OutputPadding == 0 && deconv.Weight.Size(2) == deconv.Weight.Size(3);

    /// <summary>w[o, ...] *= scale[o] for an OIHW weight (dimension 0 is the output channel).</summary>
    internal static float[] ScaleOutputChannels(float[] w, int outC, float[] scale)
    {
        var r = (float[])w.Clone();
        int per = w.Length / outC;
        for (int o = 0; o < outC; o++)
            for (int i = 0; i < per; i++) r[o * per + i] *= scale[o];
        return r;
    }

    /// <summary>bias * scale + shift (bias null: shift).</summary>
    internal static float[] FoldBias(float[]? bias, float[] scale, float[] shift)
    {
        var r = new float[shift.Length];
        for (int o = 0; o < r.Length; o++) r[o] = (bias is null ? 0f : bias[o] * scale[o]) + shift[o];
        return r;
    }

    /// <summary>
    /// conv (OIHW, stride, padding, dilation) -> optional eval BN -> activation as one fused layer. The
    /// activation is read off <paramref name="activation"/> (PReLU, LeakyReLU, ReLU or null).
    /// </summary>
    internal static FusedConv2d FuseConv(Backend backend, float[] weight, int[] shape, float[]? bias, BatchNorm2d? bn, Layer? activation,
        int stride, int padding, int dilation, BatchNorm2d? postBn = null)
    {
        int outC = shape[0];
        if (bn is not null)
        {
            var (s, t) = BatchNormAffine(bn);
            weight = ScaleOutputChannels(weight, outC, s);
            bias = FoldBias(bias, s, t);
        }
        var (act, slope, prelu) = Activation(activation);
        Tensor? postScale = null, postShift = null;
        if (postBn is not null)
        {
            var (s, t) = BatchNormAffine(postBn);
            postScale = Tensor.FromArray(s, [outC], backend);
            postShift = Tensor.FromArray(t, [outC], backend);
        }
        return new FusedConv2d(Tensor.FromArray(weight, shape, backend), bias is null ? null : Tensor.FromArray(bias, [outC], backend),
            act, slope, prelu is null ? null : Tensor.FromArray(prelu.ToArray(), prelu.Shape, backend), postScale, postShift,
            stride, padding, dilation);
    }

    internal static (ConvActivation Act, float Slope, Tensor? Prelu) Activation(Layer? layer) => layer switch
    {
        null => (ConvActivation.None, 0f, null),
        PReLU p => (ConvActivation.PRelu, 0f, p.Weight),
        LeakyReLU l => (ConvActivation.LeakyRelu, l.NegativeSlope, null),
        ReLU => (ConvActivation.Relu, 0f, null),
        _ => throw new ArgumentException($"FoldForInference: activation {layer} has no fused form."),
    };
}
