namespace ILGpuSat.Kernels;

/// <summary>An NCHW block seen per channel: N images, C channels, HW pixels per channel plane.</summary>
public readonly record struct ChannelGeometry(int N, int C, int HW)
{
    public long Length => (long)N * C * HW;

    /// <summary>Pixels that share one channel's statistics (batch norm) or one softmax (per pixel count).</summary>
    public long PerChannel => (long)N * HW;

    public void Validate(string op)
    {
        if (N <= 0 || C <= 0 || HW <= 0)
            throw new ArgumentException($"{op}: channel geometry must be positive, got N={N} C={C} HW={HW}.");
    }
}

/// <summary>
/// Geometry of a 2-D convolution in PyTorch's sense: input [N, InC, InH, InW], weight OIHW
/// [OutC, InC, KH, KW], output [N, OutC, OutH, OutW]. Transposed convolutions are expressed as the
/// adjoint of one of these (see <see cref="ForTranspose"/>).
/// </summary>
public readonly record struct Conv2dGeometry(
    int N, int InC, int InH, int InW, int OutC, int KH, int KW,
    int StrideH = 1, int StrideW = 1, int PadH = 0, int PadW = 0, int DilH = 1, int DilW = 1)
{
    private readonly int? _outH, _outW;

    /// <summary>
    /// Output height: the convolution formula, unless set explicitly. <see cref="ForTranspose"/> sets it to
    /// the transposed convolution's input height, which can be smaller than the formula when
    /// output_padding adds rows that no input pixel reaches (stride 1, output_padding &lt; dilation).
    /// </summary>
    public int OutH
    {
        get => _outH ?? (InH + 2 * PadH - DilH * (KH - 1) - 1) / StrideH + 1;
        init => _outH = value;
    }

    /// <summary>Output width; see <see cref="OutH"/>.</summary>
    public int OutW
    {
        get => _outW ?? (InW + 2 * PadW - DilW * (KW - 1) - 1) / StrideW + 1;
        init => _outW = value;
    }

    public long InputLength => (long)N * InC * InH * InW;
    public long OutputLength => (long)N * OutC * OutH * OutW;
    public long WeightLength => (long)OutC * InC * KH * KW;

    /// <summary>Multiply-adds times two for one forward pass (the same for each of the two backward passes).</summary>
    public double Flops => 2.0 * N * OutC * OutH * OutW * InC * KH * KW;

    public void Validate(string op)
    {
        if (N <= 0 || InC <= 0 || InH <= 0 || InW <= 0 || OutC <= 0 || KH <= 0 || KW <= 0)
            throw new ArgumentException($"{op}: sizes must be positive, got input [{N},{InC},{InH},{InW}], weight [{OutC},{InC},{KH},{KW}].");
        if (StrideH <= 0 || StrideW <= 0 || DilH <= 0 || DilW <= 0 || PadH < 0 || PadW < 0)
            throw new ArgumentException($"{op}: stride and dilation must be positive and padding non-negative, got stride ({StrideH},{StrideW}) padding ({PadH},{PadW}) dilation ({DilH},{DilW}).");
        if (InH + 2 * PadH < DilH * (KH - 1) + 1 || InW + 2 * PadW < DilW * (KW - 1) + 1)
            throw new ArgumentException($"{op}: kernel {KH}x{KW} (dilation {DilH},{DilW}) is larger than the padded input {InH + 2 * PadH}x{InW + 2 * PadW}.");
        int fullH = (InH + 2 * PadH - DilH * (KH - 1) - 1) / StrideH + 1, fullW = (InW + 2 * PadW - DilW * (KW - 1) - 1) / StrideW + 1;
        if (OutH <= 0 || OutW <= 0 || OutH > fullH || OutW > fullW)
            throw new ArgumentException($"{op}: output {OutH}x{OutW} must be positive and at most the {fullH}x{fullW} the input allows.");
    }

    /// <summary>
    /// The convolution whose data gradient is the transposed convolution of an input
    /// [n, inC, inH, inW] with an IOHW weight [inC, outC, kh, kw]. The returned geometry's input is
    /// the transposed convolution's output and its output is the transposed convolution's input, so
    /// conv_transpose2d(x, w) = Conv2dBackwardData(dy: x, w, geometry).
    /// </summary>
    public static Conv2dGeometry ForTranspose(int n, int inC, int inH, int inW, int outC, int kh, int kw,
        int strideH = 1, int strideW = 1, int padH = 0, int padW = 0,
        int outPadH = 0, int outPadW = 0, int dilH = 1, int dilW = 1)
    {
        if (outPadH < 0 || outPadW < 0 || (outPadH >= strideH && outPadH >= dilH) || (outPadW >= strideW && outPadW >= dilW))
            throw new ArgumentException($"conv_transpose2d: output_padding ({outPadH},{outPadW}) must be smaller than stride ({strideH},{strideW}) or dilation ({dilH},{dilW}).");
        int outH = (inH - 1) * strideH - 2 * padH + dilH * (kh - 1) + outPadH + 1;
        int outW = (inW - 1) * strideW - 2 * padW + dilW * (kw - 1) + outPadW + 1;
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"conv_transpose2d: input {inH}x{inW} with kernel {kh}x{kw}, stride ({strideH},{strideW}), padding ({padH},{padW}) gives an empty output {outH}x{outW}.");
        var g = new Conv2dGeometry(n, outC, outH, outW, inC, kh, kw, strideH, strideW, padH, padW, dilH, dilW)
        {
            OutH = inH,
            OutW = inW,
        };
        g.Validate("conv_transpose2d");
        return g;
    }
}
