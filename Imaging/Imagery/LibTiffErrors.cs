using System.Text;
using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// LibTiff.NET reports problems through a process-wide handler that prints to the console by default.
/// While a <see cref="Capture"/> is open on a thread, that thread's messages are collected instead (so they
/// can go into an <see cref="ImageFormatException"/>); other threads keep the previous handler.
/// </summary>
internal sealed class LibTiffErrors : TiffErrorHandler
{
    [ThreadStatic] static Scope? current;
    static readonly object Gate = new();
    static TiffErrorHandler? previous;
    static bool installed;

    public sealed class Scope : IDisposable
    {
        readonly Scope? outer;
        public List<string> Errors { get; } = new();
        public List<string> Warnings { get; } = new();
        internal Scope(Scope? outer) => this.outer = outer;
        public bool HasErrors => Errors.Count > 0;
        public string Describe() => Errors.Count == 0 ? "no detail from LibTiff" : string.Join("; ", Errors.Distinct().Take(5));
        public void Dispose() => current = outer;
    }

    public static Scope Capture()
    {
        lock (Gate)
        {
            if (!installed)
            {
                previous = Tiff.SetErrorHandler(new LibTiffErrors());
                installed = true;
            }
        }
        var s = new Scope(current);
        current = s;
        return s;
    }

    static string Format(string method, string format, object[] args)
    {
        string msg;
        try { msg = args is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args) : format; }
        catch (FormatException) { msg = format; }
        return string.IsNullOrEmpty(method) ? msg : $"{method}: {msg}";
    }

    public override void ErrorHandler(Tiff tif, string method, string format, params object[] args)
    {
        if (current is { } s) s.Errors.Add(Format(method, format, args));
        else previous?.ErrorHandler(tif, method, format, args);
    }

    public override void ErrorHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
    {
        if (current is null) previous?.ErrorHandlerExt(tif, clientData, method, format, args);
    }

    public override void WarningHandler(Tiff tif, string method, string format, params object[] args)
    {
        if (current is { } s) s.Warnings.Add(Format(method, format, args));
        else previous?.WarningHandler(tif, method, format, args);
    }

    public override void WarningHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args)
    {
        if (current is null) previous?.WarningHandlerExt(tif, clientData, method, format, args);
    }
}
