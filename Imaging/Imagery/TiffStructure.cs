using System.Buffers.Binary;
using BitMiracle.LibTiff.Classic;

namespace ILGpuSat.Imaging.Imagery;

/// <summary>
/// Independent check of a TIFF's first image file directory before LibTiff sees it. LibTiff sizes its strip and
/// tile tables from the header alone (ImageLength 2^31-1 at one row per strip asks for 16 GiB, from a 140-byte
/// file), converts tag values with casts that throw on a type or count it did not expect, and quietly "repairs"
/// tables that disagree with the header. So this reads the directory itself, in classic TIFF and BigTIFF of
/// either byte order: every tag's data must lie inside the file; the tags that give the raster's size and
/// layout must have the types, counts and values LibTiff reads the same way; the raster must fit the limits of
/// <see cref="ReadOptions"/>; and the strip or tile tables must hold exactly the number of entries the header
/// implies, each inside the file, with enough bytes to decode to the declared raster. What passes comes back
/// as a <see cref="TiffLayout"/>.
/// </summary>
internal static class TiffStructure
{
    const int MaxEntries = 4096;
    const int BYTE = 1, SHORT = 3, LONG = 4, LONG8 = 16;

    static readonly int[] TypeSizes = { 0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8 };
    static readonly string[] TypeNames =
        { "", "BYTE", "ASCII", "SHORT", "LONG", "RATIONAL", "SBYTE", "UNDEFINED", "SSHORT", "SLONG", "SRATIONAL", "FLOAT", "DOUBLE", "IFD", "", "", "LONG8", "SLONG8", "IFD8" };

    /// <summary>The tags read here, by the names the TIFF specification gives them.</summary>
    static readonly Dictionary<int, string> Names = new()
    {
        [256] = "ImageWidth", [257] = "ImageLength", [258] = "BitsPerSample", [259] = "Compression",
        [262] = "PhotometricInterpretation", [273] = "StripOffsets", [277] = "SamplesPerPixel", [278] = "RowsPerStrip",
        [279] = "StripByteCounts", [284] = "PlanarConfiguration", [317] = "Predictor", [320] = "ColorMap",
        [322] = "TileWidth", [323] = "TileLength", [324] = "TileOffsets", [325] = "TileByteCounts",
        [338] = "ExtraSamples", [339] = "SampleFormat", [530] = "YCbCrSubsampling", [32997] = "ImageDepth", [32998] = "TileDepth",
    };

    /// <summary>Checks the file behind <paramref name="stream"/> (positioned anywhere; it is read, not closed).</summary>
    public static TiffLayout Check(string path, Stream stream, long fileLength, ReadOptions o)
    {
        try { return new Ifd(path, stream, fileLength).Layout(o); }
        catch (EndOfStreamException)
        {
            // Every read is bounds-checked against fileLength first, so only a file shrinking under us gets here.
            throw new ImageFormatException(path, $"file ended while its TIFF directory was being read (it had {fileLength} bytes: was it truncated meanwhile?)");
        }
    }

    static string Name(int tag) => Names.TryGetValue(tag, out var n) ? $"tag {tag} ({n})" : $"tag {tag}";

    static string TypeName(int type) => type > 0 && type < TypeNames.Length && TypeNames[type].Length > 0 ? $"type {TypeNames[type]}" : $"unknown type {type}";

    static string Expected(int[] types) => types.Length == 1 ? TypeNames[types[0]]
        : string.Join(", ", types[..^1].Select(t => TypeNames[t])) + " or " + TypeNames[types[^1]];

    readonly record struct Entry(int Tag, int Type, ulong Count, int FieldPos);

    /// <summary>The first image directory of one file: its entries, read once, and the rules that apply to them.</summary>
    sealed class Ifd
    {
        readonly string path;
        readonly Stream stream;
        readonly long length;
        readonly bool little, big;
        readonly byte[] dir = Array.Empty<byte>();
        readonly Dictionary<int, Entry> entries = new();

        string Format => big ? "BigTIFF" : "TIFF";
        int ValueSize => big ? 8 : 4;
        int HeaderSize => big ? 16 : 8;

        ImageFormatException Fail(string problem) => new(path, $"{Format} {problem}");

