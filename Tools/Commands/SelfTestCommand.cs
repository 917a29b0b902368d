using System.CommandLine;
using ILGpuSat.Engine;
using ILGpuSat.Engine.Verification;
using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat selftest --device cuda`: every kernel on the GPU against the managed CPU backend at
/// realistic sizes (and the small edge-case shapes), then every PyTorch golden case in tests/golden/ops
/// (forward, running statistics and gradients through the engine's autograd, see <see cref="GoldenOps"/>)
/// on the GPU, as one pass/fail table. Golden cases that cannot be found count as a failure unless
/// --no-golden is given: a GPU check that silently skipped PyTorch would look like a pass.
/// </summary>
public static class SelfTestCommand
{
    /// <summary>Training-sized shapes: full-resolution features, the 313-bin colour head, and batch 32.</summary>
    public static readonly SelfTestShape[] RealisticShapes = [new(4, 64, 96, 96), new(4, 313, 24, 24), new(32, 64, 96, 96)];

    public static Command Create()
    {
        var device = new Option<string>("--device")
        {
            Description = "cuda (a real GPU), or cuda-sim (the same kernels on ILGPU's CPU accelerator, small shapes only)",
            DefaultValueFactory = _ => "cuda",
        };
        var small = new Option<bool>("--small") { Description = "only the small edge-case shapes" };
        var op = new Option<string?>("--op") { Description = "only kernel ops and golden cases (named golden:<case>) whose name contains this" };
        var golden = new Option<string?>("--golden")
        {
            Description = "the PyTorch golden cases folder (tests/golden/ops) or the repository root; default: found above the current or program directory, or $" + GoldenOps.RepoVariable,
        };
        var noGolden = new Option<bool>("--no-golden") { Description = "skip the PyTorch golden cases (kernel comparison only)" };
        var cmd = new Command("selftest", "Check every GPU kernel against the CPU backend and the engine's ops on the GPU against PyTorch goldens; print a pass/fail table")
        {
            device, small, op, golden, noGolden,
        };
        cmd.SetAction(pr => Run(pr.GetValue(device)!, pr.GetValue(small), pr.GetValue(op), pr.GetValue(golden), pr.GetValue(noGolden)));
        return cmd;
    }

    private static int Run(string device, bool smallOnly, string? opFilter, string? goldenFolder, bool noGolden)
    {
        if (noGolden && goldenFolder is not null) throw new UserError("--golden and --no-golden contradict each other.");
        CudaBackend candidate;
        switch (device)
        {
            case "cuda":
                try { candidate = Backends.CreateCuda(); }
                catch (CudaUnavailableException e)
                {
                    AnsiConsole.MarkupLine($"[red]selftest needs a CUDA device and none is usable here.[/] {Markup.Escape(e.Message)}");
                    return 2;
                }
                break;
            case "cuda-sim":
                // 32 x 4 = 128 threads per group: the convolution kernels launch 128-thread groups.
                candidate = Backends.CreateCudaSimulator(warpSize: 32, warpsPerGroup: 4);
                smallOnly = true;
                break;
            default:
                throw new UserError($"--device must be cuda or cuda-sim, not '{device}'.");
        }
        using var _ = candidate;
        using var reference = new CpuBackend();
        AnsiConsole.MarkupLine($"[bold]selftest[/] {Markup.Escape(candidate.DeviceDescription)} against the managed CPU backend, tolerance {KernelSelfTest.Tolerance:G2} relative");

        var (goldenDir, goldenNote) = noGolden ? (null, null) : LocateGoldens(goldenFolder);
        var goldenCases = goldenDir is null ? [] : GoldenOps.CaseNames(goldenDir)
            .Where(c => opFilter is null || GoldenRowName(c).Contains(opFilter, StringComparison.Ordinal)).ToArray();

        var shapes = smallOnly ? KernelSelfTest.SmallShapes : KernelSelfTest.SmallShapes.Concat(RealisticShapes).ToList();
        var rows = new List<SelfTestRow>();
        int kernelRows = 0;
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("kernels vs CPU", maxValue: shapes.Count * KernelSelfTest.OpNames.Count);
            var goldenTask = ctx.AddTask("PyTorch goldens", maxValue: Math.Max(1, goldenCases.Length));
            rows.AddRange(KernelSelfTest.Run(candidate, reference, shapes,
                include: op => opFilter is null || op.Contains(opFilter, StringComparison.Ordinal), progress: () => task.Increment(1)));
            kernelRows = rows.Count;
            task.Value = task.MaxValue;
            if (candidate is CudaBackend { Fault: not null }) return; // sticky: the goldens could only fail under other names

            foreach (var name in goldenCases)
            {
                rows.Add(GoldenRow(GoldenOps.Run(goldenDir!, name, candidate)));
                goldenTask.Increment(1);
            }
            goldenTask.Value = goldenTask.MaxValue;
        });

        var table = new Table().Border(TableBorder.Rounded).AddColumn("op").AddColumn("shape / worst tensor")
            .AddColumn(new TableColumn("max rel error").RightAligned()).AddColumn("result");
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Op), Markup.Escape(r.Shape), double.IsNaN(r.MaxRelError) ? "" : $"{r.MaxRelError:E2}",
                r.Pass ? "[green]pass[/]" : $"[red]FAIL[/] {Markup.Escape(r.Error ?? "")}");
        AnsiConsole.Write(table);

        int kernelFailed = rows.Take(kernelRows).Count(r => !r.Pass);
        int goldenFailed = rows.Skip(kernelRows).Count(r => !r.Pass);
        string goldenSummary;
        if (goldenNote is not null)
        {
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(goldenNote)}[/]");
            goldenSummary = "PyTorch goldens not found (counted as 1 failure)";
            goldenFailed++;
        }
        else if (noGolden) goldenSummary = "PyTorch goldens skipped (--no-golden)";
        else goldenSummary = $"PyTorch goldens {goldenCases.Length - goldenFailed}/{goldenCases.Length} from {goldenDir}";
        if (rows.Count == 0 && goldenNote is null)
            AnsiConsole.MarkupLine($"[yellow]no kernel op or golden case matches --op '{Markup.Escape(opFilter ?? "")}'.[/]");

        int failed = kernelFailed + goldenFailed;
        int passed = rows.Count(r => r.Pass);
        AnsiConsole.MarkupLine($"{passed} passed, {failed} failed (kernels vs CPU {kernelRows - kernelFailed}/{kernelRows}; {Markup.Escape(goldenSummary)})");
        // An empty selection proves nothing: a filter that matches nothing is not a pass.
        return failed == 0 && rows.Count > 0 ? 0 : 1;
    }

    private static string GoldenRowName(string caseName) => "golden:" + caseName;

    private static SelfTestRow GoldenRow(GoldenResult r) =>
        new(GoldenRowName(r.Case), r.WorstTensor ?? "", r.WorstRelError, r.Pass, r.Error);

    /// <summary>The golden folder, or a note saying where it was looked for and how to point at it.</summary>
    private static (string? Dir, string? Note) LocateGoldens(string? explicitFolder)
    {
        const string how = "Pass --golden DIR (the tests/golden/ops folder or the repository root), set " + GoldenOps.RepoVariable +
                           " to the repository root, or --no-golden to check the kernels only.";
        if (explicitFolder is not null)
        {
            try { return (GoldenOps.FromFolder(explicitFolder), null); }
            catch (DirectoryNotFoundException e) { return (null, $"PyTorch goldens: {e.Message} {how}"); }
        }
        if (GoldenOps.TryFind(out var dir, out var searched)) return (dir, null);
        return (null, $"PyTorch goldens: no {Path.Combine(GoldenOps.RelativePath, "manifest.json")} found; searched {string.Join("; ", searched)}. {how}");
    }
}
