namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// An image file could not be read or written: unsupported, truncated, empty or self-contradictory.
/// The message always names the file and the problem.
/// </summary>
public sealed class ImageFormatException : Exception
{
    public string? FilePath { get; }

    /// <summary>The message without the file name, so a caller can put a check's finding into its own sentence.</summary>
    public string Problem { get; }

    public ImageFormatException(string? filePath, string problem, Exception? inner = null)
        : base($"{(filePath is null ? "image" : $"'{filePath}'")}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }
}
