using System.CommandLine;
using ILGpuSat.Kernels.Cuda;
using ILGpuSat.Common;
using ILGpuSat.Tools.Cli;
using Spectre.Console;

namespace ILGpuSat.Tools.Commands;

/// <summary>
/// `ilgpusat kernels`: compiles every CUDA kernel to PTX for sm_90 (no GPU needed), optionally writes
/// the PTX for reading, and assembles it with ptxas to report registers, shared memory and spills.
/// </summary>
public static class KernelsCommand
{
    public static Command Create()
    {
        var ptxDir = new Option<string?>("--ptx") { Description = "write each kernel's PTX as DIR/<kernel>.ptx" };
        var noPtxas = new Option<bool>("--no-ptxas") { Description = "skip assembling with ptxas (found via $PTXAS, .tools/ptxas, PATH, /usr/local/cuda/bin)" };
        var cmd = new Command("kernels", "Compile every ILGPU kernel for sm_90 (PTX ISA 7.8) and report ptxas resource use") { ptxDir, noPtxas };
        cmd.SetAction(pr => Run(pr.GetValue(ptxDir), pr.GetValue(noPtxas)));
        return cmd;
    }

    private static int Run(string? ptxDir, bool noPtxas)
    {
        IReadOnlyList<PtxKernel> kernels = null!;
        AnsiConsole.Status().Start("compiling kernels to PTX", _ => kernels = PtxExport.CompileAll());
        AnsiConsole.MarkupLine($"compiled {kernels.Count} kernels for sm_90 / PTX ISA 7.8");
        if (ptxDir is not null)
        {
            Directory.CreateDirectory(ptxDir);
            foreach (var k in kernels) AtomicFile.WriteAllText(Path.Combine(ptxDir, k.Name + ".ptx"), k.Ptx);
            AnsiConsole.MarkupLine($"wrote {kernels.Count} PTX files to {Markup.Escape(ptxDir)}");
        }
        if (noPtxas) return 0;

        string? ptxas = Ptxas.Find();
        if (ptxas is null)
            throw new UserError("ptxas not found: set $PTXAS, put it at .tools/ptxas (see .ci/run), or pass --no-ptxas.");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("kernel");
        foreach (var c in new[] { "registers", "shared B", "spill B", "stack B", "assembled" }) table.AddColumn(new TableColumn(c).RightAligned());
        int failures = 0;
        foreach (var k in kernels)
        {
            var r = Ptxas.Assemble(ptxas, k);
            bool bad = !r.Assembled || (k.MustNotSpill && r.SpillBytes > 0);
            if (bad) failures++;
            table.AddRow(Markup.Escape(k.Name) + (k.MustNotSpill ? " [grey](must not spill)[/]" : ""),
                r.Registers.ToString(), r.SharedBytes.ToString(),
                r.SpillBytes > 0 ? $"[red]{r.SpillBytes}[/]" : "0", r.StackFrameBytes.ToString(),
                r.Assembled ? "yes" : "[red]NO[/]");
        }
        AnsiConsole.Write(table);
        if (failures > 0) AnsiConsole.MarkupLine($"[red]{failures} kernel(s) failed to assemble or spilled where they must not[/]");
        return failures == 0 ? 0 : 1;
    }
}
