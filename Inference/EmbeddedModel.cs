namespace ILGpuSat.Inference;

/// <summary>
/// A model embedded in this assembly, opened by a reader that takes a path: the resource goes through a private
/// temporary file that is removed as soon as the reader returns. Serves the default colour model and the bundled DeepSUM.
/// </summary>
internal static class EmbeddedModel
{
    public static T Load<T>(string resourceName, string missing, Func<string, T> read)
    {
        using var resource = typeof(EmbeddedModel).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(missing);
        string temp = Path.Combine(Path.GetTempPath(), $"ilgpusat-{Path.GetFileNameWithoutExtension(resourceName)}-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var file = File.Create(temp)) resource.CopyTo(file);
            return read(temp);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
