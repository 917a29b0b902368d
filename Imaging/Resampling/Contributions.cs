namespace ILGpuSat.Imaging.Resampling;

/// <summary>
/// Per-output-sample source indices and weights along one dimension, built exactly as MATLAB's
/// <c>imresize</c> <c>contributions()</c>: output x (1-based) samples input position
/// u = x/scale + 0.5*(1 - 1/scale); when shrinking with antialiasing the kernel is stretched to
/// h(t) = scale*k(scale*t) with width/scale; P = ceil(width) + 2 taps from floor(u - width/2);
/// weights are normalised to sum 1; out-of-range indices are mirrored with the edge sample repeated
/// (MATLAB's aux = [1:n, n:-1:1]); taps whose weight is zero for every output are dropped.
/// </summary>
public sealed class Contributions
{
    public int InLength { get; }
    public int OutLength { get; }
    /// <summary>Taps per output sample.</summary>
    public int Taps { get; }
    /// <summary>0-based source index, OutLength*Taps, row-major by output sample.</summary>
    public int[] Index { get; }
    public float[] Weight { get; }
    /// <summary>Per output sample: the first source index when its taps are consecutive (Index = Start + k),
    /// else -1 (near a mirrored border). Lets the horizontal pass use a contiguous dot product.</summary>
    public int[] Start { get; }

    Contributions(int inLength, int outLength, int taps, int[] index, float[] weight)
    {
        InLength = inLength; OutLength = outLength; Taps = taps; Index = index; Weight = weight;
        Start = new int[outLength];
        for (int o = 0; o < outLength; o++)
        {
            int s0 = index[o * taps];
            bool run = true;
            for (int k = 1; k < taps && run; k++) run = index[o * taps + k] == s0 + k;
            Start[o] = run ? s0 : -1;
        }
    }

    /// <param name="scale">Output/input scale. MATLAB uses the requested scale when one is given and
    /// outLength/inLength when an output size is given; the two differ when the size is rounded.</param>
    public static Contributions Compute(int inLength, int outLength, double scale, ResampleKernel kernel, bool antialias)
    {
        if (inLength <= 0 || outLength <= 0)
            throw new ArgumentException($"Contributions: lengths must be positive, got {inLength} -> {outLength}");
        if (!(scale > 0) || double.IsInfinity(scale))
            throw new ArgumentException($"Contributions: scale must be positive and finite, got {scale}");

        bool stretch = scale < 1 && antialias;
        double width = Kernels.Width(kernel) / (stretch ? scale : 1.0);
        int p = (int)Math.Ceiling(width) + 2;
        var idx = new int[(long)outLength * p];
        var w = new double[(long)outLength * p];
        var used = new bool[p];
        for (int o = 0; o < outLength; o++)
        {
            double x = o + 1;
            double u = x / scale + 0.5 * (1 - 1 / scale);
            double left = Math.Floor(u - width / 2);
            double sum = 0;
            for (int k = 0; k < p; k++)
            {
                double ind = left + k; // 1-based
                double t = u - ind;
                double h = stretch ? scale * Kernels.Eval(kernel, scale * t) : Kernels.Eval(kernel, t);
                w[o * p + k] = h;
                sum += h;
                idx[o * p + k] = Mirror((long)ind, inLength);
            }
            if (sum == 0) throw new InvalidOperationException($"Contributions: zero weight sum at output {o}");
            for (int k = 0; k < p; k++)
            {
                w[o * p + k] /= sum;
                if (w[o * p + k] != 0) used[k] = true;
            }
        }

        int taps = used.Count(b => b);
        var keep = Enumerable.Range(0, p).Where(k => used[k]).ToArray();
        var index = new int[(long)outLength * taps];
        var weight = new float[(long)outLength * taps];
        for (int o = 0; o < outLength; o++)
            for (int j = 0; j < taps; j++)
            {
                index[o * taps + j] = idx[o * p + keep[j]];
                weight[o * taps + j] = (float)w[o * p + keep[j]];
            }
        return new Contributions(inLength, outLength, taps, index, weight);
    }

    /// <summary>MATLAB's symmetric extension: 1-based index i maps through aux = [1..n, n..1], period 2n; returns 0-based.</summary>
    static int Mirror(long ind, int n)
    {
        long period = 2L * n;
        long m = ((ind - 1) % period + period) % period; // 0..2n-1
        return (int)(m < n ? m : period - 1 - m);
    }
}
