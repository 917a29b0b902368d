namespace ILGpuSat.Engine;

/// <summary>
/// Reverse-mode automatic differentiation. Every op in <see cref="F"/> computes its output and,
/// when grad mode is on and an input requires a gradient, records a <see cref="Node"/> holding the
/// inputs and a closure for the backward rule. <see cref="Backward"/> walks the nodes reachable
/// from a loss in reverse creation order, calling each rule once with the sum of the gradients
/// that reached its output, and accumulates into <see cref="Tensor.Grad"/> of the leaves.
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>False inside <see cref="NoGrad"/>: ops then record nothing.</summary>
    public static bool IsGradEnabled => _noGradDepth == 0;

    /// <summary><c>using (Autograd.NoGrad()) { ... }</c>: ops inside record nothing (inference, optimizer steps).</summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope(true);
    }

    public readonly struct NoGradScope : IDisposable
    {
        private readonly bool _active;
        internal NoGradScope(bool active) => _active = active;
        public void Dispose()
        {
            if (_active) _noGradDepth--;
        }
    }

    /// <summary>Whether an op on these inputs must be recorded.</summary>
    public static bool NeedsGrad(Tensor? a, Tensor? b = null, Tensor? c = null, Tensor? d = null)
        => IsGradEnabled && ((a?.RequiresGrad ?? false) || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false) || (d?.RequiresGrad ?? false));

    /// <summary>Whether an op on these inputs must be recorded.</summary>
    public static bool NeedsGrad(IReadOnlyList<Tensor> inputs)
    {
        if (!IsGradEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>
    /// Records <paramref name="output"/> as produced by <paramref name="op"/> from <paramref name="inputs"/>
    /// if any input requires a gradient (callers check <see cref="NeedsGrad(Tensor?, Tensor?, Tensor?, Tensor?)"/>
    /// first so the closure is not even built otherwise).
    /// </summary>
    public static Tensor Record(string op, Tensor output, Tensor?[] inputs, BackwardFunction backward)
    {
        if (!IsGradEnabled) return output;
        bool any = false;
        foreach (var t in inputs) any |= t?.RequiresGrad ?? false;
        if (!any) return output;
        output.GradFn = new Node(op, output, inputs, backward);
        output.RequiresGrad = true;
        return output;
    }

    /// <summary>
    /// Back-propagates from <paramref name="root"/>. <paramref name="seed"/> is its upstream
    /// gradient (ones when null). Gradients of intermediate tensors are freed as soon as their node
    /// has run; leaves keep theirs in <see cref="Tensor.Grad"/>, summed with what was there. With
    /// <paramref name="releaseIntermediates"/>, a node's scope-owned output is freed right after the node's own
    /// rule has run: the nodes that read it as an input were created later, so (reverse creation order) they
    /// have all run already, and the rules of the nodes still to run were created before it existed.
    /// </summary>
    internal static void Backward(Tensor root, Tensor? seed, bool releaseIntermediates)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"backward: tensor {root} does not require a gradient (no input of the computation requires one, or it was computed under Autograd.NoGrad()).");

        using var noGrad = NoGrad();
        // Everything made during the pass is freed at its end except what the leaves keep.
        using var scope = new TensorScope();
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        // Tensors currently stored as an accumulator (or owned by the caller): never handed out twice, never freed here.
        var held = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);

        Tensor start;
        if (seed is null) start = Tensor.Full(root.Shape, 1f, backend: root.Backend);
        else
        {
            start = seed;
            held.Add(seed);
        }

        if (root.GradFn is null)
        {
            AccumulateLeaf(root, start, held);
            return;
        }
        grads[root] = start;
        held.Add(start);

        foreach (var node in ReverseTopologicalOrder(root.GradFn))
        {
            if (!grads.Remove(node.Output, out var dy)) continue;
            if (!ReferenceEquals(dy, seed)) held.Remove(dy);
            CheckSavedInputs(node);

            var dxs = node.Backward(dy);
            if (dxs.Length != node.Inputs.Count)
                throw new InvalidOperationException($"backward of '{node.Op}' returned {dxs.Length} gradients for {node.Inputs.Count} inputs.");

            for (int i = 0; i < dxs.Length; i++)
            {
                var input = node.Inputs[i];
                var g = dxs[i];
                if (input is null || g is null || !input.RequiresGrad) continue;
                if (!g.ShapeSpan.SequenceEqual(input.ShapeSpan))
                    throw new InvalidOperationException($"backward of '{node.Op}': gradient {Tensor.Format(g.ShapeSpan)} for input {i} of shape {Tensor.Format(input.ShapeSpan)}.");
                if (input.GradFn is null) AccumulateLeaf(input, g, held);
                else if (grads.TryGetValue(input, out var acc)) input.Backend.Axpy(1f, g.Buffer, acc.Buffer);
                else grads[input] = TakeOrCopy(g, held);
            }

            // Free what this node consumed and produced unless it now accumulates somewhere.
            foreach (var g in dxs)
                if (g is not null && !held.Contains(g)) g.Dispose();
            if (!held.Contains(dy)) dy.Dispose();
            if (releaseIntermediates && !ReferenceEquals(node.Output, root) && node.Output.Scope is not null) node.Output.Dispose();
        }
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor g, HashSet<Tensor> held)
    {
        if (leaf.Grad is { IsDisposed: false } acc) leaf.Backend.Axpy(1f, g.Buffer, acc.Buffer);
        else leaf.Grad = TakeOrCopy(g, held).Keep();
    }

    /// <summary>The gradient itself when nobody holds it yet, else a copy (two slots must never share a buffer).</summary>
    private static Tensor TakeOrCopy(Tensor g, HashSet<Tensor> held)
    {
        var owned = held.Contains(g) ? g.Clone() : g;
        held.Add(owned);
        return owned;
    }

    /// <summary>Nodes reachable from <paramref name="root"/>, latest first (creation order is topological).</summary>
    private static List<Node> ReverseTopologicalOrder(Node root)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<Node>();
        var order = new List<Node>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            order.Add(n);
            foreach (var input in n.Inputs)
                if (input?.GradFn is { } p && seen.Add(p)) stack.Push(p);
        }
        order.Sort((a, b) => b.Sequence.CompareTo(a.Sequence));
        return order;
    }

    private static void CheckSavedInputs(Node node)
    {
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var t = node.Inputs[i];
            if (t is null) continue;
            if (t.IsDisposed)
                throw new InvalidOperationException($"backward of '{node.Op}': input {i} {t} was disposed before backward (did its TensorScope end?).");
            if (t.Version != node.InputVersions[i])
                throw new InvalidOperationException($"backward of '{node.Op}': input {i} {t} was modified in place after the forward pass (version {node.InputVersions[i]} -> {t.Version}).");
        }
    }
}
