using System.Diagnostics;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Tests.Imagery;

/// <summary>
/// Reads mutants of a seed and judges each read by the reader's contract: it decodes, or it throws an
/// <see cref="ImageFormatException"/> naming the file (never through the last-resort catch), or the file
/// system's <see cref="IOException"/>; it returns (a read still running after 20 s is a hang and stops the run); it takes under 3 s and allocates under 256 MiB on its thread; and once a
/// seed's mutants are done no file handle is left open. Anything else is a violation, kept with the mutant's
/// bytes for replay. Used by the suite's short run and by the developers' long run alike.
/// </summary>
public sealed class Fuzzer(string workDir, string? keepViolationsIn = null)
{
    public const long AllocationLimit = 256L << 20;
    public const long TimeLimitMs = 3000;

    public long Tried, Decoded, Rejected, SlowestMs, WorstBytes;
    public List<string> Violations { get; } = new();

    /// <summary>Runs <paramref name="mutants"/> mutants of <paramref name="seed"/> (stopping early at <paramref name="deadline"/>).</summary>
    public void Run(FuzzSeeds.Seed seed, Random rnd, int mutants, DateTime? deadline = null)
    {
        string seedFile = Path.Combine(workDir, $"{seed.Name}.seed.{seed.Extension}");
        if (!File.Exists(seedFile)) seed.Make(seedFile);
        byte[] original = File.ReadAllBytes(seedFile);
        for (int m = 0; m < mutants && (deadline is null || DateTime.UtcNow < deadline); m++)
        {
            byte[] bytes = seed.Mutate(original, rnd);
            string f = Path.Combine(workDir, $"{seed.Name}.m{m}.{seed.Extension}");
            File.WriteAllBytes(f, bytes);
            Tried++;
            bool? decoded = Judge(f, () => ImageReader.Read(f), $"{seed.Name} mutant {m}: Read", bytes);
            if (decoded == true) Decoded++; else if (decoded == false) Rejected++;
            Judge(f, () => ImageReader.ReadSize(f), $"{seed.Name} mutant {m}: ReadSize", bytes);
            File.Delete(f);
        }
        // No GC in between: a handle left to a finalizer would still be open (on a deleted file).
        if (OpenFiles.Supported && OpenFiles.Under(workDir).Where(p => !p.Contains(".seed.")).ToList() is { Count: > 0 } open)
            Violations.Add($"{seed.Name}: {open.Count} file handle(s) left open by failed reads, e.g. {open[0]}");
    }

    /// <summary>A read that did not return within this is a hang: recorded, and the run stops (the thread
    /// cannot be aborted, but a background thread does not keep the test host alive).</summary>
    public const int HangMs = 20_000;

    /// <summary>True decoded, false rejected cleanly, null a violation (recorded).</summary>
    bool? Judge(string f, Action read, string what, byte[] bytes)
    {
        string? problem = null;
        bool? outcome = null;
        long ms = 0, allocated = 0;
        var worker = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            try { read(); outcome = true; }
            catch (ImageFormatException e)
            {
                if (!e.Message.Contains(f, StringComparison.Ordinal)) problem = $"message does not name the file: {e.Message}";
                else if (!IsBadDataSignal(e.InnerException)) problem = $"reached the last-resort catch: {e.Message}";
                else outcome = false;
            }
            catch (IOException e) when (e is not EndOfStreamException) { outcome = false; } // the file system's, not the decoder's
            catch (Exception e) { problem = $"threw {e.GetType().Name}: {e.Message}"; }
            ms = sw.ElapsedMilliseconds;
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default); // a pool thread: a dedicated thread per read costs more than the read
        if (!worker.Wait(HangMs))
        {
            Keep(f, bytes, out string keptAs);
            Violations.Add($"{what} did not return within {HangMs} ms (hang){keptAs}");
            throw new TimeoutException($"{what} hangs{keptAs}; {string.Join("; ", Violations)}");
        }
        SlowestMs = Math.Max(SlowestMs, ms);
        WorstBytes = Math.Max(WorstBytes, allocated);
        if (problem is null && ms >= TimeLimitMs) problem = $"took {ms} ms";
        if (problem is null && allocated >= AllocationLimit) problem = $"allocated {allocated >> 20} MiB";
        if (problem is null) return outcome;
        Keep(f, bytes, out string kept);
        Violations.Add($"{what} {problem}{kept}");
        return null;
    }

    /// <summary>
    /// What a decoder throws by design on bad data (none: our own checks; ImageSharp's content/format
    /// exceptions; zlib's InvalidDataException). Anything else under an ImageFormatException (an index out of
    /// range, a null reference, an invalid cast inside a decoder) is a crash the last-resort catch papered
    /// over: the reader's own checks should have stopped that file first.
    /// </summary>
    static bool IsBadDataSignal(Exception? inner) => inner is null
        or ImageFormatException or InvalidDataException or EndOfStreamException or NotSupportedException
        or SixLabors.ImageSharp.InvalidImageContentException or SixLabors.ImageSharp.UnknownImageFormatException
        or SixLabors.ImageSharp.ImageFormatException;

    void Keep(string f, byte[] bytes, out string keptAs)
    {
        keptAs = "";
        if (keepViolationsIn is null) return;
        Directory.CreateDirectory(keepViolationsIn);
        string kept = Path.Combine(keepViolationsIn, Path.GetFileName(f));
        File.WriteAllBytes(kept, bytes);
        keptAs = $" (kept as {kept})";
    }

    public string Summary(string name) =>
        $"{name}: {Tried} mutants, {Decoded} decoded, {Rejected} rejected, {Violations.Count} violations, "
        + $"slowest {SlowestMs} ms, worst allocation {WorstBytes / 1048576.0:F1} MiB";
}
