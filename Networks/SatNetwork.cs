using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;

namespace ILGpuSat.Networks;

/// <summary>Which picture of the low-resolution image a network reads.</summary>
public enum NetworkInput
{
    /// <summary>The LR image bicubic-upsampled back to the output size (the SRCNN convention; liu2018, srcnn, recurrent-residual).</summary>
    BicubicUpsampled,

    /// <summary>The LR image itself, at 1/scale of the output (regression-ed upsamples inside the network).</summary>
    LowResolution,
}

/// <summary>The tasks a network's outputs serve; the trainer builds its loss from them.</summary>
[Flags]
public enum NetworkTasks
{
    None = 0,

    /// <summary><see cref="NetworkOutput.Sr"/>: the 4x L* image.</summary>
    SuperResolution = 1,

    /// <summary><see cref="NetworkOutput.ColorLogits"/>: logits over the 313 ab bins at 1/4 of the output size (Zhang et al.).</summary>
    ColorClassification = 2,

    /// <summary><see cref="NetworkOutput.Ab"/>: a*b* regressed directly at the output size.</summary>
    ColorRegression = 4,
}

/// <summary>
/// What a network returns; a member is null when the network does not serve that task.
/// Sr: [N, 1, H, W] L* in the network normalisation (<see cref="LabNormalization"/>).
/// ColorLogits: [N, 313, H/4, W/4] unnormalised scores over Zhang's ab bins.
/// Ab: [N, 2, H, W] a*b* in the network normalisation.
/// </summary>
public sealed record NetworkOutput(Tensor? Sr, Tensor? ColorLogits, Tensor? Ab);

/// <summary>
/// The normalisation constants a network was trained with, kept with the model (saved in its
/// weights file's metadata) so inference never guesses them: x = L* * LScale + LOffset, and
/// a*b* * AbScale for regressed colour.
/// </summary>
public sealed record LabNormalization(float LScale = 0.01f, float LOffset = -0.5f, float AbScale = 1f / 110f)
{
    public static LabNormalization Default { get; } = new();

    public float NormaliseL(float l) => l * LScale + LOffset;

    public float DenormaliseL(float x) => (x - LOffset) / LScale;
}

/// <summary>
/// A network of the model catalog: a <see cref="Module"/> (parameters, buffers, state dict with names
/// that read like the paper) with one typed call: the normalised L* input in, a
/// <see cref="NetworkOutput"/> out.
/// </summary>
public abstract class SatNetwork : Module
{
    /// <summary>Which LR picture <see cref="Forward"/> takes, [N, 1, h, w].</summary>
    public abstract NetworkInput Input { get; }

    public abstract NetworkTasks Tasks { get; }

    /// <summary>Output size / LR size (4 for every model of the paper).</summary>
    public virtual int Scale => 4;

    /// <summary>The input's side lengths must be multiples of this (strided layers inside).</summary>
    public virtual int SizeMultiple => 1;

    /// <summary>
    /// The normalisation this network's input and outputs are in. Saved in its weights file
    /// (<see cref="ModelFile"/>) and restored on load; a trainer that normalises differently sets it before saving.
    /// </summary>
    public LabNormalization Normalization { get; set; } = LabNormalization.Default;

    public abstract NetworkOutput Forward(Tensor input);

    /// <summary>A fresh network of the same architecture and configuration on <paramref name="nn"/>'s backend
    /// (weights from <paramref name="nn"/>, to be overwritten), or null when the type cannot say how it was built.
    /// <see cref="InferenceFolding.FoldForInference"/> folds such a copy.</summary>
    internal virtual SatNetwork? Rebuild(LayerFactory nn) => null;

    /// <summary>Throws unless <paramref name="input"/> is [N, 1, h, w] with h and w multiples of <see cref="SizeMultiple"/>.</summary>
    protected void CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Size(1) != 1)
            throw new ArgumentException($"{GetType().Name}: input must be [N, 1, H, W] (normalised L*), got {Tensor.Format(input.Shape)}.");
        int h = input.Size(2), w = input.Size(3);
        if (h % SizeMultiple != 0 || w % SizeMultiple != 0)
            throw new ArgumentException($"{GetType().Name}: input {h}x{w} must have sides that are multiples of {SizeMultiple}.");
    }
}
