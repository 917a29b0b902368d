namespace ILGpuSat.Tools.Cli;

/// <summary>An error caused by the user's input or machine: printed without a stack trace, exit code 1.</summary>
public sealed class UserError(string message) : Exception(message);
