using System.Globalization;
using ILGpuSat.Common;
using ILGpuSat.Engine.IO;
using ILGpuSat.Imaging.Color;

namespace ILGpuSat.Training.Color;

/// <summary>
/// Colour tables on disk: priors and rebalancing weights (313 values) and ab bin centres (313 x 2),
/// as .npy (float64, through the engine's one <see cref="Npy"/> codec) or as text (one value, or one
/// "a b" pair, per line; written with round-trip precision). Writes are atomic.
/// </summary>
public static class PriorFiles
{
    /// <summary>Writes values as .npy (float64) or, for any other extension, one round-trip number per line.</summary>
    public static void SaveValues(string path, ReadOnlySpan<double> values)
    {
        if (IsNpy(path)) Npy.Write(path, values.ToArray(), [values.Length]);
        else AtomicFile.WriteAllLines(path, values.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
    }

    public static void Save(string path, ColorPrior prior) => SaveValues(path, prior.Probabilities);

    /// <summary>A prior of 313 values from .npy or .txt.</summary>
    public static ColorPrior LoadPrior(string path)
    {
        double[] values = ReadValues(path);
        if (values.Length != AbBins.Count)
            throw new InvalidDataException($"{path}: a colour prior holds {AbBins.Count} values, this file holds {values.Length}.");
        return ColorPrior.FromProbabilities(values);
    }

    /// <summary>313 rebalancing weights (as <see cref="PriorBuilder.Run"/> writes them) from .npy or .txt.</summary>
    public static double[] LoadWeights(string path)
    {
        double[] w = ReadValues(path);
        if (w.Length != AbBins.Count || w.Any(v => !(v > 0) || double.IsInfinity(v)))
            throw new InvalidDataException($"{path}: must hold {AbBins.Count} positive finite rebalancing weights, got {w.Length} values.");
        return w;
    }

    /// <summary>Bin centres from a pts_in_hull file: .npy (313 x 2, int or float) or .txt (313 lines "a b").</summary>
    public static AbBins LoadBins(string path)
    {
        if (IsNpy(path))
        {
            var (data, shape) = Npy.ReadDoubles(path);
            if (shape.Length != 2 || shape[1] != 2)
                throw new InvalidDataException($"{path}: bin centres have shape [{AbBins.Count},2], this file has [{string.Join(",", shape)}].");
            return AbBins.FromCentres(data, path);
        }
        return AbBins.FromCentres(ReadText(path), path);
    }

    private static double[] ReadValues(string path) => IsNpy(path) ? Npy.ReadDoubles(path).Data : ReadText(path);

    private static double[] ReadText(string path)
    {
        var values = new List<double>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            foreach (var token in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InvalidDataException($"{path}: line {lineNumber}: '{token}' is not a number.");
                values.Add(v);
            }
        }
        return values.ToArray();
    }

    private static bool IsNpy(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);
}
