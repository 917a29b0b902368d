using System.CommandLine;
using System.Diagnostics;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Modules;
using ILGpuSat.Engine.Optim;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Tools.Profiling;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat profile`: runs training steps with every kernel launch timed, prints a per-kernel table
/// and writes a Chrome trace (Perfetto / chrome://tracing).
/// </summary>
public static class ProfileCommand
{
    /// <summary>Models that can be profiled; the full Liu et al. networks join when they exist.</summary>
    public static readonly string[] Models = ["stack"];

    public static Command Create()
    {
        var device = CommonOptions.Device();
        var model = new Option<string>("--model") { Description = $"model to train: {string.Join(", ", Models)} (stack: 1->64 conv/BN/PReLU x depth, conv 64->1, MSE)", DefaultValueFactory = _ => "stack" };
        var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "profiled training steps", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "unprofiled steps first (kernel compilation, pool warm-up)", DefaultValueFactory = _ => 1 };
        var size = new Option<int>("--size") { Description = "patch side", DefaultValueFactory = _ => 96 };
        var depth = new Option<int>("--depth") { Description = "conv/BN/PReLU blocks of the stack model", DefaultValueFactory = _ => 4 };
        var trace = new Option<string>("--trace") { Description = "Chrome trace JSON to write", DefaultValueFactory = _ => "profile-trace.json" };
        var cmd = new Command("profile", "Profile training steps kernel by kernel: table plus Chrome trace")
        {
            model, device, batch, steps, warmup, size, depth, trace,
        };
        cmd.SetAction(pr => Run(pr.GetValue(model)!, pr.GetValue(device)!, pr.GetValue(batch), pr.GetValue(steps),
            pr.GetValue(warmup), pr.GetValue(size), pr.GetValue(depth), pr.GetValue(trace)!));
        return cmd;
    }

    private static int Run(string modelName, string device, int batch, int steps, int warmup, int size, int depth, string tracePath)
    {
        if (!Models.Contains(modelName)) throw new UserError($"--model '{modelName}' is not known; available: {string.Join(", ", Models)}.");
        if (batch <= 0 || steps <= 0 || warmup < 0 || size < 4 || depth <= 0)
            throw new UserError("--batch, --steps, --size and --depth must be positive and --warmup non-negative.");
        using var backend = CommonOptions.CreateBackend(device);
        var nn = new LayerFactory(backend, seed: 1);
        var rng = nn.Rng;
        using var net = new ConvBnPreluStack(nn, 1, 64, depth);
        using var head = nn.Conv2d(64, 1, 3, padding: 1);
        var parameters = net.Parameters().Concat(head.Parameters()).ToList();
        using var optimizer = new Adam(parameters, lr: 1e-3f, weightDecay: 1e-4f);

        int[] shape = [batch, 1, size, size];
        using var input = Tensor.FromArray(RandomArray(rng, batch * size * size), shape, backend: backend);
        using var target = Tensor.FromArray(RandomArray(rng, batch * size * size), shape, backend: backend);

        float Step()
        {
            using var scope = new TensorScope();
            var loss = F.MseLoss(head.Forward(net.Forward(input)), target);
            loss.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
            return loss.Item(); // the one host synchronisation of a step
        }

        AnsiConsole.MarkupLine($"[bold]profile[/] {modelName} (depth {depth}) on [green]{Markup.Escape(backend.Name)}[/], batch {batch}, {size}x{size}, {steps} steps after {warmup} warm-up");
        for (int i = 0; i < warmup; i++) Step();

        var profiler = new KernelProfiler();
        var stepTimes = new List<(double StartUs, double DurationUs)>();
        backend.Profiler = profiler;
        float lastLoss = 0;
        try
        {
            for (int i = 0; i < steps; i++)
            {
                double start = profiler.Now.TotalMicroseconds;
                var sw = Stopwatch.StartNew();
                lastLoss = Step();
                stepTimes.Add((start, sw.Elapsed.TotalMicroseconds));
            }
        }
        finally
        {
            backend.Profiler = null;
        }

        double wallMs = stepTimes.Sum(s => s.DurationUs) / 1e3;
        var rows = ProfileReport.Summarise(profiler.Launches, wallMs);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("kernel");
        foreach (var c in new[] { "launches", "total ms", "mean us", "GFLOP/s", "GB/s", "share of step" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Kernel), r.Launches.ToString(), $"{r.TotalMs:F2}", $"{r.MeanUs:F1}",
                r.GFlops > 0 ? $"{r.GFlops:F1}" : "", r.GBps > 0 ? $"{r.GBps:F1}" : "", $"{100 * r.Share:F1}%");
        double kernelMs = rows.Sum(r => r.TotalMs);
        table.AddRow("[bold]all kernels[/]", profiler.Launches.Count.ToString(), $"{kernelMs:F2}", "", "", "", $"{100 * kernelMs / wallMs:F1}%");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{steps} steps: {wallMs / steps:F2} ms per step (profiled: each launch is synchronised), last loss {lastLoss:G5}");
        ProfileReport.WriteChromeTrace(tracePath, backend.Name, profiler.Launches, stepTimes);
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(tracePath)} (open in https://ui.perfetto.dev or chrome://tracing)");
        return 0;
    }

    private static float[] RandomArray(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
