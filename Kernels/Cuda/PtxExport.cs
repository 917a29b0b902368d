using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;

namespace ILGpuSat.Kernels.Cuda;

/// <summary>One kernel compiled to PTX.</summary>
public sealed record PtxKernel(string Name, MethodInfo Method, KernelGrouping Grouping, bool MustNotSpill, string Ptx);

/// <summary>
/// Compiles every kernel of the CUDA backend (each static method marked <see cref="CudaKernelAttribute"/>
/// in this assembly) to PTX for an explicit architecture, without a GPU or driver: ILGPU's PTX backend is
/// pure managed code. The default target is sm_90 with PTX ISA 7.8 (what CUDA 11.8 assembles), the
/// production GPU; the same context settings as the runtime backend are used, so the PTX is what a
/// CUDA device would JIT.
/// </summary>
public static class PtxExport
{
    /// <summary>Every registered kernel method, ordered by name.</summary>
    public static IReadOnlyList<MethodInfo> RegisteredKernels() =>
        typeof(CudaBackend).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<CudaKernelAttribute>() is not null)
            .OrderBy(KernelName, StringComparer.Ordinal)
            .ToArray();

    /// <summary>"DeclaringType.Method", the name used in tables and file names.</summary>
    public static string KernelName(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}";

    /// <summary>Compiles every registered kernel. A kernel that fails to compile throws, naming it.</summary>
    public static IReadOnlyList<PtxKernel> CompileAll(CudaArchitecture? architecture = null, CudaInstructionSet? instructionSet = null)
    {
        var arch = architecture ?? CudaArchitecture.SM_90;
        var isa = instructionSet ?? CudaInstructionSet.ISA_78;
        using var context = Context.Create(b => Backends.Configure(b));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, isa, nvvmAPI: null);
        var result = new List<PtxKernel>();
        foreach (var method in RegisteredKernels())
        {
            var attr = method.GetCustomAttribute<CudaKernelAttribute>()!;
            try
            {
                var entry = attr.Grouping == KernelGrouping.Explicit
                    ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
                    : EntryPointDescription.FromImplicitlyGroupedKernel(method);
                var compiled = (PTXCompiledKernel)backend.Compile(entry, default);
                result.Add(new PtxKernel(KernelName(method), method, attr.Grouping, attr.MustNotSpill, compiled.PTXAssembly));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"PTX export: kernel {KernelName(method)} failed to compile for {arch}/{isa}: {e.Message}", e);
            }
        }
        return result;
    }

    /// <summary>name -> PTX text of every registered kernel.</summary>
    public static IReadOnlyDictionary<string, string> Export(CudaArchitecture? architecture = null, CudaInstructionSet? instructionSet = null) =>
        CompileAll(architecture, instructionSet).ToDictionary(k => k.Name, k => k.Ptx, StringComparer.Ordinal);

    /// <summary>Writes one NAME.ptx file per kernel into <paramref name="directory"/>; returns the paths.</summary>
    public static IReadOnlyList<string> WriteAll(string directory, CudaArchitecture? architecture = null, CudaInstructionSet? instructionSet = null)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var k in CompileAll(architecture, instructionSet))
        {
            string path = Path.Combine(directory, k.Name + ".ptx");
            File.WriteAllText(path, k.Ptx);
            paths.Add(path);
        }
        return paths;
    }
}

/// <summary>What ptxas -v reports for one PTX module (spills and stack summed over its functions).</summary>
public sealed record PtxasReport(string Kernel, bool Assembled, int Registers, int SharedBytes, int SpillStoreBytes, int SpillLoadBytes,
    int StackFrameBytes, string Log)
{
    public int SpillBytes => SpillStoreBytes + SpillLoadBytes;
}

