using System.CommandLine;
using ILGpuSat.Tools.Cli;
using ILGpuSat.Tools.Commands;
using Spectre.Console;

namespace ILGpuSat.Tools;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("ILGpuSat: 4x super-resolution and colorization of grey satellite imagery on a managed GPU/CPU engine")
        {
            BenchCommand.Create(),
            ProfileCommand.Create(),
            KernelsCommand.Create(),
            SelfTestCommand.Create(),
            PriorCommand.Create(),
            TrainCommand.Create(),
            ModelsCommand.Create(),
            ExportCommand.Create(),
            EnhanceCommand.Create(),
            MisrCommand.Create(),
            FuseSarCommand.Create(),
            ColorizeCommand.Create(),
            EvalCommand.Create(),
        };
        // Tables wrap at 80 columns when output goes to a file or pipe; give them room instead.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        try
        {
            // System.CommandLine's own handler would print a stack trace and exit 1; errors are handled below instead.
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Unwrap(e) is UserError or ArgumentException or IOException or InvalidDataException or InvalidOperationException or NotSupportedException or Imaging.Imagery.ImageFormatException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(Unwrap(e).Message)}");
            return 1;
        }
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerExceptions[0]) : e;
}
