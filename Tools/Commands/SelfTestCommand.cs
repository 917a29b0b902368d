using System.CommandLine;
using ILGpuSat.Kernels;
using ILGpuSat.Kernels.Cpu;
using ILGpuSat.Kernels.Cuda;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat selftest --device cuda`: every kernel on the GPU against the managed CPU backend at
/// realistic sizes (and the small edge-case shapes), as a pass/fail table.
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
        var op = new Option<string?>("--op") { Description = "only ops whose name contains this" };
        var cmd = new Command("selftest", "Check every GPU kernel against the CPU backend and print a pass/fail table") { device, small, op };
        cmd.SetAction(pr => Run(pr.GetValue(device)!, pr.GetValue(small), pr.GetValue(op)));
        return cmd;
    }

    private static int Run(string device, bool smallOnly, string? opFilter)
    {
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
                candidate = Backends.CreateCudaSimulator();
                smallOnly = true;
                break;
            default:
                throw new UserError($"--device must be cuda or cuda-sim, not '{device}'.");
        }
        using var _ = candidate;
        using var reference = new CpuBackend();
        AnsiConsole.MarkupLine($"[bold]selftest[/] {Markup.Escape(candidate.DeviceDescription)} against the managed CPU backend, tolerance {KernelSelfTest.Tolerance:G2} relative");

        var shapes = smallOnly ? KernelSelfTest.SmallShapes : KernelSelfTest.SmallShapes.Concat(RealisticShapes).ToList();
        var rows = new List<SelfTestRow>();
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("ops", maxValue: shapes.Count * KernelSelfTest.OpNames.Count);
            foreach (var shape in shapes)
                foreach (var op in KernelSelfTest.OpNames)
                {
                    task.Increment(1);
                    if (opFilter is not null && !op.Contains(opFilter, StringComparison.Ordinal)) continue;
                    var row = KernelSelfTest.RunOp(op, candidate, reference, shape);
                    if (row is not null) rows.Add(row);
                }
        });

        var table = new Table().Border(TableBorder.Rounded).AddColumn("op").AddColumn("shape")
            .AddColumn(new TableColumn("max rel error").RightAligned()).AddColumn("result");
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Op), r.Shape, r.Error is null ? $"{r.MaxRelError:E2}" : "",
                r.Pass ? "[green]pass[/]" : $"[red]FAIL[/] {Markup.Escape(r.Error ?? "")}");
        AnsiConsole.Write(table);
        int failed = rows.Count(r => !r.Pass);
        AnsiConsole.MarkupLine($"{rows.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
