namespace ILGpuSat.Tools.Bench;

/// <summary>
/// The process's resident memory from /proc/self/status (Linux), and a reset of its high-water mark
/// (writing 5 to /proc/self/clear_refs), so a benchmark can report what a phase added at its peak the
/// same way for this process and for PyTorch's (Tools/Bench/pytorch_train.py measures itself alike).
/// </summary>
public static class ProcessMemory
{
    /// <summary>VmRSS in bytes, or null where /proc is not there.</summary>
    public static long? ResidentBytes() => Field("VmRSS");

    /// <summary>VmHWM (peak resident set since start or the last reset) in bytes, or null.</summary>
    public static long? PeakResidentBytes() => Field("VmHWM");

    /// <summary>Resets VmHWM to the current resident set; false where the kernel does not allow it.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    private static long? Field(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(name + ":", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }
}
