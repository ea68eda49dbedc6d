"""In-place ops and the clock that keeps backward honest about them.

An in-place op (``F.relu(x, inplace=True)``, ``add(a, b, inplace=True)``) overwrites a
tensor's array instead of allocating a new one. That saves memory, but an op recorded
earlier may have saved that very array for its backward: Tanh keeps its output, Mul its
inputs. Running its backward on the overwritten values would give a silently wrong gradient.

The rule (PyTorch's version counter, in a simpler form):

- a global ``clock`` counts in-place ops; ``mark_modified_in_place`` advances it and stamps
  the overwritten tensor with the new time (``tensor._modified_at``);
- every op remembers the clock when it was applied (``Function.created_at``);
- before an op's backward runs, ``check_inputs`` refuses (a BackwardError naming the op)
  when one of its inputs was stamped later than the op was created; ``Function.output``
  does the same for the op's output (``refuse_overwritten``).

It is conservative: it also refuses when the op's backward would not have read the
overwritten values. (Unlike PyTorch, other tensors sharing the overwritten array are not
stamped.) Until the first in-place op of the program, the check costs the backward walk
one integer comparison per op (``fn.created_at < inplace.clock``).
"""

from .errors import BackwardError

clock = 0  # how many in-place ops have run so far


def mark_modified_in_place(tensor, op_name):
    """Call BEFORE the in-place op ``op_name`` overwrites ``tensor``'s array.

    A leaf that requires grad is refused: its value is the point its gradient is taken at,
    and nothing would record the overwrite (PyTorch refuses this too)."""
    from .autograd import is_grad_enabled  # autograd imports this module

    if tensor.requires_grad and tensor._ctx is None and is_grad_enabled():
        raise BackwardError(f"{op_name}: inplace=True on a leaf tensor that requires grad "
                            f"(shape {tensor.shape}); use inplace=False (PyTorch refuses this "
                            "too)")
    global clock
    clock += 1
    tensor._modified_at = clock


def check_inputs(fn):
    """Refuse to run ``fn.backward`` if an in-place op overwrote one of its inputs after
    ``fn`` was applied (called only once some in-place op has run since then)."""
    for tensor in fn.inputs:
        if tensor._modified_at > fn.created_at:
            refuse_overwritten(fn, "an input", tensor)


def refuse_overwritten(fn, which, tensor):
    """The BackwardError for a value ``fn`` saved that an in-place op overwrote later."""
    raise BackwardError(
        f"backward: {type(fn).__name__} needs {which} (shape {tensor.shape}), but an in-place "
        f"op overwrote it after {type(fn).__name__} used it; use the op without inplace=True "
        "there")
