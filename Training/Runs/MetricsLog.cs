using System.Globalization;
using ILGpuSat.Common;

namespace ILGpuSat.Training.Runs;

/// <summary>
/// A CSV file of one row per event (step first), appended as the run goes. A kill can cut the last row;
/// <see cref="Open"/> with the checkpoint's row count rewrites the file (atomically) to the rows that
/// checkpoint had seen, so a resumed run's file is the uninterrupted run's.
/// </summary>
public sealed class MetricsLog
{
    private readonly List<double[]> _rows = [];

    private MetricsLog(string path, IReadOnlyList<string> columns)
    {
        Path = path;
        Columns = columns;
    }

    public string Path { get; }

    public IReadOnlyList<string> Columns { get; }

    public IReadOnlyList<double[]> Rows => _rows;

    /// <summary>Opens (keeping the first <paramref name="keepRows"/> rows of an existing file) or creates the file.</summary>
    public static MetricsLog Open(string path, IReadOnlyList<string> columns, int keepRows)
    {
        var log = new MetricsLog(path, columns);
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0 || lines[0] != string.Join(',', columns))
                throw new InvalidDataException($"{path}: its header is not '{string.Join(',', columns)}'; it belongs to another run.");
            foreach (var line in lines.Skip(1).Take(keepRows))
            {
                var cells = line.Split(',');
                if (cells.Length != columns.Count) break; // a row cut by a kill
                log._rows.Add(cells.Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray());
            }
            if (log._rows.Count < keepRows)
                throw new InvalidDataException($"{path}: has {log._rows.Count} complete rows, the checkpoint had written {keepRows}.");
        }
        else if (keepRows > 0) throw new InvalidDataException($"{path} is missing; the checkpoint had written {keepRows} rows to it.");
        AtomicFile.WriteAllLines(path, new[] { string.Join(',', columns) }.Concat(log._rows.Select(Format)));
        return log;
    }

    public void Append(double[] row)
    {
        if (row.Length != Columns.Count) throw new ArgumentException($"MetricsLog: {row.Length} values for {Columns.Count} columns of {Path}.");
        _rows.Add(row);
        File.AppendAllText(Path, Format(row) + "\n");
    }

    public double[] Column(string name)
    {
        int i = Columns.ToList().IndexOf(name);
        if (i < 0) throw new ArgumentException($"MetricsLog: {Path} has no column '{name}'.");
        return _rows.Select(r => r[i]).ToArray();
    }

    private static string Format(double[] row) => string.Join(',', row.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