        public Ifd(string path, Stream stream, long length)
        {
            this.path = path;
            this.stream = stream;
            this.length = length;
            Span<byte> head = stackalloc byte[16];
            stream.Position = 0;
            int got = stream.ReadAtLeast(head[..8], 8, throwOnEndOfStream: false);
            little = got > 0 && head[0] == 'I';
            big = got >= 4 && U16(head[2..]) == 43;
            if (got < 8) throw Fail($"header truncated ({length} bytes, a header needs {HeaderSize})");
            ulong ifd;
            if (big)
            {
                if (stream.ReadAtLeast(head[8..], 8, throwOnEndOfStream: false) < 8) throw Fail($"header truncated ({length} bytes, a header needs 16)");
                if (U16(head[4..]) != 8 || U16(head[6..]) != 0)
                    throw Fail($"header declares {U16(head[4..])}-byte offsets (BigTIFF has 8): corrupt header");
                ifd = U64(head[8..]);
            }
            else ifd = U32(head[4..]);

            int countSize = big ? 8 : 2, entrySize = big ? 20 : 12;
            if (ifd < (ulong)HeaderSize || ifd > (ulong)length || (long)ifd + countSize > length)
                throw Fail($"image directory offset {ifd} lies outside the file ({length} bytes): truncated or corrupt file");
            var countBytes = new byte[countSize];
            stream.Position = (long)ifd;
            stream.ReadExactly(countBytes);
            ulong n = big ? U64(countBytes) : U16(countBytes);
            if (n == 0 || n > MaxEntries)
                throw Fail($"image directory declares {n} entries (expected 1..{MaxEntries}): corrupt file");
            if ((long)ifd + countSize + (long)n * entrySize > length)
                throw Fail($"image directory at byte {ifd} with {n} entries runs past the end of the file ({length} bytes): truncated file");
            dir = new byte[(int)n * entrySize];
            stream.ReadExactly(dir);

            for (int e = 0; e < (int)n; e++)
            {
                int p = e * entrySize;
                int tag = U16(dir.AsSpan(p)), type = U16(dir.AsSpan(p + 2));
                ulong count = big ? U64(dir.AsSpan(p + 4)) : U32(dir.AsSpan(p + 4));
                int fieldPos = p + 4 + (big ? 8 : 4);
                int size = type < TypeSizes.Length ? TypeSizes[type] : 0;
                if (size > 0 && count > (ulong)ValueSize / (ulong)size)
                {
                    ulong offset = big ? U64(dir.AsSpan(fieldPos)) : U32(dir.AsSpan(fieldPos));
                    if (count > (ulong)length || offset > (ulong)length || count * (ulong)size > (ulong)length - offset)
                        throw Fail($"{Name(tag)} declares {count} values ({(double)count * size} bytes) at offset {offset}, past the end of the file ({length} bytes): truncated or corrupt file");
                }
                // LibTiff keeps counts in an int: a larger one turns negative and breaks its array sizes.
                if (count > int.MaxValue) throw Fail($"{Name(tag)} declares {count} values, more than LibTiff can index: corrupt file");
                if (entries.ContainsKey(tag))
                {
                    if (Names.ContainsKey(tag)) throw Fail($"{Name(tag)} appears twice in the image directory: corrupt file");
                    continue; // LibTiff reads one of them; this reader does not use the tag
                }
                entries[tag] = new Entry(tag, type, count, fieldPos);
            }
        }