/// <summary>Runs NVIDIA's PTX assembler on exported kernels and reads its resource report.</summary>
public static partial class Ptxas
{
    /// <summary>
    /// ptxas from $PTXAS, a <c>.tools/ptxas</c> in the working directory, the application directory or one
    /// of their parents (the repository keeps one there), PATH, or /usr/local/cuda/bin; null when none exists.
    /// <paramref name="searchFrom"/> adds directories to walk up from (tests pass their source directory,
    /// since they run from a copy of the build output).
    /// </summary>
    public static string? Find(params string?[] searchFrom)
    {
        var env = Environment.GetEnvironmentVariable("PTXAS");
        if (!string.IsNullOrEmpty(env) && File.Exists(env)) return env;
        string exe = OperatingSystem.IsWindows() ? "ptxas.exe" : "ptxas";
        foreach (var start in searchFrom.Append(Environment.CurrentDirectory).Append(AppContext.BaseDirectory))
            for (var dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                string candidate = Path.Combine(dir, ".tools", exe);
                if (File.Exists(candidate)) return candidate;
            }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string candidate = Path.Combine(dir, exe);
            if (File.Exists(candidate)) return candidate;
        }
        string cuda = Path.Combine("/usr/local/cuda/bin", exe);
        return File.Exists(cuda) ? cuda : null;
    }

    /// <summary>Assembles one kernel with <c>ptxas -arch=ARCH -v</c> and parses the report.</summary>
    public static PtxasReport Assemble(string ptxasPath, PtxKernel kernel, string arch = "sm_90")
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ilgpusat-ptxas-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string ptx = Path.Combine(dir, kernel.Name + ".ptx");
        string cubin = Path.ChangeExtension(ptx, ".cubin");
        File.WriteAllText(ptx, kernel.Ptx);
        try
        {
            var psi = new ProcessStartInfo(ptxasPath, [$"-arch={arch}", "-v", ptx, "-o", cubin])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var proc = Process.Start(psi) ?? throw new InvalidOperationException($"ptxas: could not start {ptxasPath}.");
            var stdout = proc.StandardOutput.ReadToEndAsync();
            string log = proc.StandardError.ReadToEnd() + stdout.Result;
            proc.WaitForExit();
            return Parse(kernel.Name, proc.ExitCode == 0, log);
        }
        finally
        {
            File.Delete(ptx);
            if (File.Exists(cubin)) File.Delete(cubin);
        }
    }

    /// <summary>
    /// Reads "Used N registers", "N bytes smem", "N bytes stack frame, N bytes spill stores, N bytes spill
    /// loads" from a ptxas -v log. Registers and shared memory are the maximum over the module's entries;
    /// stack and spills are summed over every function (non-inlined helpers spill too).
    /// </summary>
    public static PtxasReport Parse(string kernel, bool assembled, string log)
    {
        int registers = 0, smem = 0, stack = 0, stores = 0, loads = 0;
        foreach (Match m in UsedRegex().Matches(log))
        {
            registers = Math.Max(registers, Int(m.Groups[1]));
            if (m.Groups[2].Success) smem = Math.Max(smem, Int(m.Groups[2]));
        }
        foreach (Match m in PropertiesRegex().Matches(log))
        {
            stack += Int(m.Groups[1]);
            stores += Int(m.Groups[2]);
            loads += Int(m.Groups[3]);
        }
        return new PtxasReport(kernel, assembled && registers > 0, registers, smem, stores, loads, stack, log);

        static int Int(System.Text.RegularExpressions.Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);
    }

    /// <summary>A fixed-width table of reports (kernel, registers, shared bytes, spill bytes, stack bytes).</summary>
    public static string Table(IEnumerable<PtxasReport> reports)
    {
        var list = reports.ToList();
        int w = Math.Max(6, list.Count == 0 ? 0 : list.Max(r => r.Kernel.Length));
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{"kernel".PadRight(w)}  regs  smem B  spill st B  spill ld B  stack B  ok");
        foreach (var r in list)
            sb.AppendLine($"{r.Kernel.PadRight(w)}  {r.Registers,4}  {r.SharedBytes,6}  {r.SpillStoreBytes,10}  {r.SpillLoadBytes,10}  {r.StackFrameBytes,7}  {(r.Assembled ? "yes" : "NO")}");
        return sb.ToString();
    }

    [GeneratedRegex(@"Used (\d+) registers(?:, (?:\d+ bytes \w+\[\d+\], )*?(\d+) bytes smem)?")]
    private static partial Regex UsedRegex();

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex PropertiesRegex();
}
