using ILGpuSat.Kernels.Cpu;

namespace ILGpuSat.Kernels.Cuda;

/// <summary>One op compared between two backends.</summary>
/// <param name="MaxRelError">for each output, max |candidate - reference| divided by the output's largest reference magnitude; the worst output.</param>
public sealed record SelfTestRow(string Op, string Shape, double MaxRelError, bool Pass, string? Error = null);

/// <summary>The NCHW block an op case derives its sizes from.</summary>
public readonly record struct SelfTestShape(int N, int C, int H, int W)
{
    public int HW => H * W;
    public long Len => (long)N * C * H * W;
    public ChannelGeometry G => new(N, C, H * W);

    public override string ToString() => $"[{N},{C},{H},{W}]";
}

/// <summary>
/// Runs every op of the backend contract on a candidate backend and on a reference (the CPU backend)
/// with the same random inputs and compares all outputs. Errors are normwise per output: the largest
/// absolute difference over that output's largest reference magnitude, so that summation-order noise in
/// reductions is judged against the size of the result. An op passes at <see cref="Tolerance"/>.
/// </summary>
public static class KernelSelfTest
{
    public const double Tolerance = 1e-4;

    private delegate string? Case(Harness h, SelfTestShape s);

    /// <summary>Op cases by name. A case returns null after running, or the reason it does not apply to the shape.</summary>
    private static readonly (string Name, Case Run)[] Cases =
    [
        ("fill", (h, s) => { var y = h.Out(s.Len); h.Run((b, p) => b.Fill(p(y), 0.375f)); return null; }),
        ("fill_from_scalar", (h, s) => { var c = h.In(1); var y = h.Out(s.Len); h.Run((b, p) => b.FillFromScalar(p(c), -0.5f, p(y))); return null; }),
        ("copy", (h, s) => { var x = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.Copy(p(x), p(y))); return null; }),
        ("add", (h, s) => { var a = h.In(s.Len); var c = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.Add(p(a), p(c), p(y))); return null; }),
        ("multiply", (h, s) => { var a = h.In(s.Len); var c = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.Multiply(p(a), p(c), p(y))); return null; }),
        ("scale", (h, s) => { var x = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.Scale(p(x), -1.75f, p(y))); return null; }),
        ("sqrt", (h, s) => { var x = h.In(s.Len, Positive); var y = h.Out(s.Len); h.Run((b, p) => b.Sqrt(p(x), p(y))); return null; }),
        ("axpy", (h, s) => { var x = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.Axpy(0.625f, p(x), p(y))); return null; }),
        ("relu", (h, s) => { var x = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.Relu(p(x), p(y))); return null; }),
        ("relu_backward", (h, s) => { var x = h.In(s.Len); var dy = h.In(s.Len); var dx = h.Out(s.Len); h.Run((b, p) => b.ReluBackward(p(x), p(dy), p(dx))); return null; }),
        ("leaky_relu", (h, s) => { var x = h.In(s.Len); var y = h.Out(s.Len); h.Run((b, p) => b.LeakyRelu(p(x), 0.2f, p(y))); return null; }),
        ("leaky_relu_backward", (h, s) => { var x = h.In(s.Len); var dy = h.In(s.Len); var dx = h.Out(s.Len); h.Run((b, p) => b.LeakyReluBackward(p(x), p(dy), 0.2f, p(dx))); return null; }),
        ("pointwise_exp", (h, s) => Pointwise(h, s, PointwiseFunction.Exp)),
        ("pointwise_backward_exp", (h, s) => PointwiseBackward(h, s, PointwiseFunction.Exp)),
        ("pointwise_log", (h, s) => Pointwise(h, s, PointwiseFunction.Log)),
        ("pointwise_backward_log", (h, s) => PointwiseBackward(h, s, PointwiseFunction.Log)),
        ("pointwise_sigmoid", (h, s) => Pointwise(h, s, PointwiseFunction.Sigmoid)),
        ("pointwise_backward_sigmoid", (h, s) => PointwiseBackward(h, s, PointwiseFunction.Sigmoid)),
        ("pointwise_softplus", (h, s) => Pointwise(h, s, PointwiseFunction.Softplus)),
        ("pointwise_backward_softplus", (h, s) => PointwiseBackward(h, s, PointwiseFunction.Softplus)),
        ("prelu", (h, s) => PRelu(h, s, shared: false)),
        ("prelu_shared", (h, s) => PRelu(h, s, shared: true)),
        ("prelu_backward", (h, s) => PReluBackward(h, s, shared: false)),
        ("prelu_backward_shared", (h, s) => PReluBackward(h, s, shared: true)),
        ("add_channel_bias", (h, s) => { var x = h.In(s.Len); var bias = h.In(s.C); var y = h.Out(s.Len); h.Run((b, p) => b.AddChannelBias(p(x), p(bias), s.G, p(y))); return null; }),
        ("channel_sum", (h, s) => { var x = h.In(s.Len); var sum = h.Out(s.C); h.Run((b, p) => b.ChannelSum(p(x), s.G, p(sum))); return null; }),
        ("batch_norm_train", (h, s) => BatchNormTrain(h, s, running: true)),
        ("batch_norm_train_no_running", (h, s) => BatchNormTrain(h, s, running: false)),
        ("batch_norm_train_backward", (h, s) =>
        {
            var x = h.In(s.Len); var dy = h.In(s.Len); var gamma = h.In(s.C);
            var mean = h.In(s.C); var invStd = h.In(s.C, Positive);
            var dx = h.Out(s.Len); var dg = h.Out(s.C); var db = h.Out(s.C);
            h.Run((b, p) => b.BatchNormTrainBackward(p(x), p(dy), p(gamma), p(mean), p(invStd), s.G, p(dx), p(dg), p(db)));
            return null;
        }),
        ("batch_norm_eval", (h, s) =>
        {
            var x = h.In(s.Len); var gamma = h.In(s.C); var beta = h.In(s.C); var rm = h.In(s.C); var rv = h.In(s.C, Positive); var y = h.Out(s.Len);
            h.Run((b, p) => b.BatchNormEval(p(x), p(gamma), p(beta), p(rm), p(rv), s.G, 1e-5f, p(y)));
            return null;
        }),
        ("batch_norm_eval_backward", (h, s) =>
        {
            var x = h.In(s.Len); var dy = h.In(s.Len); var gamma = h.In(s.C); var rm = h.In(s.C); var rv = h.In(s.C, Positive);
            var dx = h.Out(s.Len); var dg = h.Out(s.C); var db = h.Out(s.C);
            h.Run((b, p) => b.BatchNormEvalBackward(p(x), p(dy), p(gamma), p(rm), p(rv), s.G, 1e-5f, p(dx), p(dg), p(db)));
            return null;
        }),
        ("conv2d", (h, s) => Conv(h, s, "forward", Conv3x3(s))),
        ("conv2d_backward_data", (h, s) => Conv(h, s, "data", Conv3x3(s))),
        ("conv2d_backward_weight", (h, s) => Conv(h, s, "weight", Conv3x3(s))),
        ("conv2d_stride2", (h, s) => Conv(h, s, "forward", Conv3x3(s, stride: 2))),
        ("conv2d_fused_prelu", (h, s) => FusedConv(h, Conv3x3(s), ConvActivation.PRelu, postAffine: false)),
        ("conv2d_fused_relu_affine", (h, s) => FusedConv(h, Conv3x3(s, stride: 2), ConvActivation.Relu, postAffine: true)),
        ("conv2d_backward_weight_stride2", (h, s) => Conv(h, s, "weight", Conv3x3(s, stride: 2))),
        ("conv_transpose2d_4x4_stride2", (h, s) => Conv(h, s, "data", Transpose4x4(s))),
        ("conv_transpose2d_4x4_stride2_weight", (h, s) => Conv(h, s, "weight", Transpose4x4(s))),
        ("copy_channels", (h, s) =>
        {
            if (s.C < 2) return "needs C >= 2";
            int dstC = s.C + 2, count = s.C - 1;
            var src = h.In(s.Len); var dst = h.Out((long)s.N * dstC * s.HW);
            h.Run((b, p) => b.CopyChannels(p(src), s.C, 1, p(dst), dstC, 2, count, s.N, s.HW));
            return null;
        }),
        ("upsample_bilinear_x4", (h, s) => Resize(h, s, bilinear: true, backward: false, 4 * s.H, 4 * s.W)),
        ("upsample_bilinear_odd", (h, s) => Resize(h, s, bilinear: true, backward: false, 2 * s.H + 1, Math.Max(1, 3 * s.W - 2))),
        ("upsample_bilinear_backward_x4", (h, s) => Resize(h, s, bilinear: true, backward: true, 4 * s.H, 4 * s.W)),
        ("upsample_bilinear_backward_odd", (h, s) => Resize(h, s, bilinear: true, backward: true, 2 * s.H + 1, Math.Max(1, 3 * s.W - 2))),
        ("upsample_nearest_x4", (h, s) => Resize(h, s, bilinear: false, backward: false, 4 * s.H, 4 * s.W)),
        ("upsample_nearest_odd", (h, s) => Resize(h, s, bilinear: false, backward: false, 2 * s.H + 1, Math.Max(1, 3 * s.W - 2))),
        ("upsample_nearest_backward_x4", (h, s) => Resize(h, s, bilinear: false, backward: true, 4 * s.H, 4 * s.W)),
        ("upsample_nearest_backward_odd", (h, s) => Resize(h, s, bilinear: false, backward: true, 2 * s.H + 1, Math.Max(1, 3 * s.W - 2))),
        ("max_pool2x2", (h, s) =>
        {
            if (s.H < 2 || s.W < 2) return "needs H, W >= 2";
            var x = h.In(s.Len); var y = h.Out((long)s.N * s.C * (s.H / 2) * (s.W / 2));
            h.Run((b, p) => b.MaxPool2x2(p(x), s.N * s.C, s.H, s.W, p(y)));
            return null;
        }),
        ("max_pool2x2_backward", (h, s) =>
        {
            if (s.H < 2 || s.W < 2) return "needs H, W >= 2";
            var x = h.In(s.Len); var dy = h.In((long)s.N * s.C * (s.H / 2) * (s.W / 2)); var dx = h.Out(s.Len);
            h.Run((b, p) => b.MaxPool2x2Backward(p(x), p(dy), s.N * s.C, s.H, s.W, p(dx)));
            return null;
        }),
        ("sum", (h, s) => { var x = h.In(s.Len); var r = h.Out(1); h.Run((b, p) => b.Sum(p(x), p(r))); return null; }),
        ("sum_of_squares", (h, s) => { var x = h.In(s.Len); var r = h.Out(1); h.Run((b, p) => b.SumOfSquares(p(x), p(r))); return null; }),
        ("softmax", (h, s) => { var x = h.In(s.Len, Logits); var y = h.Out(s.Len); h.Run((b, p) => b.Softmax(p(x), s.G, p(y))); return null; }),
        ("softmax_backward", (h, s) => { var y = h.In(s.Len, Positive); var dy = h.In(s.Len); var dx = h.Out(s.Len); h.Run((b, p) => b.SoftmaxBackward(p(y), p(dy), s.G, p(dx))); return null; }),
        ("log_softmax", (h, s) => { var x = h.In(s.Len, Logits); var y = h.Out(s.Len); h.Run((b, p) => b.LogSoftmax(p(x), s.G, p(y))); return null; }),
        ("log_softmax_backward", (h, s) => { var y = h.In(s.Len, r => -Positive(r)); var dy = h.In(s.Len); var dx = h.Out(s.Len); h.Run((b, p) => b.LogSoftmaxBackward(p(y), p(dy), s.G, p(dx))); return null; }),
        ("mse_loss", (h, s) => { var a = h.In(s.Len); var t = h.In(s.Len); var l = h.Out(1); h.Run((b, p) => b.MseLoss(p(a), p(t), p(l))); return null; }),
        ("mse_loss_backward", (h, s) => { var a = h.In(s.Len); var t = h.In(s.Len); var g = h.In(1); var d = h.Out(s.Len); h.Run((b, p) => b.MseLossBackward(p(a), p(t), p(g), p(d))); return null; }),
        ("softmax_cross_entropy", (h, s) => CrossEntropy(h, s, weighted: false, backward: false)),
        ("softmax_cross_entropy_weighted", (h, s) => CrossEntropy(h, s, weighted: true, backward: false)),
        ("softmax_cross_entropy_backward", (h, s) => CrossEntropy(h, s, weighted: false, backward: true)),
        ("softmax_cross_entropy_backward_weighted", (h, s) => CrossEntropy(h, s, weighted: true, backward: true)),
        ("sgd_step", (h, s) => Sgd(h, s, momentum: 0f, nesterov: false, first: false)),
        ("sgd_step_momentum_first", (h, s) => Sgd(h, s, momentum: 0.9f, nesterov: false, first: true)),
        ("sgd_step_momentum", (h, s) => Sgd(h, s, momentum: 0.9f, nesterov: false, first: false)),
        ("sgd_step_nesterov", (h, s) => Sgd(h, s, momentum: 0.8f, nesterov: true, first: false)),
        ("adam_step", (h, s) => Adam(h, s, decoupled: false)),
        ("adamw_step", (h, s) => Adam(h, s, decoupled: true)),
        ("clip_by_global_norm", (h, s) =>
        {
            var g = h.In(s.Len); var ss = h.In(1, _ => 25f);
            h.Run((b, p) => b.ClipByGlobalNorm(p(g), p(ss), 1.5f), inPlace: g);
            return null;
        }),
    ];

    /// <summary>Every op case name, in contract order.</summary>
    public static IReadOnlyList<string> OpNames { get; } = Cases.Select(c => c.Name).ToArray();

    /// <summary>Shapes covering batch 1 and 3, 1/3/313 channels, odd sizes, tiny spatial extents and a single element.</summary>
    public static IReadOnlyList<SelfTestShape> SmallShapes { get; } =
    [
        new(1, 1, 7, 9), new(3, 3, 7, 9), new(2, 313, 1, 3), new(3, 2, 2, 2), new(1, 3, 5, 1), new(1, 1, 1, 1),
    ];

    /// <summary>Whether a case applies to a shape (pooling and 3x3 convolutions need 2x2 planes, and so on).</summary>
    public static bool Applies(string op, SelfTestShape s) => op switch
    {
        _ when op.StartsWith("max_pool", StringComparison.Ordinal) || op.StartsWith("conv2d", StringComparison.Ordinal) => s.H >= 2 && s.W >= 2,
        "copy_channels" => s.C >= 2,
        _ when op.StartsWith("batch_norm_train", StringComparison.Ordinal) && !op.EndsWith("backward", StringComparison.Ordinal) => (long)s.N * s.HW >= 2,
        _ => true,
    };

    /// <summary>Runs every case (or those <paramref name="include"/> accepts) on every shape.</summary>
    /// <remarks><paramref name="progress"/> is called once per (shape, case) visited, included or not.
    /// After a device fault the run stops, with a last row saying so.</remarks>
    public static IReadOnlyList<SelfTestRow> Run(Backend candidate, Backend reference, IEnumerable<SelfTestShape> shapes, int seed = 1234,
        Func<string, bool>? include = null, Action? progress = null)
    {
        var rows = new List<SelfTestRow>();
        foreach (var shape in shapes)
            foreach (var (name, _) in Cases)
            {
                progress?.Invoke();
                if (include is null || include(name))
                {
                    var row = RunOp(name, candidate, reference, shape, seed);
                    if (row is not null) rows.Add(row);
                    // A device fault is sticky: every later row would fail too, under the wrong op. Stop here.
                    if (candidate is CudaBackend { Fault: { } fault })
                    {
                        if (row is null || row.Error is null || !row.Error.Contains(fault, StringComparison.Ordinal))
                            rows.Add(new SelfTestRow(name, shape.ToString(), double.NaN, false, $"device fault: {fault}"));
                        rows.Add(new SelfTestRow("(stopped)", "", double.NaN, false, $"the self-test stopped at the first device fault: {fault}"));
                        return rows;
                    }
                }
            }
        return rows;
    }

    /// <summary>Runs every case on <paramref name="candidate"/> against a fresh CPU backend.</summary>
    public static IReadOnlyList<SelfTestRow> RunAgainstCpu(Backend candidate, IEnumerable<SelfTestShape> shapes, int seed = 1234,
        Func<string, bool>? include = null)
    {
        using var cpu = new CpuBackend();
        return Run(candidate, cpu, shapes, seed, include);
    }

    /// <summary>A fixed-width table of rows (op, shape, error, pass).</summary>
    public static string Table(IEnumerable<SelfTestRow> rows)
    {
        var list = rows.ToList();
        int w = Math.Max(2, list.Count == 0 ? 0 : list.Max(r => r.Op.Length));
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{"op".PadRight(w)}  {"shape",-14}  max rel err  pass");
        foreach (var r in list)
            sb.AppendLine($"{r.Op.PadRight(w)}  {r.Shape,-14}  {r.MaxRelError,11:E2}  {(r.Pass ? "yes" : "NO")}{(r.Error is null ? "" : "  " + r.Error)}");
        return sb.ToString();
    }

    /// <summary>One case on one shape; null when the case does not apply to the shape.</summary>
    public static SelfTestRow? RunOp(string op, Backend candidate, Backend reference, SelfTestShape shape, int seed = 1234)
    {
        var run = Cases.FirstOrDefault(c => c.Name == op).Run ?? throw new ArgumentException($"selftest: unknown op '{op}'.");
        if (!Applies(op, shape)) return null;
        using var h = new Harness(candidate, reference, new Random(StableSeed(seed, op, shape)));
        try
        {
            string? skip = run(h, shape);
            if (skip is not null) return null;
            double err = h.Compare();
            return new SelfTestRow(op, shape.ToString(), err, err <= Tolerance);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new SelfTestRow(op, shape.ToString(), double.NaN, false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>A seed from the op and shape that is the same in every process (HashCode is randomised per process).</summary>
    private static int StableSeed(int seed, string op, SelfTestShape s)
    {
        uint h = 2166136261u ^ (uint)seed;
        foreach (char ch in op) h = (h ^ ch) * 16777619u;
        foreach (int v in new[] { s.N, s.C, s.H, s.W }) h = (h ^ (uint)v) * 16777619u;
        return (int)(h & 0x7fffffff);
    }

    // ---- case helpers ---------------------------------------------------------------------------

    private static float Positive(Random r) => 0.05f + (float)r.NextDouble();

    // log reads positive inputs; the others see [-8, 8], where exp, sigmoid and softplus use their whole shape.
    private static Func<Random, float> PointwiseInput(PointwiseFunction f)
        => f == PointwiseFunction.Log ? Positive : r => (float)(16 * r.NextDouble() - 8);

    private static string? Pointwise(Harness h, SelfTestShape s, PointwiseFunction f)
    {
        var x = h.In(s.Len, PointwiseInput(f));
        var y = h.Out(s.Len);
        h.Run((b, p) => b.Pointwise(f, p(x), p(y)));
        return null;
    }

    // saved is y for exp (positive) and sigmoid (in (0, 1)), x otherwise.
    private static string? PointwiseBackward(Harness h, SelfTestShape s, PointwiseFunction f)
    {
        var saved = h.In(s.Len, f switch
        {
            PointwiseFunction.Exp => Positive,
            PointwiseFunction.Sigmoid => r => (float)r.NextDouble(),
            _ => PointwiseInput(f),
        });
        var dy = h.In(s.Len);
        var dx = h.Out(s.Len);
        h.Run((b, p) => b.PointwiseBackward(f, p(saved), p(dy), p(dx)));
        return null;
    }

    private static float Logits(Random r) => 4f * (float)(r.NextDouble() * 2 - 1);

    private static string? PRelu(Harness h, SelfTestShape s, bool shared)
    {
        var x = h.In(s.Len); var w = h.In(shared ? 1 : s.C); var y = h.Out(s.Len);
        h.Run((b, p) => b.PRelu(p(x), p(w), s.G, p(y)));
        return null;
    }

    private static string? PReluBackward(Harness h, SelfTestShape s, bool shared)
    {
        var x = h.In(s.Len); var w = h.In(shared ? 1 : s.C); var dy = h.In(s.Len); var dx = h.Out(s.Len); var dw = h.Out(shared ? 1 : s.C);
        h.Run((b, p) => b.PReluBackward(p(x), p(w), p(dy), s.G, p(dx), p(dw)));
        return null;
    }

    private static string? BatchNormTrain(Harness h, SelfTestShape s, bool running)
    {
        if (s.N * s.H * s.W < 2) return "needs more than one value per channel";
        // An offset mean checks that the variance does not lose precision to cancellation.
        var x = h.In(s.Len, r => 3f + (float)(r.NextDouble() * 2 - 1));
        var gamma = h.In(s.C); var beta = h.In(s.C); var y = h.Out(s.Len); var mean = h.Out(s.C); var invStd = h.Out(s.C);
        var rm = running ? h.InOut(s.C) : null;
        var rv = running ? h.InOut(s.C, Positive) : null;
        h.Run((b, p) => b.BatchNormTrain(p(x), p(gamma), p(beta), s.G, 1e-5f, p(y), p(mean), p(invStd), rm is null ? null : p(rm), rv is null ? null : p(rv), 0.1f));
        return null;
    }

    private static Conv2dGeometry Conv3x3(SelfTestShape s, int stride = 1) =>
        new(s.N, s.C, s.H, s.W, s.C % 7 + 2, 3, 3, stride, stride, 1, 1);

    /// <summary>ConvTranspose2d(C -> C%5+1, 4x4, stride 2, padding 1) (the decoder's 2x upsampling) as the adjoint convolution.</summary>
    private static Conv2dGeometry Transpose4x4(SelfTestShape s) =>
        Conv2dGeometry.ForTranspose(s.N, s.C, s.H, s.W, s.C % 5 + 1, 4, 4, 2, 2, 1, 1);

    /// <summary>pass "forward": conv2d; "data": its input gradient (= the transposed convolution); "weight": its weight and bias gradients.</summary>
    private static string? Conv(Harness h, SelfTestShape s, string pass, Conv2dGeometry g)
    {
        if (pass == "forward")
        {
            var x = h.In(g.InputLength); var w = h.In(g.WeightLength); var bias = h.In(g.OutC); var y = h.Out(g.OutputLength);
            h.Run((b, p) => b.Conv2d(p(x), p(w), p(bias), g, p(y)));
        }
        else if (pass == "data")
        {
            var dy = h.In(g.OutputLength); var w = h.In(g.WeightLength); var dx = h.Out(g.InputLength);
            h.Run((b, p) => b.Conv2dBackwardData(p(dy), p(w), g, p(dx)));
        }
        else
        {
            var x = h.In(g.InputLength); var dy = h.In(g.OutputLength); var dw = h.Out(g.WeightLength); var db = h.Out(g.OutC);
            h.Run((b, p) => b.Conv2dBackwardWeight(p(x), p(dy), g, p(dw), p(db)));
        }
        return null;
    }

    /// <summary>The inference convolution: bias, per-channel PReLU or ReLU followed by a post-affine (Zhang's conv, ReLU, BN).</summary>
    private static string? FusedConv(Harness h, Conv2dGeometry g, ConvActivation act, bool postAffine)
    {
        var x = h.In(g.InputLength); var w = h.In(g.WeightLength); var bias = h.In(g.OutC); var y = h.Out(g.OutputLength);
        var slope = h.In(g.OutC); var scale = h.In(g.OutC); var shift = h.In(g.OutC);
        h.Run((b, p) => b.Conv2dFused(p(x), p(w), g, new ConvEpilogue(p(bias), act, 0f, act == ConvActivation.PRelu ? p(slope) : null,
            postAffine ? p(scale) : null, postAffine ? p(shift) : null), p(y)));
        return null;
    }

    private static string? Resize(Harness h, SelfTestShape s, bool bilinear, bool backward, int outH, int outW)
    {
        int planes = s.N * s.C;
        long small = (long)planes * s.H * s.W, large = (long)planes * outH * outW;
        if (!backward)
        {
            var x = h.In(small); var y = h.Out(large);
            h.Run((b, p) =>
            {
                if (bilinear) b.UpsampleBilinear(p(x), planes, s.H, s.W, outH, outW, p(y));
                else b.UpsampleNearest(p(x), planes, s.H, s.W, outH, outW, p(y));
            });
        }
        else
        {
            var dy = h.In(large); var dx = h.Out(small);
            h.Run((b, p) =>
            {
                if (bilinear) b.UpsampleBilinearBackward(p(dy), planes, s.H, s.W, outH, outW, p(dx));
                else b.UpsampleNearestBackward(p(dy), planes, s.H, s.W, outH, outW, p(dx));
            });
        }
        return null;
    }

    private static string? CrossEntropy(Harness h, SelfTestShape s, bool weighted, bool backward)
    {
        var x = h.In(s.Len, Logits); var z = h.In(s.Len, Positive);
        var w = weighted ? h.In((long)s.N * s.HW, Positive) : null;
        if (!backward)
        {
            var loss = h.Out(1);
            h.Run((b, p) => b.SoftmaxCrossEntropy(p(x), p(z), w is null ? null : p(w), s.G, p(loss)));
        }
        else
        {
            var dl = h.In(1); var dx = h.Out(s.Len);
            h.Run((b, p) => b.SoftmaxCrossEntropyBackward(p(x), p(z), w is null ? null : p(w), s.G, p(dl), p(dx)));
        }
        return null;
    }

    private static string? Sgd(Harness h, SelfTestShape s, float momentum, bool nesterov, bool first)
    {
        var param = h.InOut(s.Len); var grad = h.In(s.Len);
        var buf = momentum != 0 ? h.InOut(s.Len) : null;
        h.Run((b, p) => b.SgdStep(p(param), p(grad), buf is null ? null : p(buf), 0.05f, momentum, 0f, 1e-2f, nesterov, first));
        return null;
    }

    private static string? Adam(Harness h, SelfTestShape s, bool decoupled)
    {
        var param = h.InOut(s.Len); var grad = h.In(s.Len); var m = h.InOut(s.Len); var v = h.InOut(s.Len, Positive);
        h.Run((b, p) => b.AdamStep(p(param), p(grad), p(m), p(v), 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, decoupled, 3));
        return null;
    }

    /// <summary>Buffers that exist on both backends with the same contents.</summary>
    private sealed class Pair(DeviceBuffer candidate, DeviceBuffer reference)
    {
        public DeviceBuffer Candidate { get; } = candidate;
        public DeviceBuffer Reference { get; } = reference;
    }

    /// <summary>Creates paired buffers, runs an op on both backends and compares the outputs.</summary>
    private sealed class Harness(Backend candidate, Backend reference, Random rng) : IDisposable
    {
        private readonly List<Pair> _all = new();
        private readonly List<Pair> _outputs = new();

        private static float Normal(Random r) => (float)(r.NextDouble() * 2 - 1);

        public Pair In(long length, Func<Random, float>? gen = null) => Make(length, gen ?? Normal, output: false);

        /// <summary>An input that the op also updates (optimizer state, running statistics): compared afterwards.</summary>
        public Pair InOut(long length, Func<Random, float>? gen = null) => Make(length, gen ?? Normal, output: true);

        /// <summary>An output, pre-filled with the same noise on both sides so that an unwritten element shows up.</summary>
        public Pair Out(long length) => Make(length, Normal, output: true);

        private Pair Make(long length, Func<Random, float> gen, bool output)
        {
            var data = new float[length];
            for (long i = 0; i < length; i++) data[i] = gen(rng);
            var a = candidate.Allocate(length);
            var b = reference.Allocate(length);
            var pair = new Pair(a, b);
            _all.Add(pair);
            if (output) _outputs.Add(pair);
            candidate.Upload(data, a);
            reference.Upload(data, b);
            return pair;
        }

        public void Run(Action<Backend, Func<Pair, DeviceBuffer>> op, Pair? inPlace = null)
        {
            if (inPlace is not null && !_outputs.Contains(inPlace)) _outputs.Add(inPlace);
            op(reference, p => p.Reference);
            op(candidate, p => p.Candidate);
            candidate.Synchronize();
        }

        /// <summary>Worst over the outputs of each output's max |a - b| / max |b| (per output, so a small state tensor is not judged against a large one).</summary>
        public double Compare()
        {
            double worst = 0;
            foreach (var pair in _outputs)
            {
                var a = new float[pair.Candidate.Length];
                var b = new float[pair.Reference.Length];
                candidate.Download(pair.Candidate, a);
                reference.Download(pair.Reference, b);
                double maxDiff = 0, maxRef = 0;
                for (int i = 0; i < a.Length; i++)
                {
                    if (!float.IsFinite(a[i]) || !float.IsFinite(b[i]))
                    {
                        if (a[i].Equals(b[i])) continue;
                        return double.PositiveInfinity;
                    }
                    maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
                    maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
                }
                worst = Math.Max(worst, maxRef == 0 ? maxDiff : maxDiff / maxRef);
            }
            return worst;
        }

        public void Dispose()
        {
            foreach (var p in _all)
            {
                p.Candidate.Dispose();
                p.Reference.Dispose();
            }
        }
    }
}
