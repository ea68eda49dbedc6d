"""Tensor parallelism on MPI: one layer's weights split over the ranks, the same function,
and what each layer sends.

    mpiexec -n 2 python -m demos.tensor_parallel [--quick]

A transformer block's two halves, split Megatron's way over N ranks:
- the MLP y = gelu(x A^T) B^T with A split by output features (column parallel) and B by
  input features (row parallel): each rank holds 1/N of both matrices;
- multi-head self-attention with the heads split over the ranks.
For each: the largest difference from the unsplit layer (output, input gradient), and the
communication per layer per step recorded from the collectives: one all-reduce of the
(batch, length, E) activation in forward and one in backward, against the bytes of the
weights a rank no longer holds. Rank 0 prints.
"""

import argparse
import json

import numpy as np

import tinygrad_course as tg
from tinygrad_course import distributed as dist
from tinygrad_course import nn
from tinygrad_course.distributed import tensor_parallel as tp


def compare(full_forward, split_layer, shape):
    """(max output difference, max input-gradient difference, [(collective, bytes)])."""
    x = np.random.default_rng(1).standard_normal(shape)
    x_full = tg.tensor(x, dtype="float64", requires_grad=True)
    x_split = tg.tensor(x, dtype="float64", requires_grad=True)
    y_full = full_forward(x_full)
    with tp.record_communication() as log:
        y_split = split_layer(x_split)
        v = tg.tensor(np.random.default_rng(2).standard_normal(y_full.shape), dtype="float64")
        (y_split * v).sum().backward()
    (y_full * v).sum().backward()
    return (float(np.max(np.abs(y_full.numpy() - y_split.numpy()))),
            float(np.max(np.abs(x_full.grad.numpy() - x_split.grad.numpy()))), log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller block")
    parser.add_argument("--json", help="rank 0 writes its results to this file")
    args = parser.parse_args(argv)
    world = dist.init()
    N = world.Get_size()
    say = print if world.Get_rank() == 0 else (lambda *a, **k: None)
    E, heads, batch, length = (32, 4, 4, 16) if args.quick else (128, 8, 8, 64)
    shape = (batch, length, E)
    rng = np.random.default_rng(0)
    fc1 = nn.Linear(E, 4 * E, generator=rng, dtype="float64")
    fc2 = nn.Linear(4 * E, E, generator=rng, dtype="float64")
    mlp = tp.TensorParallelMLP(E, 4 * E, seed=0, dtype="float64")
    attention = nn.MultiheadAttention(E, heads, batch_first=True, seed=1, dtype="float64")
    split_attention = tp.TensorParallelMultiheadAttention.from_module(attention)
    results = {"ranks": N}
    say(f"== {N} ranks; x of shape {shape} (float64: {np.prod(shape) * 8} bytes)")
    layers = {
        "mlp": (lambda x: fc2(tg.gelu(fc1(x))), mlp, [fc1, fc2]),
        "attention": (lambda x: attention(x, x, x, need_weights=False)[0], split_attention,
                      [attention]),
    }
    for name, (full_forward, split_layer, full_layers) in layers.items():
        out_diff, grad_diff, log = compare(full_forward, split_layer, shape)
        weights = sum(p.size * 8 for layer in full_layers for p in layer.parameters())
        held = sum(p.size * 8 for p in split_layer.parameters())
        sent = sum(b for _, b in log)
        say(f"   {name:<9}: max |output diff| {out_diff:.2g}, max |input grad diff| "
            f"{grad_diff:.2g}")
        say(f"              collectives per step: {[f'{c} {b} B' for c, b in log]}; "
            f"weights on this rank {held} of {weights} bytes")
        results.update({f"{name}_output_difference": out_diff,
                        f"{name}_grad_difference": grad_diff,
                        f"{name}_all_reduces": len(log), f"{name}_bytes_reduced": sent,
                        f"{name}_weight_bytes_held": held, f"{name}_weight_bytes": weights})
    if world.Get_rank() == 0 and args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    return results


if __name__ == "__main__":
    main()
