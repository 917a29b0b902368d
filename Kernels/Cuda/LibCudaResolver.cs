using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace ILGpuSat.Kernels.Cuda;

/// <summary>
/// Finds the NVIDIA driver library for ILGPU. ILGPU imports the driver API as "cuda", which .NET probes
/// only as libcuda.so: the unversioned name that exists only where a CUDA toolkit's dev symlink was
/// installed. The driver itself ships libcuda.so.1, often in a directory the loader does not search
/// (containers mount it under /usr/local/nvidia). This resolver maps the import to the first that loads of
/// libcuda.so.1 (through the loader, then in the usual driver directories) and only then libcuda.so, so a
/// user never needs a symlink and a toolkit's stub libcuda.so is never preferred to the driver.
/// </summary>
public static class LibCudaResolver
{
    private static readonly object Gate = new();
    private static bool _registered;
    private static bool _probed;
    private static IntPtr _handle;
    private static string? _path;

    /// <summary>Directories holding libcuda.so.1 on common Linux installs and containers.</summary>
    public static readonly IReadOnlyList<string> DriverDirectories =
    [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu",
        "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib", "/usr/lib/aarch64-linux-gnu",
    ];

    /// <summary>Everything tried, in order (for error messages).</summary>
    public static IReadOnlyList<string> Candidates
    {
        get
        {
            if (OperatingSystem.IsWindows()) return ["nvcuda.dll"];
            // The driver's own soname first, everywhere: a CUDA toolkit ships a link-time stub named
            // libcuda.so (in .../stubs) that loads but fails cuInit with "no CUDA device", so the
            // unversioned name is tried only after every libcuda.so.1.
            var list = new List<string> { "libcuda.so.1" };
            foreach (var dir in DriverDirectories) list.Add(Path.Combine(dir, "libcuda.so.1"));
            list.Add("libcuda.so");
            foreach (var dir in DriverDirectories) list.Add(Path.Combine(dir, "libcuda.so"));
            return list;
        }
    }

    /// <summary>Installs the resolver on the ILGPU assembly (once; call before the first ILGPU Context).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            _registered = true;
            if (OperatingSystem.IsWindows()) return; // nvcuda.dll sits in System32, where Windows looks anyway
            if (IsWsl()) return;                     // ILGPU installs its own resolver for /usr/lib/wsl/lib there
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // Someone (a host application) registered a resolver for ILGPU first: theirs wins.
            }
        }
    }

    /// <summary>Loads the driver library if it can be found; <paramref name="path"/> names what was loaded.</summary>
    public static bool TryLoad(out string? path)
    {
        lock (Gate)
        {
            if (!_probed)
            {
                _probed = true;
                _path = Probe(Candidates, out _handle);
            }
            path = _path;
            return _handle != IntPtr.Zero;
        }
    }

    /// <summary>
    /// Loads the first candidate that exists and loads (a bare name goes through the system loader's search,
    /// a rooted path must exist); returns its name and handle, or null and zero.
    /// </summary>
    public static string? Probe(IEnumerable<string> candidates, out IntPtr handle)
    {
        foreach (var candidate in candidates)
        {
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate)) continue;
            if (NativeLibrary.TryLoad(candidate, out handle)) return candidate;
        }
        handle = IntPtr.Zero;
        return null;
    }

    /// <summary>"What was searched" for an error message.</summary>
    public static string SearchDescription =>
        OperatingSystem.IsWindows() ? "nvcuda.dll" : $"libcuda.so.1, then libcuda.so (loader path and {string.Join(", ", DriverDirectories)})";

    private static bool IsWsl()
    {
        try
        {
            const string release = "/proc/sys/kernel/osrelease";
            return File.Exists(release) && File.ReadAllText(release).Contains("microsoft", StringComparison.OrdinalIgnoreCase);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName is not ("cuda" or "libcuda" or "libcuda.so" or "libcuda.so.1")) return IntPtr.Zero;
        return TryLoad(out _) ? _handle : IntPtr.Zero; // zero: fall back to the default probing (and ILGPU's own error)
    }
}
