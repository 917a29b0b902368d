using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// What the first image directory of a TIFF declares, as read and checked by <see cref="TiffStructure"/> before
/// LibTiff opens the file: the raster size and sample layout, and how the pixel data is cut into strips or tiles.
/// </summary>
internal sealed record TiffLayout
{
    public required bool BigTiff { get; init; }
    public required bool LittleEndian { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required int SamplesPerPixel { get; init; }
    public required int BitsPerSample { get; init; }
    public required SampleFormat SampleFormat { get; init; }
    public required Compression Compression { get; init; }
    /// <summary>Null when the tag is absent (LibTiff then guesses from the samples per pixel).</summary>
    public required Photometric? Photometric { get; init; }
    public required PlanarConfig Planar { get; init; }
    public required bool Tiled { get; init; }
    /// <summary>Tile width, or the image width for strips.</summary>
    public required int ChunkWidth { get; init; }
    /// <summary>Tile length, or rows per strip (at most the image height).</summary>
    public required int ChunkHeight { get; init; }
    /// <summary>Strips or tiles in the file, all planes together.</summary>
    public required int ChunkCount { get; init; }

    /// <summary>"TIFF" or "BigTIFF": every message about the file names the format actually found.</summary>
    public string Format => BigTiff ? "BigTIFF" : "TIFF";
}