        public TiffLayout Layout(ReadOptions o)
        {
            long spp = (long)Scalar(277, new[] { SHORT }, 1)!.Value;
            long width = (long)(Scalar(256, new[] { SHORT, LONG }, null) ?? throw Fail("has no ImageWidth (tag 256)"));
            long height = (long)(Scalar(257, new[] { SHORT, LONG }, null) ?? throw Fail("has no ImageLength (tag 257)"));
            try { ImageReader.CheckDimensions(path, width, height, spp, o); }
            catch (ImageFormatException e) { throw Fail($"header: {e.Problem}"); }

            ulong bitsValue = PerSample(258, new[] { SHORT, LONG }, 1, spp);
            if (bitsValue is < 1 or > 64) throw Fail($"BitsPerSample {bitsValue} is invalid (expected 1..64)");
            int bits = (int)bitsValue;
            ulong format = PerSample(339, new[] { SHORT }, 1, spp);
            if (format is < 1 or > 6) throw Fail($"SampleFormat {format} is invalid (expected 1..6)");
            ulong compression = PerSample(259, new[] { SHORT, LONG }, 1, spp);
            ulong? photometric = Scalar(262, new[] { SHORT, LONG }, null);
            ulong planar = Scalar(284, new[] { SHORT }, 1)!.Value;
            if (planar is not (1 or 2)) throw Fail($"PlanarConfiguration {planar} is invalid (expected 1 or 2)");
            // LibTiff converts the predictor to a byte: a larger value throws inside it.
            ulong predictor = Scalar(317, new[] { SHORT }, 1)!.Value;
            if (predictor is < 1 or > 3) throw Fail($"Predictor {predictor} is invalid (expected 1, 2 or 3)");
            foreach (int depthTag in new[] { 32997, 32998 })
                if (Scalar(depthTag, new[] { SHORT, LONG }, 1)!.Value is var depth and not 1)
                    throw Fail($"{Name(depthTag)} is {depth}: volumetric images are not supported");
            CheckExtraSamples(spp);
            if (photometric == 3 && bits <= 16) CheckColorMap(bits);
            if (photometric == 6) CheckSubsampling();

            bool tiled = entries.ContainsKey(322) || entries.ContainsKey(323);
            int planes = planar == 2 ? (int)spp : 1;
            long chunkW, chunkH, across, down;
            if (tiled)
            {
                if (!entries.ContainsKey(322) || !entries.ContainsKey(323))
                    throw Fail($"has {(entries.ContainsKey(322) ? "TileWidth but no TileLength" : "TileLength but no TileWidth")}: corrupt file");
                chunkW = (long)Scalar(322, new[] { SHORT, LONG }, null)!.Value;
                chunkH = (long)Scalar(323, new[] { SHORT, LONG }, null)!.Value;
                foreach (var (v, tag) in new[] { (chunkW, 322), (chunkH, 323) })
                    if (v is < 1 or > int.MaxValue) throw Fail($"{Name(tag)} {v} is invalid (expected 1..{int.MaxValue})");
                across = (width + chunkW - 1) / chunkW;
                down = (height + chunkH - 1) / chunkH;
            }
            else
            {
                ulong rps = Scalar(278, new[] { SHORT, LONG }, uint.MaxValue)!.Value;
                // LibTiff keeps RowsPerStrip in an int and treats only 2^32-1 (all -1 bits) as "one strip".
                if (rps == 0 || (rps > int.MaxValue && rps != uint.MaxValue))
                    throw Fail($"RowsPerStrip {rps} is invalid (expected 1..{int.MaxValue}, or {uint.MaxValue} for a single strip)");
                chunkW = width;
                chunkH = Math.Min((long)rps, height);
                across = 1;
                down = (height + chunkH - 1) / chunkH;
            }
            long chunks = across * down * planes; // at most Width*Height*bands: no overflow after CheckDimensions

            string chunk = tiled ? "tile" : "strip";
            int offsetsTag = tiled ? 324 : 273, countsTag = tiled ? 325 : 279;
            var offsetTypes = tiled ? (big ? new[] { LONG, LONG8 } : new[] { LONG }) : (big ? new[] { SHORT, LONG, LONG8 } : new[] { SHORT, LONG });
            var countTypes = big ? new[] { SHORT, LONG, LONG8 } : new[] { SHORT, LONG };
            string implied = tiled
                ? $"{across} x {down} tiles of {chunkW}x{chunkH} for {width}x{height} pixels"
                : $"ImageLength {height} / RowsPerStrip {chunkH}";
            if (planes > 1) implied += $", x {planes} planes";
            var offsets = Table(offsetsTag, offsetTypes, chunks, chunk, implied);
            var counts = Table(countsTag, countTypes, chunks, chunk, implied);

            Int128 sum = 0;
            for (int i = 0; i < offsets.Length; i++)
            {
                ulong off = offsets[i], c = counts[i];
                if (c == 0) throw Fail($"{chunk} {i} has no data (byte count 0): sparse or truncated file");
                if (off < (ulong)HeaderSize || off > (ulong)length || c > (ulong)length - off)
                    throw Fail($"{chunk} {i} spans bytes {off}..{(UInt128)off + c} but the file has {length} bytes: truncated file");
                sum += c;
            }
            long total = sum > long.MaxValue ? long.MaxValue : (long)sum;

            // What LibTiff decodes: whole strips, or whole (padded) tiles; per plane for planar data.
            long chunkSpp = planar == 2 ? 1 : spp;
            Int128 RowBytes(long w) => ((Int128)w * chunkSpp * bits + 7) / 8;
            Int128 raster = RowBytes(width) * height * planes;
            Int128 decoded = tiled ? RowBytes(chunkW) * chunkH * chunks : raster;
            if (compression == 1 && total < raster)
                throw Fail($"holds {total} bytes of uncompressed pixel data but its header declares {raster} ({width}x{height} pixels x {spp} samples x {bits} bits): truncated file or lying header");
            try { ImageReader.CheckExpansion(path, decoded > long.MaxValue ? long.MaxValue : (long)decoded, total, $"{chunk} data"); }
            catch (ImageFormatException e) { throw Fail($"header: {e.Problem}"); }

            return new TiffLayout
            {
                BigTiff = big,
                LittleEndian = little,
                Width = (int)width,
                Height = (int)height,
                SamplesPerPixel = (int)spp,
                BitsPerSample = bits,
                SampleFormat = (SampleFormat)format,
                Compression = (Compression)compression,
                Photometric = photometric is { } p ? (Photometric)p : null,
                Planar = (PlanarConfig)planar,
                Tiled = tiled,
                ChunkWidth = (int)chunkW,
                ChunkHeight = (int)chunkH,
                ChunkCount = (int)chunks,
            };
        }

