"""Per-rank program: column/row parallel linear layers, the tensor-parallel MLP and multi-head
attention give the outputs and gradients of the unsplit layers, with one all-reduce in
forward and one in backward per MLP block."""

import numpy as np
from checks import Checks

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.distributed import tensor_parallel as tp

checks = Checks("tensor_parallel")
N, me = checks.size, checks.rank
E, hidden, heads = 8, 4 * 8, 4


def inputs(shape):
    x = np.random.default_rng(11).standard_normal(shape)  # the same on every rank
    return tg.tensor(x, dtype="float64", requires_grad=True)


def compare(name, full_forward, split_forward, pairs, shape):
    """Same x and the same loss sum(v * y) on every rank, through the unsplit and the split
    layer: outputs, dL/dx and each split parameter's gradient against its slice of the
    unsplit one (``pairs``: (split parameter, unsplit parameter, index of the slice))."""
    x_full, x_split = inputs(shape), inputs(shape)
    y_full, y_split = full_forward(x_full), split_forward(x_split)
    v = tg.tensor(np.random.default_rng(12).standard_normal(y_full.shape), dtype="float64")
    (y_full * v).sum().backward()
    (y_split * v).sum().backward()
    checks.close(f"{name}: output", y_split.numpy(), y_full.numpy(), 1e-12)
    checks.close(f"{name}: input gradient", x_split.grad.numpy(), x_full.grad.numpy(), 1e-12)
    for split, full, index in pairs:
        checks.close(f"{name}: gradient of a {split.shape} shard", split.grad.numpy(),
                     full.grad.numpy()[index], 1e-12)


width = E // N
rows, columns = slice(me * width, (me + 1) * width), (slice(None), slice(me * width,
                                                                          (me + 1) * width))
full = nn.Linear(E, E, seed=0, dtype="float64")
column = tp.ColumnParallelLinear.from_linear(full, gather_output=True)
compare("ColumnParallelLinear", full, column,
        [(column.weight, full.weight, rows), (column.bias, full.bias, rows)], (3, E))
full = nn.Linear(E, E, seed=1, dtype="float64")
row = tp.RowParallelLinear.from_linear(full, input_is_parallel=False)
compare("RowParallelLinear", full, row,
        [(row.weight, full.weight, columns), (row.bias, full.bias, slice(None))], (3, E))

mlp = tp.TensorParallelMLP(E, hidden, seed=2, dtype="float64")
rng = np.random.default_rng(2)
fc1 = nn.Linear(E, hidden, generator=rng, dtype="float64")
fc2 = nn.Linear(hidden, E, generator=rng, dtype="float64")
h = hidden // N
hidden_rows, hidden_columns = slice(me * h, (me + 1) * h), (slice(None), slice(me * h,
                                                                               (me + 1) * h))
with tp.record_communication() as log:
    compare("TensorParallelMLP", lambda x: fc2(tg.gelu(fc1(x))), mlp,
            [(mlp.fc1.weight, fc1.weight, hidden_rows), (mlp.fc1.bias, fc1.bias, hidden_rows),
             (mlp.fc2.weight, fc2.weight, hidden_columns), (mlp.fc2.bias, fc2.bias,
                                                            slice(None))], (2, 3, E))
checks.true("TensorParallelMLP: one all-reduce of the (2, 3, E) activation in forward and one "
            "in backward", log == [("all_reduce", 2 * 3 * E * 8)] * 2, str(log))

attention = nn.MultiheadAttention(E, heads, batch_first=True, seed=3, dtype="float64")
split = tp.TensorParallelMultiheadAttention.from_module(attention)
qkv_rows = np.concatenate([np.arange(p * E + me * width, p * E + (me + 1) * width)
                           for p in range(3)])
for causal in (False, True):
    mask = nn.attention.causal_mask(5, 5, np).reshape(1, 1, 5, 5) if causal else None
    compare(f"TensorParallelMultiheadAttention (causal={causal})",
            lambda x, m=mask: attention(x, x, x, need_weights=False,
                                        attn_mask=None if m is None else ~m.reshape(5, 5))[0],
            lambda x, c=causal: split(x, is_causal=c),
            [(split.in_proj_weight, attention.in_proj_weight, qkv_rows),
             (split.in_proj_bias, attention.in_proj_bias, qkv_rows),
             (split.out_proj.weight, attention.out_proj.weight, columns)], (2, 5, E))
checks.done()
