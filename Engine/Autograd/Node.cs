namespace ILGpuSat.Engine;

/// <summary>
/// Computes the gradients of a node's inputs from the gradient of its output. Returns one entry
/// per input (null where an input needs none). Runs with grad mode off. Each entry must be a
/// tensor made by the rule or the upstream gradient itself (the engine tracks who owns what and
/// frees the rest), never a tensor saved from the forward pass.
/// </summary>
public delegate Tensor?[] BackwardFunction(Tensor gradOutput);

/// <summary>
/// One recorded op on the tape: its inputs, its output and the rule that maps the output's
/// gradient to the inputs' gradients. Nodes are numbered in creation order, so sorting by
/// <see cref="Sequence"/> descending is a reverse topological order.
/// </summary>
public sealed class Node
{
    private static long _nextSequence;

    internal Node(string op, Tensor output, Tensor?[] inputs, BackwardFunction backward)
    {
        Op = op;
        Output = output;
        Inputs = inputs;
        Backward = backward;
        Sequence = Interlocked.Increment(ref _nextSequence);
        InputVersions = new int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) InputVersions[i] = inputs[i]?.Version ?? 0;
    }

    /// <summary>Op name as in error messages ("conv2d", "batch_norm", ...).</summary>
    public string Op { get; }

    /// <summary>The op's tensor inputs in argument order (null for an absent optional input such as a bias).</summary>
    public IReadOnlyList<Tensor?> Inputs { get; }

    internal Tensor Output { get; }
    internal BackwardFunction Backward { get; }
    internal long Sequence { get; }

    /// <summary>Input versions at record time: backward refuses inputs changed in place since.</summary>
    internal int[] InputVersions { get; }

    public override string ToString() => Op;
}
