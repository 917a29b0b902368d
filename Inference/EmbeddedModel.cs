namespace ILGpuSat.Inference;

/// <summary>
/// A model embedded in this assembly, opened by a reader that takes a path: the resource goes through a private
/// temporary file that is removed as soon as the reader returns. Serves the default colour model and the bundled DeepSUM.
/// </summary>
internal static class EmbeddedModel
{
    /// <summary>
    /// A bundled model by name (one of <paramref name="names"/>, the resource DefaultModel/NAME.safetensors), read by
    /// <paramref name="read"/> from a path with a display name; an unknown name lists the bundled ones.
    /// </summary>
    public static T LoadBundled<T>(string name, IReadOnlyList<string> names, Func<string, string, T> read)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!names.Contains(name))
            throw new ArgumentException($"no bundled colour model '{name}'; bundled: {string.Join(", ", names)} (or pass a weights file).");
        string resource = $"ILGpuSat.Inference.DefaultModel.{name}.safetensors";
        return Load(resource, $"this build of ILGpuSat.Inference has no bundled '{name}' (resource '{resource}'); pass a weights file.",
            path => read(path, $"{name} (bundled)"));
    }

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
