using Spectre.Console;

namespace ILGpuSat.Tools.Cli;

/// <summary>The commands' rule for outputs that exist already: kept (and said so) unless --overwrite.</summary>
public static class ExistingOutput
{
    /// <summary>True when <paramref name="target"/> exists and is kept: the caller skips that input.</summary>
    public static bool Kept(string target, bool overwrite)
    {
        if (overwrite || !File.Exists(target)) return false;
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(target)} exists; kept (use --overwrite to replace it)[/]");
        return true;
    }
}
