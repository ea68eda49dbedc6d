"""The computation graph as Graphviz DOT text: paste it into any DOT viewer to see backward's map.

Tensors are ellipses (name or shape), ops are boxes; an arrow runs from each input to the op
and from the op to its output, the direction of the forward pass.
"""

from .tensor import Tensor


def _tensor_label(t):
    name = f"{t.name}\\n" if t.name else ""
    return f"{name}{t.shape} {t.dtype}"


def to_dot(root):
    """DOT text for the graph that made ``root`` (no Graphviz needed to produce it)."""
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(root).__name__}")
    lines = ["digraph computation {", "  rankdir=LR;", "  node [fontname=monospace];"]
    seen, stack = set(), [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        style = ", style=filled, fillcolor=lightblue" if t.requires_grad and t.is_leaf else ""
        lines.append(f'  t{id(t)} [label="{_tensor_label(t)}", shape=ellipse{style}];')
        if t._ctx is not None:
            op = t._ctx
            lines.append(f'  f{id(op)} [label="{type(op).__name__}", shape=box];')
            lines.append(f"  f{id(op)} -> t{id(t)};")
            for parent in op.inputs:
                lines.append(f"  t{id(parent)} -> f{id(op)};")
                stack.append(parent)
    lines.append("}")
    return "\n".join(lines) + "\n"
