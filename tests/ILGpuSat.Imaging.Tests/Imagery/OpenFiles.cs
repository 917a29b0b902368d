namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// This process's open file descriptors, from /proc/self/fd (Linux), to catch readers that leave files open.
/// Counting only the descriptors on a test's own folder keeps the runtime's lazy opens (assemblies, pipes) out of it.
/// </summary>
public static class OpenFiles
{
    const string Fds = "/proc/self/fd";

    public static bool Supported => Directory.Exists(Fds);

    public static int Count => Directory.GetFileSystemEntries(Fds).Length;

    /// <summary>Open descriptors on files under <paramref name="folder"/> (deleted files included).</summary>
    public static List<string> Under(string folder)
    {
        var found = new List<string>();
        foreach (var fd in Directory.GetFileSystemEntries(Fds))
        {
            string? target;
            try { target = new FileInfo(fd).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // closed meanwhile
            if (target is not null && target.StartsWith(folder, StringComparison.Ordinal)) found.Add(target);
        }
        return found;
    }
}
