namespace ILGpuSat.Common;

/// <summary>
/// The one way this project writes a file: into a temporary sibling, flushed to disk, then renamed over
/// the target, so a reader (or a user after a crash, a full disk or a kill) sees the old file or the
/// new one, never half of one. No temporary survives an error; a temporary left by a killed process
/// (its name carries the writer's process id) is removed by the next process's first write into that folder.
/// This file is compiled into every project that writes files (Engine, Imaging, Training, Tools) so
/// that no layer depends on another just to write safely.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, which gets the temporary file's stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteVia(path, temp =>
        {
            // Read access too: some writers (LibTiff) read back what they wrote.
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            write(stream);
        });
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    public static void WriteAllLines(string path, IEnumerable<string> lines) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); foreach (var l in lines) w.WriteLine(l); });

    /// <summary>
    /// For writers that need a file name rather than a stream (LibTiff opens its own file):
    /// <paramref name="writeFile"/> creates and fills the temporary path it is given; it is flushed to
    /// disk and renamed over <paramref name="path"/> afterwards.
    /// </summary>
    public static void WriteVia(string path, Action<string> writeFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(writeFile);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"'{full}' is a directory, not a file"); // before anything is created
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string name = Path.GetFileName(full);
        RemoveStaleTemporaries(dir);
        string temp = Path.Combine(dir, $"{TempPrefix(name)}{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            writeFile(temp);
            FlushToDisk(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            try { if (File.Exists(temp)) File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Hidden (dot) prefix shared by every temporary of one target.</summary>
    internal static string TempPrefix(string fileName) => $".{fileName}.";

    /// <summary>Folders already cleaned by this process: scanning a folder on every write would cost
    /// O(files) per write, O(n^2) for a run that writes thousands of outputs into one folder.</summary>
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Cleaned = new(StringComparer.Ordinal);

    /// <summary>
    /// On this process's first write into <paramref name="dir"/>: deletes every temporary of ours there
    /// (any target) whose writing process no longer runs. A temporary left by a killed run is so removed by
    /// the next run's first write; files of a live process and files not named like ours are left alone.
    /// </summary>
    internal static int RemoveStaleTemporaries(string dir)
    {
        if (!Cleaned.TryAdd(dir, true)) return 0;
        int removed = 0;
        List<string> candidates;
        try { candidates = Directory.EnumerateFiles(dir, ".*.tmp").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        foreach (var f in candidates)
        {
            // Name: .<target>.<pid>.<32 hex>.tmp; anything else is not ours.
            var parts = Path.GetFileName(f)[1..^4].Split('.');
            if (parts.Length < 3 || parts[^1].Length != 32 || !parts[^1].All(Uri.IsHexDigit) || !int.TryParse(parts[^2], out int pid)) continue;
            if (IsRunning(pid)) continue;
            try { File.Delete(f); removed++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true; // another write of this process may be in flight
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }   // no such process
        catch (InvalidOperationException) { return false; }
    }

    static void FlushToDisk(string file)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1);
        fs.Flush(flushToDisk: true);
    }
}
