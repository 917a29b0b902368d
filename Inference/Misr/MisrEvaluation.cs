using System.Diagnostics;
using System.Globalization;
using System.Text;
using ILGpuSat.Imaging.Imagery;
using ILGpuSat.Imaging.Metrics;
using ILGpuSat.Imaging.Resampling;

namespace ILGpuSat.Inference.Misr;

/// <summary>One method's mean over the scenes: cPSNR (dB), the challenge score (N / cPSNR; below 1 beats the baseline), ms per scene.</summary>
public sealed record MisrSummaryRow(string Method, double CPsnr, double Score, double MsPerScene);

/// <summary>One method on one scene.</summary>
public sealed record MisrSceneRow(string Scene, string Method, double CPsnr, double Score);

/// <summary>
/// The slides' Table I on scenes with an HR: cPSNR and score per scene and mean for bicubic of the clearest look, the
/// challenge baseline (bicubic of the mean of the clearest looks), and each model (a SISRNet-stage checkpoint is the
/// single-image SR row; DeepSUM with or without RegNet as its config says). The score's N is the scene's norm.csv
/// baseline when given, else the challenge baseline's cPSNR computed here (the organisers' definition of N).
/// </summary>
public static class MisrEvaluation
{
    public const string ClearestBicubic = "bicubic (clearest look)";
    public const string ChallengeBaseline = "challenge baseline";

    public static (IReadOnlyList<MisrSummaryRow> Summary, IReadOnlyList<MisrSceneRow> Scenes) Run(IReadOnlyList<ProbaVScene> scenes,
        IReadOnlyList<(string Name, MisrEnhancer Model)> models, IReadOnlyDictionary<string, double>? norms = null, Action<string>? progress = null,
        MisrOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        if (scenes.Count == 0) throw new ArgumentException("misr eval: no scene.");
        foreach (var s in scenes)
            if (s.HighRes is null) throw new ArgumentException($"{s.Folder}: has no HR.png, so it cannot be scored.");
        var rows = new List<MisrSceneRow>();
        var times = new Dictionary<string, double>();
        var order = new List<string> { ClearestBicubic, ChallengeBaseline };
        order.AddRange(models.Select(m => m.Name));
        foreach (var scene in scenes)
        {
            progress?.Invoke(scene.Name);
            int scale = scene.Scale, side = scene.HrWidth;
            double Score(float[] sr) => ClearPsnr.Compute(sr, scene.HighRes!, scene.Status!, side, scene.HrHeight).CPsnr;
            var clock = Stopwatch.StartNew();
            double baseline = Score(ProbaVBaseline.ChallengeBaseline(scene, scale));
            Add(ChallengeBaseline, baseline, clock);
            clock.Restart();
            Add(ClearestBicubic, Score(ProbaVBaseline.ClearestBicubic(scene, scale)), clock);
            foreach (var (name, model) in models)
            {
                if (model.Scale != scale)
                    throw new ArgumentException($"misr eval: model '{name}' is trained for x{model.Scale}; scene {scene.Name} is x{scale}.");
                clock.Restart();
                Add(name, Score(model.SuperResolve(scene, options)), clock);
            }

            void Add(string method, double cpsnr, Stopwatch c)
            {
                double n = norms is not null && norms.TryGetValue(scene.Name, out var v) ? v : baseline;
                rows.Add(new MisrSceneRow(scene.Name, method, cpsnr, ClearPsnr.Score(cpsnr, n)));
                times[method] = times.GetValueOrDefault(method) + c.Elapsed.TotalMilliseconds;
            }
        }
        var summary = order.Select(m =>
        {
            var mine = rows.Where(r => r.Method == m).ToList();
            return new MisrSummaryRow(m, mine.Average(r => r.CPsnr), mine.Average(r => r.Score), times[m] / scenes.Count);
        }).ToList();
        return (summary, rows);
    }

    public static string Markdown(IReadOnlyList<MisrSummaryRow> summary, int scenes)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| method ({scenes} scene{(scenes == 1 ? "" : "s")}) | cPSNR dB | score | ms / scene |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var r in summary)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Method} | {r.CPsnr:F2} | {r.Score:F4} | {r.MsPerScene:F1} |"));
        return sb.ToString();
    }

    public static string Csv(IReadOnlyList<MisrSceneRow> rows)
    {
        var sb = new StringBuilder("scene,method,cpsnr,score\n");
        foreach (var r in rows) sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Scene},\"{r.Method}\",{r.CPsnr:R},{r.Score:R}"));
        return sb.ToString();
    }
}
