using System.Text.Json;
using ILGpuSat.Kernels;
using ILGpuSat.Common;

namespace ILGpuSat.Tools.Profiling;

/// <summary>Per-kernel totals over the profiled steps.</summary>
public sealed record KernelSummary(string Kernel, int Launches, double TotalMs, double MeanUs, double GFlops, double GBps, double Share);

/// <summary>Aggregates <see cref="KernelLaunch"/> records into a table and a Chrome trace.</summary>
public static class ProfileReport
{
    /// <summary>Rows sorted by total time; Share is the kernel's part of the summed step wall time.</summary>
    public static List<KernelSummary> Summarise(IReadOnlyList<KernelLaunch> launches, double stepsWallMs)
    {
        double denom = stepsWallMs > 0 ? stepsWallMs : launches.Sum(l => l.DurationUs) / 1e3;
        return launches
            .GroupBy(l => l.Kernel)
            .Select(g =>
            {
                double totalUs = g.Sum(l => l.DurationUs);
                double flops = g.Sum(l => l.Flops), bytes = g.Sum(l => l.Bytes);
                return new KernelSummary(g.Key, g.Count(), totalUs / 1e3, totalUs / g.Count(),
                    flops > 0 ? flops / (totalUs * 1e3) : 0, bytes > 0 ? bytes / (totalUs * 1e3) : 0,
                    totalUs / 1e3 / denom);
            })
            .OrderByDescending(s => s.TotalMs)
            .ToList();
    }

    /// <summary>
    /// Chrome trace event format ("X" complete events, microseconds): opens in Perfetto and
    /// chrome://tracing. Kernels on one track, training steps on another.
    /// </summary>
    public static void WriteChromeTrace(string path, string device, IReadOnlyList<KernelLaunch> launches,
        IReadOnlyList<(double StartUs, double DurationUs)> steps)
    {
        var events = new List<object>
        {
            new { name = "process_name", ph = "M", pid = 1, tid = 0, args = new { name = $"ilgpusat ({device})" } },
            new { name = "thread_name", ph = "M", pid = 1, tid = 1, args = new { name = "steps" } },
            new { name = "thread_name", ph = "M", pid = 1, tid = 2, args = new { name = "kernels" } },
        };
        for (int i = 0; i < steps.Count; i++)
            events.Add(new { name = $"step {i + 1}", cat = "step", ph = "X", ts = steps[i].StartUs, dur = steps[i].DurationUs, pid = 1, tid = 1 });
        foreach (var l in launches)
        {
            var args = new Dictionary<string, object>();
            if (l.Flops > 0) { args["gflop"] = l.Flops / 1e9; args["gflops_per_s"] = l.Flops / (l.DurationUs * 1e3); }
            if (l.Bytes > 0) { args["mb"] = l.Bytes / 1e6; args["gb_per_s"] = l.Bytes / (l.DurationUs * 1e3); }
            events.Add(new { name = l.Kernel, cat = "kernel", ph = "X", ts = l.StartUs, dur = l.DurationUs, pid = 1, tid = 2, args });
        }
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { traceEvents = events, displayTimeUnit = "ms" }));
    }
}
