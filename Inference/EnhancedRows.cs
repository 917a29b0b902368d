namespace ILGpuSat.Inference;

/// <summary>
/// A block of finished output rows, top to bottom: rows [Y0, Y0 + Rows) of the 4x image, each plane Rows x Width
/// row-major in 0..1 (sRGB). Grey is the grey SR image when asked for; Valid the nodata mask (scaled by nearest),
/// null when every pixel is valid. The arrays are reused for the next block: copy what must be kept.
/// </summary>
public sealed class EnhancedRows
{
    internal EnhancedRows(int width, int capacity, bool grey, bool masked)
    {
        Width = width;
        long n = (long)width * capacity;
        Red = new float[n];
        Green = new float[n];
        Blue = new float[n];
        Grey = grey ? new float[n] : null;
        Valid = masked ? new bool[n] : null;
    }

    public int Y0 { get; internal set; }
    public int Rows { get; internal set; }
    public int Width { get; }
    public float[] Red { get; }
    public float[] Green { get; }
    public float[] Blue { get; }
    public float[]? Grey { get; }
    public bool[]? Valid { get; }
}

/// <summary>Receives the output of <see cref="Enhancer.EnhanceRows"/> as it is finished (e.g. a TIFF written in strips).</summary>
public interface IEnhancedRowSink
{
    void WriteRows(EnhancedRows rows);
}
