using ILGpuSat.Engine;
using ILGpuSat.Networks;

namespace ILGpuSat.Training.Losses;

/// <summary>The targets of one batch on the device (those the network's tasks need; the others are null).</summary>
public sealed record LossTargets(Tensor? Sr, Tensor? ColorDistribution, Tensor? ColorWeights, Tensor? Ab);

/// <summary>One named term: its unweighted value and the weight it enters the total with.</summary>
public sealed record LossTerm(string Name, Tensor Value, float Weight);

/// <summary>The total to differentiate and the terms it sums, each reported by name.</summary>
public sealed record LossResult(Tensor Total, IReadOnlyList<LossTerm> Terms);

/// <summary>
/// The training objective of every catalog model, from the tasks it serves (Eq. 7 of Liu et al. 2018):
/// "sr" = MSE(SR, L*_HR) in the network normalisation; "color" = the rebalanced soft cross-entropy over the
/// 313 ab bins (mean over pixels of w(bin*) * -sum_q z_q log softmax_q); "ab" = MSE of regressed a*b*
/// (scaled by LabNormalization.AbScale). Total = sr + eta * (color or ab); a model with only a colour
/// task trains on its colour term alone, with weight 1 (eta balances two tasks, it has nothing to balance).
/// </summary>
public static class TrainingLoss
{
    public const string Sr = "sr";
    public const string Color = "color";
    public const string Ab = "ab";

    /// <summary>The names of the terms a network's tasks give, in the order they are reported.</summary>
    public static IReadOnlyList<string> TermNames(NetworkTasks tasks)
    {
        var names = new List<string>();
        if (tasks.HasFlag(NetworkTasks.SuperResolution)) names.Add(Sr);
        if (tasks.HasFlag(NetworkTasks.ColorClassification)) names.Add(Color);
        if (tasks.HasFlag(NetworkTasks.ColorRegression)) names.Add(Ab);
        if (names.Count == 0) throw new ArgumentException("TrainingLoss: the network serves no task.");
        return names;
    }

    public static LossResult Compute(NetworkTasks tasks, NetworkOutput output, LossTargets targets, float eta)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(targets);
        bool joint = tasks.HasFlag(NetworkTasks.SuperResolution) && (tasks & (NetworkTasks.ColorClassification | NetworkTasks.ColorRegression)) != 0;
        float colourWeight = joint ? eta : 1f;
        var terms = new List<LossTerm>();
        foreach (var name in TermNames(tasks))
        {
            var term = name switch
            {
                Sr => new LossTerm(Sr, F.MseLoss(Need(output.Sr, "Sr"), Need(targets.Sr, "SR target")), 1f),
                Color => new LossTerm(Color, F.SoftCrossEntropy(Need(output.ColorLogits, "ColorLogits"), Need(targets.ColorDistribution, "colour target"),
                                                                Need(targets.ColorWeights, "colour weights")), colourWeight),
                _ => new LossTerm(Ab, F.MseLoss(Need(output.Ab, "Ab"), Need(targets.Ab, "a*b* target")), colourWeight),
            };
            terms.Add(term);
        }
        Tensor total = terms[0].Weight == 1f ? terms[0].Value : F.Mul(terms[0].Value, terms[0].Weight);
        for (int i = 1; i < terms.Count; i++)
            total = F.Add(total, terms[i].Weight == 1f ? terms[i].Value : F.Mul(terms[i].Value, terms[i].Weight));
        return new LossResult(total, terms);
    }

    private static Tensor Need(Tensor? t, string what) =>
        t ?? throw new ArgumentException($"TrainingLoss: the network's tasks need {what}, which is missing.");
}
