using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace ILGpuSat.Tests.Common;

/// <summary>
/// Where the repository and the shared data are, for tests, without naming any machine's path: the
/// repository root is the folder above the test binaries (or above this source file) that holds
/// ILGpuSat.sln (or ILGPUSAT_REPO); the shared data is its sibling <c>../shared/data</c> (or
/// ILGPUSAT_SHARED_DATA). Tests that need shared data are skipped, saying where they looked, when it is absent.
/// Compiled into each test project that needs it.
/// </summary>
internal static class RepositoryPaths
{
    static readonly Lazy<string> root = new(FindRoot);

    public static string Root => root.Value;

    /// <summary>The shared data folder, or null when it is not there.</summary>
    public static string? SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("ILGPUSAT_SHARED_DATA");
            if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
            var dir = SharedDataCandidate;
            return Directory.Exists(dir) ? dir : null;
        }
    }

    static string SharedDataCandidate => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>A file or folder under the shared data (e.g. "satellite/AID"); the calling test is
    /// skipped (Assert.Ignore) with a message saying what is missing and where it was looked for.</summary>
    public static string RequireSharedData(string relative)
    {
        var data = SharedData;
        string where = data is null ? SharedDataCandidate : Path.Combine(data, relative);
        if (data is null || !(File.Exists(where) || Directory.Exists(where)))
            Assert.Ignore($"skipped: needs the shared data '{relative}' (the repository's sibling ../shared/data, or ILGPUSAT_SHARED_DATA); not found at {where}");
        return where;
    }

    static string FindRoot()
    {
        var starts = new[] { Environment.GetEnvironmentVariable("ILGPUSAT_REPO"), AppContext.BaseDirectory, ThisFile() };
        foreach (var s in starts)
        {
            if (string.IsNullOrEmpty(s)) continue;
            for (var d = new DirectoryInfo(s); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "ILGpuSat.sln"))) return d.FullName;
        }
        throw new DirectoryNotFoundException("the repository root (the folder holding ILGpuSat.sln) was not found above " + string.Join(", ", starts));
    }

    static string ThisFile([CallerFilePath] string path = "") => path;
}
