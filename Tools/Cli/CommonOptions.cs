using System.CommandLine;
using ILGpuSat.Kernels;

namespace ILGpuSat.Tools.Cli;

/// <summary>Options shared by several commands.</summary>
public static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = "cpu, cuda, or auto (CUDA when a device is present, else the managed CPU backend)",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>Creates the backend or throws a <see cref="UserError"/> that says what to try.</summary>
    public static Backend CreateBackend(string device)
    {
        if (device is not ("cpu" or "cuda" or "auto"))
            throw new UserError($"--device must be cpu, cuda or auto, not '{device}'.");
        return Backends.Create(device);
    }
}
