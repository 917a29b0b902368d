using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Training.Data;

/// <summary>Where a sample of a batch came from.</summary>
public readonly record struct SampleOrigin(string File, int X, int Y, int Dihedral, bool Satellite);

/// <summary>
/// One mini-batch as NCHW float arrays ready to upload:
/// Input [B,1,P,P] (normalised LR L*), SrTarget [B,1,P,P] (normalised HR L*),
/// ColorTarget [B,313,T,T] (soft-encoded a*b*, each pixel sums to 1), Weights [B,1,T,T]
/// (rebalancing weight of the ground truth's nearest bin), with T = P / scale; and only when asked for
/// (<see cref="PatchExtras"/>): LowResInput [B,1,T,T] (normalised LR L*) and AbTarget [B,2,P,P] (scaled HR a*b*).
/// </summary>
public sealed class TrainingBatch
{
    /// <summary>An empty (zero) batch of <paramref name="count"/> samples.</summary>
    public TrainingBatch(long index, int count, int patchSize, int targetSize, PatchExtras extras = PatchExtras.None)
    {
        if (extras.HasFlag(PatchExtras.LowResolutionInput)) LowResInput = new float[count * targetSize * targetSize];
        if (extras.HasFlag(PatchExtras.AbTarget)) AbTarget = new float[count * 2 * patchSize * patchSize];
        Index = index;
        Count = count;
        PatchSize = patchSize;
        TargetSize = targetSize;
        Input = new float[count * patchSize * patchSize];
        SrTarget = new float[count * patchSize * patchSize];
        ColorTarget = new float[(long)count * AbBins.Count * targetSize * targetSize];
        Weights = new float[count * targetSize * targetSize];
        Origins = new SampleOrigin[count];
    }

    /// <summary>Position of the batch in the stream (0, 1, ...).</summary>
    public long Index { get; }

    /// <summary>Batch size B.</summary>
    public int Count { get; }

    public int PatchSize { get; }

    public int TargetSize { get; }

    public float[] Input { get; }

    public float[] SrTarget { get; }

    public float[] ColorTarget { get; }

    public float[] Weights { get; }

    public SampleOrigin[] Origins { get; }

    /// <summary>[B,1,T,T] normalised LR L*, or null when <see cref="PatchExtras.LowResolutionInput"/> was not asked for.</summary>
    public float[]? LowResInput { get; }

    /// <summary>[B,2,P,P] HR a*b* times the a*b* scale, or null when <see cref="PatchExtras.AbTarget"/> was not asked for.</summary>
    public float[]? AbTarget { get; }

    public int[] LowResInputShape => [Count, 1, TargetSize, TargetSize];

    public int[] AbTargetShape => [Count, 2, PatchSize, PatchSize];

    public int[] InputShape => [Count, 1, PatchSize, PatchSize];

    public int[] SrTargetShape => [Count, 1, PatchSize, PatchSize];

    public int[] ColorTargetShape => [Count, AbBins.Count, TargetSize, TargetSize];

    public int[] WeightsShape => [Count, 1, TargetSize, TargetSize];
}