        /// <summary>A strip or tile table: present, of a type LibTiff reads, with exactly one entry per chunk.</summary>
        ulong[] Table(int tag, int[] types, long chunks, string chunk, string implied)
        {
            if (!entries.TryGetValue(tag, out var e)) throw Fail($"has no {Names[tag]} (tag {tag})");
            RequireType(e, types);
            // LibTiff allocates the table for the implied count and pads or trims the file's: both must agree.
            if (e.Count != (ulong)chunks)
                throw Fail($"{Name(tag)} has {e.Count} {(e.Count == 1 ? "entry" : "entries")} but the header implies {chunks} {chunk}s ({implied}): truncated file or lying header");
            return Values(e);
        }

        void CheckExtraSamples(long spp)
        {
            if (!entries.TryGetValue(338, out var e)) return;
            RequireType(e, new[] { SHORT, BYTE });
            // LibTiff gives up on the whole directory, without a word, when this tag is empty.
            if (e.Count == 0) throw Fail($"{Name(338)} has no values: corrupt file");
            if (e.Count > (ulong)spp) throw Fail($"{Name(338)} lists {e.Count} extra samples but SamplesPerPixel is {spp}");
            if (Values(e).FirstOrDefault(v => v > 2) is var bad and > 0) throw Fail($"{Name(338)} value {bad} is invalid (expected 0, 1 or 2)");
        }

        void CheckColorMap(int bits)
        {
            if (!entries.TryGetValue(320, out var e)) throw Fail($"palette image has no {Names[320]} (tag 320)");
            RequireType(e, new[] { SHORT });
            ulong need = 3UL << bits;
            if (e.Count != need) throw Fail($"{Name(320)} has {e.Count} entries, expected {need} for {bits}-bit indices");
        }

        void CheckSubsampling()
        {
            if (!entries.TryGetValue(530, out var e)) return;
            RequireType(e, new[] { SHORT });
            var v = Values(e);
            if (v.Length != 2 || v.Any(x => x is not (1 or 2 or 4)) || v[1] > v[0])
                throw Fail($"{Name(530)} is {string.Join(",", v)} (expected two of 1, 2 or 4, vertical at most horizontal)");
        }

        void RequireType(Entry e, int[] types)
        {
            if (!types.Contains(e.Type)) throw Fail($"{Name(e.Tag)} has {TypeName(e.Type)}, expected {Expected(types)}");
        }

        /// <summary>A single-valued tag, or <paramref name="fallback"/> when it is absent.</summary>
        ulong? Scalar(int tag, int[] types, ulong? fallback)
        {
            if (!entries.TryGetValue(tag, out var e)) return fallback;
            RequireType(e, types);
            if (e.Count != 1) throw Fail($"{Name(tag)} has {e.Count} values, expected 1");
            return Values(e)[0];
        }

        /// <summary>A tag given once or once per sample; LibTiff keeps a single value, so all must be equal.</summary>
        ulong PerSample(int tag, int[] types, ulong fallback, long spp)
        {
            if (!entries.TryGetValue(tag, out var e)) return fallback;
            RequireType(e, types);
            if (e.Count != 1 && e.Count != (ulong)spp)
                throw Fail($"{Name(tag)} has {e.Count} values, expected 1 or one per sample ({spp})");
            var v = Values(e);
            if (v.Any(x => x != v[0])) throw Fail($"{Name(tag)} differs between samples ({string.Join(", ", v)}), which LibTiff cannot read");
            return v[0];
        }

        /// <summary>An integer tag's values, from the entry itself when they fit there, else from its offset.</summary>
        ulong[] Values(Entry e)
        {
            int size = TypeSizes[e.Type];
            int n = (int)e.Count; // bounded by the file length in the constructor
            byte[] src;
            int at;
            if (e.Count * (ulong)size <= (ulong)ValueSize) { src = dir; at = e.FieldPos; }
            else
            {
                src = new byte[n * size];
                stream.Position = (long)(big ? U64(dir.AsSpan(e.FieldPos)) : U32(dir.AsSpan(e.FieldPos)));
                stream.ReadExactly(src);
                at = 0;
            }
            var v = new ulong[n];
            for (int i = 0; i < n; i++)
            {
                var s = src.AsSpan(at + i * size);
                v[i] = size switch { 1 => s[0], 2 => U16(s), 4 => U32(s), _ => U64(s) };
            }
            return v;
        }

        ushort U16(ReadOnlySpan<byte> b) => little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
        uint U32(ReadOnlySpan<byte> b) => little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
        ulong U64(ReadOnlySpan<byte> b) => little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
