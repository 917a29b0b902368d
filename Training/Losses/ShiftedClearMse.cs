using ILGpuSat.Engine;
using ILGpuSat.Imaging.Metrics;

namespace ILGpuSat.Training.Losses;

/// <summary>The loss of one batch and, per sample, the HR offset it was measured at (cPSNR's (u, v)).</summary>
public sealed record ShiftedLoss(Tensor Loss, IReadOnlyList<(int U, int V)> Offsets);

/// <summary>
/// DeepSUM's training loss (the slides' loss): cPSNR's own measure made differentiable. Per sample, the SR image
/// cropped by the border is compared with every HR window of offset (u, v) in {0 .. 2 x border}^2 over the HR's clear
/// pixels with the brightness bias removed, cMSE = mean(m (d - b)^2) with d = HR - SR and b = mean(m d); the loss
/// takes the best offset (the minimum; its gradient is that offset's gradient) and averages over the batch.
/// The offset search runs on the host (<see cref="ClearPsnr.Compute"/>, which maximises -10 log10 cMSE); the chosen
/// offset's cMSE is then built from engine ops, (sum m d^2 - (sum m d)^2 / sum m) / sum m, so autograd carries it.
/// </summary>
public static class ShiftedClearMse
{
    /// <summary>sr [N, 1, H, W] (requires grad) against hr [N, H, W] with clear [N, H, W] (host arrays, same intensities).</summary>
    public static ShiftedLoss Compute(Tensor sr, float[] hr, bool[] clear, int border = ClearPsnr.Border)
    {
        ArgumentNullException.ThrowIfNull(sr);
        if (sr.Rank != 4 || sr.Size(1) != 1) throw new ArgumentException($"ShiftedClearMse: SR must be [N, 1, H, W], got {Tensor.Format(sr.Shape)}.");
        int n = sr.Size(0), h = sr.Size(2), w = sr.Size(3), hw = h * w;
        if (hr.Length != (long)n * hw || clear.Length != hr.Length)
            throw new ArgumentException($"ShiftedClearMse: HR ({hr.Length}) and status map ({clear.Length}) must hold {n} x {h} x {w} values.");
        var values = sr.ToArray();
        int ch = h - 2 * border, cw = w - 2 * border;
        var offsets = new List<(int, int)>();
        Tensor? total = null;
        for (int s = 0; s < n; s++)
        {
            var best = ClearPsnr.Compute(values.AsSpan(s * hw, hw).ToArray(), hr.AsSpan(s * hw, hw).ToArray(), clear.AsSpan(s * hw, hw).ToArray(), w, h, border);
            int u = best.OffsetX, v = best.OffsetY;
            offsets.Add((u, v));
            // The HR window and its mask at the chosen offset (constants), the SR crop (differentiable).
            var window = new float[ch * cw];
            var mask = new float[ch * cw];
            for (int y = 0; y < ch; y++)
                for (int x = 0; x < cw; x++)
                {
                    int i = s * hw + (y + v) * w + x + u;
                    window[y * cw + x] = hr[i];
                    mask[y * cw + x] = clear[i] ? 1f : 0f;
                }
            float count = best.ClearPixels;
            var crop = F.Narrow(F.Narrow(F.Narrow(sr, 0, s, 1), 2, border, ch), 3, border, cw);
            var d = F.Sub(Tensor.FromArray(window, [1, 1, ch, cw], sr.Backend), crop);
            var md = F.Mul(d, Tensor.FromArray(mask, [1, 1, ch, cw], sr.Backend));
            var sumMd = F.Sum(md);
            var cmse = F.Mul(F.Sub(F.Sum(F.Mul(md, d)), F.Mul(F.Mul(sumMd, sumMd), 1f / count)), 1f / count);
            total = total is null ? cmse : F.Add(total, cmse);
        }
        return new ShiftedLoss(F.Mul(total!, 1f / n), offsets);
    }
}
