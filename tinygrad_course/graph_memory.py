"""When the arrays a graph saved for its backward are freed.

Each op keeps what its backward needs: its inputs, and arrays of its own (Tanh's output,
attention's probabilities, an LSTM's gates over every step). As in PyTorch, backward()
lets go of them once it is done, so the graph's memory is returned when backward()
returns rather than when the loss is dropped; ``retain_graph=True`` keeps the graph for a
second backward through it, and a backward through a freed op is refused by name.

Why at the end and not op by op. PyTorch frees each op's arrays right after its own
backward, which lowers the peak. Here they are freed together once the walk is over:
freed one by one among the gradients being allocated, they left holes that glibc's malloc
handed back to the kernel and faulted in again on the next step (~1,500 page faults per
step of the CLIP benchmark; see benchmarks/README.md). Freeing them together returns one
block the next step reuses.

An op whose saved arrays come from a pool (the sequence ops, ops/buffer_pool.py) overrides
``Function.release`` to hand them back first.
"""

from .errors import BackwardError


def release(ops):
    """Free what each op of ``ops`` saved (their backwards have all run)."""
    for fn in ops:
        fn.release()


def refuse_released(fn, tensor):
    """The BackwardError for a second backward through an op an earlier one freed."""
    raise BackwardError(
        f"backward: the graph through {type(fn).__name__} (output of shape {tensor.shape}) "
        "was freed by an earlier backward(); pass retain_graph=True to the first backward to "
        "go through it again")
