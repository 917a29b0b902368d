namespace ILGpuSat.Kernels.Cpu;

// Channel-range copies between NCHW buffers (concat, narrow and their gradients).
public sealed partial class CpuBackend
{
    public override void CopyChannels(DeviceBuffer src, int srcChannels, int srcOffset,
        DeviceBuffer dst, int dstChannels, int dstOffset, int count, int n, int hw)
    {
        const string op = "copy_channels";
        long moved = (long)n * count * hw;
        using var _ = Profile(op, 0, 8.0 * moved);
        if (n <= 0 || hw <= 0 || count < 0 || srcOffset < 0 || dstOffset < 0)
            throw new ArgumentException($"{op}: sizes must be positive and offsets non-negative, got n={n} hw={hw} count={count} srcOffset={srcOffset} dstOffset={dstOffset}.");
        if (srcOffset + count > srcChannels || dstOffset + count > dstChannels)
            throw new ArgumentException($"{op}: channels [{srcOffset}, {srcOffset + count}) of {srcChannels} into [{dstOffset}, {dstOffset + count}) of {dstChannels} run past the end.");
        CheckLength(op, "src", src, (long)n * srcChannels * hw);
        CheckLength(op, "dst", dst, (long)n * dstChannels * hw);
        if (count == 0) return;
        var sa = HostArray(src);
        var da = HostArray(dst);
        // Work items are channel planes; consecutive planes of one image are contiguous in both
        // buffers, so each chunk copies at most one span per image.
        CpuParallel.For(Threads, n * count, hw, (p0, p1) =>
        {
            int p = p0;
            while (p < p1)
            {
                int img = p / count, ch = p % count;
                int planes = Math.Min(p1 - p, count - ch);
                int len = planes * hw;
                sa.AsSpan(((img * srcChannels) + srcOffset + ch) * hw, len)
                    .CopyTo(da.AsSpan(((img * dstChannels) + dstOffset + ch) * hw, len));
                p += planes;
            }
        });
    }
}
