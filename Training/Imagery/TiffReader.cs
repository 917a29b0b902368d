namespace ILGpuSat.Training.Imagery;

internal static class TiffReader
{
    public static RasterImage Read(string path, long length, ReadOptions o)
        => throw new ImageFormatException(path, "TIFF reading is being implemented");
}
