namespace ILGpuSat.Kernels.Cuda;

/// <summary>
/// Tensors past 32-bit indexing. Every kernel indexes with 32-bit ints, so an op on a tensor longer than
/// <see cref="LaunchFloats"/> (2^30) is cut into independent pieces, each launched on a sub-view that starts at
/// a 64-bit offset and whose own indices fit in 32 bits: flat ranges for elementwise ops, optimizer steps and
/// global sums; whole images, or a range of channels of one image, for per-channel ops; whole images for
/// per-pixel softmax (one image of any size, its kernel forms 64-bit addresses), convolution and channel
/// copies; whole planes for resampling and pooling. Sums over several pieces are finished in a fixed order
/// (no atomics), so results stay deterministic. What cannot be cut is refused with an error that names
/// the limit: one image of a convolution or a channel copy, one plane of a resize, and training-mode batch
/// norm (its statistics span the batch).
/// </summary>
public sealed partial class CudaBackend
{
    private long _launchFloats = MaxElements;

    /// <summary>
    /// Most floats one launch addresses in one tensor (2^30). Tests lower it to run the cut-up paths on tiny
    /// shapes; values below 1 are refused.
    /// </summary>
    internal long LaunchFloats
    {
        get => _launchFloats;
        set => _launchFloats = value is >= 1 and <= MaxElements
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"LaunchFloats must lie in [1, {MaxElements}], got {value}.");
    }

    /// <summary>Ops launched in more than one piece since the backend was made: the tests' evidence that a cut path ran.</summary>
    internal long PiecewiseOps => Interlocked.Read(ref _piecewiseOps);

    private long _piecewiseOps;

    private void CountCut(long pieces)
    {
        if (pieces > 1) Interlocked.Increment(ref _piecewiseOps);
    }

    /// <summary>[offset, offset + length) ranges of at most <see cref="LaunchFloats"/> covering [0, n).</summary>
    internal IEnumerable<(long Offset, int Length)> FlatPieces(long n)
    {
        long step = _launchFloats;
        CountCut((n + step - 1) / step);
        for (long o = 0; o < n; o += step) yield return (o, (int)Math.Min(step, n - o));
    }

    /// <summary>
    /// Pieces of an [N, C, HW] tensor for per-channel broadcast ops: groups of whole images when one image fits
    /// a launch, else ranges of channels of one image. A piece is [N', C', HW] starting at channel C0 of image N0
    /// (its data contiguous at <see cref="ChannelPiece.Offset"/>).
    /// </summary>
    internal IEnumerable<ChannelPiece> ChannelPieces(string op, ChannelGeometry g)
    {
        long image = (long)g.C * g.HW;
        if (image <= _launchFloats)
        {
            int per = (int)Math.Min(g.N, _launchFloats / image);
            CountCut((g.N + per - 1) / per);
            for (int n0 = 0; n0 < g.N; n0 += per)
                yield return new ChannelPiece(n0 * image, n0, Math.Min(per, g.N - n0), 0, g.C, g.HW);
            yield break;
        }
        if (g.HW > _launchFloats)
            throw new ArgumentException($"{op}: one channel plane of {g.HW} floats exceeds the CUDA kernels' 32-bit indexing limit of {_launchFloats} floats per launch.");
        int channels = (int)(_launchFloats / g.HW);
        CountCut(2);
        for (int n0 = 0; n0 < g.N; n0++)
            for (int c0 = 0; c0 < g.C; c0 += channels)
                yield return new ChannelPiece(n0 * image + (long)c0 * g.HW, n0, 1, c0, Math.Min(channels, g.C - c0), g.HW);
    }

    /// <summary>
    /// Groups [first, first + count) of whole items (images or planes) of <paramref name="perItem"/> floats each,
    /// as many per launch as fit. With <paramref name="oversizedItemAlone"/> an item larger than a launch goes
    /// alone (its kernel addresses in 64 bits); without it, such an item is an error naming <paramref name="what"/>.
    /// </summary>
    internal IEnumerable<(int First, int Count)> ItemGroups(string op, string what, int items, long perItem, bool oversizedItemAlone = false)
    {
        if (perItem > _launchFloats && !oversizedItemAlone)
            throw new ArgumentException($"{op}: one {what} of {perItem} floats exceeds the CUDA kernels' 32-bit indexing limit of {_launchFloats} floats per launch; " +
                                        $"use smaller tiles (larger tensors are cut into whole {what}s, never within one).");
        int per = (int)Math.Clamp(_launchFloats / Math.Max(1, perItem), 1, Math.Max(1, items));
        CountCut((items + per - 1) / per);
        for (int first = 0; first < items; first += per) yield return (first, Math.Min(per, items - first));
    }

    /// <summary>One launch's share of an [N, C, HW] tensor: images [N0, N0 + N), channels [C0, C0 + C).</summary>
    internal readonly record struct ChannelPiece(long Offset, int N0, int N, int C0, int C, int HW)
    {
        public ChannelGeometry Geometry => new(N, C, HW);

        public int Length => N * C * HW;
    }
}
