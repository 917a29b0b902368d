using ILGpuSat.Engine;

namespace ILGpuSat.Networks.Misr;

/// <summary>
/// Mutual inpainting, as the authors' code does it: per pixel, frame k keeps its own value where its (registered)
/// mask is clear; where it is not, it takes the value of the first frame, in frame order, that is clear there;
/// where no frame is, it keeps its own. A hard selection, not an average: no division by mask sums. The
/// selection is made on the host from the masks (data, no gradient); the gradient flows to the selected frames.
/// </summary>
public static class MutualInpainting
{
    /// <summary>For masks [N, T, HW] (clear where &gt; 0.5), the frame each output frame takes at each pixel ([N, T, HW]).</summary>
    public static int[] Selection(float[] masks, int n, int t, int hw)
    {
        if (masks.Length != (long)n * t * hw) throw new ArgumentException($"MutualInpainting: masks hold {masks.Length} values, not {n} x {t} x {hw}.");
        var sel = new int[masks.Length];
        for (int s = 0; s < n; s++)
            for (int p = 0; p < hw; p++)
            {
                int first = -1;
                for (int j = 0; j < t && first < 0; j++) if (masks[(s * t + j) * hw + p] > 0.5f) first = j;
                for (int k = 0; k < t; k++)
                {
                    int i = (s * t + k) * hw + p;
                    sel[i] = masks[i] > 0.5f || first < 0 ? k : first;
                }
            }
        return sel;
    }

    /// <summary>frames [N, T, C, H, W] with each output frame's pixels taken from the frame <paramref name="selection"/> names.</summary>
    public static Tensor Apply(Tensor frames, int[] selection)
    {
        int n = frames.Size(0), t = frames.Size(1), c = frames.Size(2), h = frames.Size(3), w = frames.Size(4), hw = h * w;
        if (selection.Length != (long)n * t * hw) throw new ArgumentException($"MutualInpainting: the selection holds {selection.Length} values, not {n} x {t} x {hw}.");
        var source = Enumerable.Range(0, t).Select(j =>
        {
            var frame = F.Narrow(frames, 1, j, 1);
            return frame.ReplacedBy(F.Reshape(frame, n, c, h, w));
        }).ToArray();
        var outputs = new Tensor[t];
        for (int k = 0; k < t; k++)
        {
            Tensor? acc = null;
            for (int j = 0; j < t; j++)
            {
                int count = 0;
                for (int s = 0; s < n; s++)
                    for (int p = 0; p < hw; p++)
                        if (selection[(s * t + k) * hw + p] == j) count++;
                if (count == 0) continue;
                Tensor taken;
                if (count == n * hw) taken = F.Mul(source[j], 1f); // frame k takes all of frame j: no map
                else
                {
                    // The 0/1 map of where output frame k takes frame j, repeated over the channels (a constant).
                    var map = new float[(long)n * c * hw];
                    for (int s = 0; s < n; s++)
                        for (int p = 0; p < hw; p++)
                            if (selection[(s * t + k) * hw + p] == j)
                                for (int ch = 0; ch < c; ch++) map[((long)s * c + ch) * hw + p] = 1f;
                    var mask = Tensor.FromArray(map, [n, c, h, w], frames.Backend);
                    taken = F.Mul(source[j], mask);
                    mask.ReleaseIfNoGrad();
                }
                if (acc is null) acc = taken;
                else
                {
                    var sum = F.Add(acc, taken);
                    acc.ReleaseIfNoGrad();
                    taken.ReleaseIfNoGrad();
                    acc = sum;
                }
            }
            outputs[k] = acc!.ReplacedBy(F.Reshape(acc!, n, 1, c, h, w));
        }
        // Intermediates are released after their last read (no-ops in grad mode); the caller's frames are kept.
        foreach (var s in source) s.ReleaseIfNoGrad();
        if (t == 1) return outputs[0];
        var all = F.Cat(outputs, dim: 1);
        foreach (var o in outputs) o.ReleaseIfNoGrad();
        return all;
    }
}
