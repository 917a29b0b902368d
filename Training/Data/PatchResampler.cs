using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Training.Data;

/// <summary>
/// Resizes a whole plane: (plane, width, height, outWidth, outHeight) -&gt; new plane. Must be linear
/// and separable (MATLAB-style imresize bicubic is both, without clamping).
/// </summary>
public delegate float[] PlaneResize(float[] plane, int width, int height, int outWidth, int outHeight);

/// <summary>
/// Fixed-size patch resampling (size x size &lt;-&gt; size/scale x size/scale) as two sparse separable
/// passes. The tap weights are read off a general <see cref="PlaneResize"/> by resizing unit impulses
/// once, so the patches get exactly that resampler's kernel (e.g. MATLAB bicubic with antialiasing on
/// the way down) at a fraction of its per-call cost. The constructor checks on a random patch that the
/// taps reproduce the resize; a clamping or non-separable resize is rejected.
/// Thread-safe (scratch is per call).
/// </summary>
public sealed class PatchResampler
{
    private readonly Taps _down, _up;

    public PatchResampler(int size, int scale, PlaneResize resize)
    {
        ArgumentNullException.ThrowIfNull(resize);
        if (scale < 1 || size < scale || size % scale != 0)
            throw new ArgumentException($"PatchResampler: size {size} must be a positive multiple of scale {scale}.");
        Size = size;
        Scale = scale;
        LowSize = size / scale;
        _down = Taps.FromImpulses(resize, size, LowSize);
        _up = Taps.FromImpulses(resize, LowSize, size);
        Verify(resize);
    }

    /// <summary>MATLAB imresize bicubic (a = -0.5, antialiased when shrinking) from Training/Resampling.</summary>
    public static float[] MatlabBicubic(float[] plane, int width, int height, int outWidth, int outHeight) =>
        Resampler.Resize(plane, width, height, outWidth, outHeight, ResampleKernel.Bicubic, antialias: true);

    public int Size { get; }

    public int LowSize { get; }

    public int Scale { get; }

    /// <summary>size x size -&gt; size/scale x size/scale.</summary>
    public void Down(ReadOnlySpan<float> src, Span<float> dst) => Resize(src, dst, Size, LowSize, _down);

    /// <summary>size/scale x size/scale -&gt; size x size.</summary>
    public void Up(ReadOnlySpan<float> src, Span<float> dst) => Resize(src, dst, LowSize, Size, _up);

    private static void Resize(ReadOnlySpan<float> src, Span<float> dst, int n, int m, Taps taps)
    {
        if (src.Length != n * n || dst.Length != m * m)
            throw new ArgumentException($"PatchResampler: expected {n}x{n} -> {m}x{m}, got {src.Length} -> {dst.Length} values.");
        // Horizontal pass into [n rows, m cols], then vertical into [m, m].
        Span<float> mid = n * m <= 16384 ? stackalloc float[n * m] : new float[n * m];
        for (int r = 0; r < n; r++)
        {
            var row = src.Slice(r * n, n);
            for (int o = 0; o < m; o++) mid[r * m + o] = taps.Dot(o, row, 1);
        }
        for (int o = 0; o < m; o++)
        {
            var outRow = dst.Slice(o * m, m);
            outRow.Clear();
            int start = taps.Start[o];
            var w = taps.Weights[o];
            for (int t = 0; t < w.Length; t++)
            {
                float wt = w[t];
                var inRow = mid.Slice((start + t) * m, m);
                for (int c = 0; c < m; c++) outRow[c] += wt * inRow[c];
            }
        }
    }

    private void Verify(PlaneResize resize)
    {
        var rng = new Random(1);
        var patch = new float[Size * Size];
        for (int i = 0; i < patch.Length; i++) patch[i] = (float)rng.NextDouble();
        var low = new float[LowSize * LowSize];
        var up = new float[Size * Size];
        Down(patch, low);
        Up(low, up);
        Compare(resize(patch, Size, Size, LowSize, LowSize), low, "down");
        Compare(resize(low, LowSize, LowSize, Size, Size), up, "up");
    }

    private static void Compare(float[] expected, float[] got, string what)
    {
        if (expected.Length != got.Length)
            throw new ArgumentException($"PatchResampler: the resize returned {expected.Length} values for the {what} check, expected {got.Length}.");
        for (int i = 0; i < got.Length; i++)
            if (Math.Abs(expected[i] - got[i]) > 1e-4f)
                throw new ArgumentException($"PatchResampler: the resize is not linear and separable ({what} pixel {i}: {expected[i]} vs taps {got[i]}); it must not clamp.");
    }

    /// <summary>Sparse rows of a 1-D resampling matrix: output o = sum_t Weights[o][t] * in[Start[o] + t].</summary>
    private sealed class Taps
    {
        public required int[] Start { get; init; }
        public required float[][] Weights { get; init; }

        public float Dot(int o, ReadOnlySpan<float> x, int step)
        {
            var w = Weights[o];
            int s = Start[o];
            float acc = 0;
            for (int t = 0; t < w.Length; t++) acc += w[t] * x[(s + t) * step];
            return acc;
        }

        public static Taps FromImpulses(PlaneResize resize, int n, int m)
        {
            // Column i of the matrix = response to the unit impulse at i, from a 1-row image.
            var dense = new double[m, n];
            var impulse = new float[n];
            for (int i = 0; i < n; i++)
            {
                Array.Clear(impulse);
                impulse[i] = 1f;
                var response = resize(impulse, n, 1, m, 1);
                if (response.Length != m)
                    throw new ArgumentException($"PatchResampler: resizing a {n}x1 row to {m}x1 returned {response.Length} values.");
                for (int o = 0; o < m; o++) dense[o, i] = response[o];
            }
            var start = new int[m];
            var weights = new float[m][];
            for (int o = 0; o < m; o++)
            {
                int first = 0, last = n - 1;
                while (first < n && dense[o, first] == 0) first++;
                while (last > first && dense[o, last] == 0) last--;
                if (first == n) throw new ArgumentException($"PatchResampler: output {o} of {n}->{m} has no input weight.");
                start[o] = first;
                weights[o] = Enumerable.Range(first, last - first + 1).Select(i => (float)dense[o, i]).ToArray();
            }
            return new Taps { Start = start, Weights = weights };
        }
    }
}
