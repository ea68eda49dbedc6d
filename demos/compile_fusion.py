"""tg.compile on two training steps: what each pass removes, the code it writes, the speed-up.

A training step run eagerly pays the engine's Python cost on every op (building a Function,
checking its inputs, recording the graph, walking it backward) and allocates a fresh array
for every intermediate. ``tg.compile(step)`` traces the step once into a list of NumPy calls
and then runs passes over that list (docs/compile.md):

    simplify   drops no-op reshapes / casts and folds what the trace proved constant
    dce        dead-code elimination: removes values nothing reads
    fuse       chains of elementwise ops become one kernel (one line of nested NumPy calls
               writing into ``out=`` buffers, or one numexpr expression)
    plan       liveness over the schedule: intermediates share a pool of buffers allocated
               once, so a replayed step allocates (almost) nothing

For an MLP trained with Adam and a pre-LN transformer block (GELU) trained with AdamW, the
demo compiles the step with the passes switched on one at a time (each row adds one) and
prints the node and kernel counts and the bytes of intermediates a step allocates; prints
the generated line of the fused Adam update and of the GELU; checks that the compiled step
gives the SAME losses as the eager one, bit for bit, over several steps (numexpr off: its
kernels round differently; the same NumPy calls in the same order give the same bits); and
times eager against compiled in interleaved rounds (the speed-up is the median over rounds
of eager time / compiled time measured in the same round, so a slow phase of a shared
machine cancels).
"""

import argparse
import statistics
import time

import numpy as np

import tinygrad_course as tg
from tinygrad_course import nn, optim

PASS_LADDER = ((), ("simplify",), ("simplify", "dce"), ("simplify", "dce", "fuse"),
               ("simplify", "dce", "fuse", "plan"))
STAT_KEYS = ("nodes_after_simplify_and_dce", "kernels", "fused_kernels",
             "allocated_bytes_per_step_after", "pool_bytes")


def mlp_step(quick, seed=0):
    """(step, model): an MLP 784-256-256-10 (ReLU; 64-32-32-10 quick), cross-entropy, Adam,
    on a fixed batch of 32; the step returns the loss as a float."""
    sizes = (64, 32, 32, 10) if quick else (784, 256, 256, 10)
    tg.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, device="cpu"))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((32, sizes[0])).astype(np.float32), device="cpu")
    y = tg.tensor(rng.integers(0, sizes[-1], size=32), device="cpu")
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = tg.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step, model


def block_step(quick, seed=0):
    """(step, model): one pre-LN transformer encoder block (width 64, 4 heads, feed-forward
    256 with GELU; width 32 quick), mean squared error to a fixed target, AdamW, on a batch of
    8 sequences of 16 tokens."""
    width, ff = (32, 64) if quick else (64, 256)
    tg.manual_seed(seed)
    model = nn.TransformerEncoderLayer(width, 4, ff, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True, device="cpu")
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((8, 16, width)).astype(np.float32), device="cpu")
    target = tg.tensor(rng.standard_normal((8, 16, width)).astype(np.float32), device="cpu")
    opt = optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()
    return step, model


MODELS = {"mlp": ("MLP + Adam", mlp_step), "block": ("transformer block + AdamW", block_step)}


def compiled(make, quick, passes=PASS_LADDER[-1], losses=None):
    """A compiled step of a fresh model, called three times (two traces, one replay); their
    losses are appended to the list ``losses`` when one is given."""
    step = tg.compile(make(quick)[0], passes=passes, use_numexpr=False)
    first = [step() for _ in range(3)]
    if losses is not None:
        losses += first
    return step


def pass_ladder(make, quick):
    """[{passes, stats...}] for the passes switched on one at a time."""
    rows = []
    for passes in PASS_LADDER:
        stats = compiled(make, quick, passes).stats
        rows.append({"passes": "+".join(passes) or "none", "nodes_traced": stats["nodes_traced"],
                     **{k: stats[k] for k in STAT_KEYS}})
    return rows


def print_ladder(title, rows):
    print(f"{title}: {rows[0]['nodes_traced']} nodes traced (forward, backward, optimiser)")
    print(f"  {'passes on':28s} {'nodes':>6s} {'kernels':>8s} {'fused':>6s} "
          f"{'allocated/step':>15s} {'pool (once)':>12s}")
    for row in rows:
        print(f"  {row['passes']:28s} {row['nodes_after_simplify_and_dce']:6d} "
              f"{row['kernels']:8d} {row['fused_kernels']:6d} "
              f"{row['allocated_bytes_per_step_after']:15,d} {row['pool_bytes']:12,d}")


def generated_line(step, must_contain):
    """The first line of the generated program containing every string of ``must_contain``."""
    for line in step.code.splitlines():
        if all(s in line for s in must_contain):
            return line.strip()
    raise LookupError(f"compile_fusion: no generated line contains {must_contain}")


def losses_match(make, quick, steps):
    """(eager losses, compiled losses) of two identical fresh models over ``steps`` steps."""
    eager = make(quick)[0]
    compiled_losses = []
    step = compiled(make, quick, losses=compiled_losses)  # traced twice, replayed once
    compiled_losses += [step() for _ in range(steps)]
    return [eager() for _ in range(3 + steps)], compiled_losses


def paired_speedup(make, quick, rounds, block_time):
    """(median eager ms, median compiled ms, median over rounds of eager / compiled)."""
    steps = {"eager": make(quick)[0], "compiled": compiled(make, quick)}
    repeats = {}
    for name, step in steps.items():
        for _ in range(3):
            step()
        start = time.perf_counter()
        step()
        repeats[name] = max(1, int(block_time / max(time.perf_counter() - start, 1e-9)))
    times = {name: [] for name in steps}
    order = list(steps)
    for r in range(rounds):
        for name in order[r % 2:] + order[:r % 2]:  # alternate which one runs first
            start = time.perf_counter()
            for _ in range(repeats[name]):
                steps[name]()
            times[name].append((time.perf_counter() - start) / repeats[name])
    ratios = [e / c for e, c in zip(times["eager"], times["compiled"])]
    return (statistics.median(times["eager"]) * 1e3, statistics.median(times["compiled"]) * 1e3,
            statistics.median(ratios))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small models, seconds")
    args = parser.parse_args(argv)
    rounds, block_time, check_steps = (5, 0.05, 3) if args.quick else (15, 0.2, 10)
    results = {"quick": args.quick}
    for key, (title, make) in MODELS.items():
        rows = pass_ladder(make, args.quick)
        print_ladder(title, rows)
        none, simplified, fused, planned = rows[0], rows[2], rows[3], rows[4]
        results[f"{key}_nodes_traced"] = none["nodes_traced"]
        results[f"{key}_nodes_after_dce"] = simplified["nodes_after_simplify_and_dce"]
        results[f"{key}_kernels_before_fusion"] = simplified["kernels"]
        results[f"{key}_kernels_after_fusion"] = fused["kernels"]
        results[f"{key}_fused_kernels"] = fused["fused_kernels"]
        results[f"{key}_bytes_before_plan"] = fused["allocated_bytes_per_step_after"]
        results[f"{key}_bytes_after_plan"] = planned["allocated_bytes_per_step_after"]
        results[f"{key}_pool_bytes"] = planned["pool_bytes"]

        eager_losses, compiled_losses = losses_match(make, args.quick, check_steps)
        results[f"{key}_losses_equal"] = eager_losses == compiled_losses
        results[f"{key}_losses_checked"] = len(eager_losses)
        results[f"{key}_max_loss_difference"] = max(
            abs(a - b) for a, b in zip(eager_losses, compiled_losses))
        print(f"  losses over {len(eager_losses)} steps, eager vs compiled: "
              f"{'identical' if results[f'{key}_losses_equal'] else 'DIFFERENT'} (max "
              f"difference {results[f'{key}_max_loss_difference']:.1e}; first "
              f"{eager_losses[0]:.6f}, last {eager_losses[-1]:.6f})")

        eager_ms, compiled_ms, speedup = paired_speedup(make, args.quick, rounds, block_time)
        results[f"{key}_eager_ms"], results[f"{key}_compiled_ms"] = eager_ms, compiled_ms
        results[f"{key}_speedup"] = speedup
        print(f"  time per step: eager {eager_ms:.3f} ms, compiled {compiled_ms:.3f} ms; "
              f"speed-up {speedup:.2f}x (median over {rounds} paired rounds)\n")

    adam = generated_line(compiled(mlp_step, args.quick), ("sqrt", "out=v0)"))
    block = compiled(block_step, args.quick)
    erf_line = generated_line(block, ("erf",))
    gelu = erf_line + "\n  " + generated_line(block, (erf_line.split(" = ")[0] + ",",))
    results["adam_line"], results["gelu_line"] = adam, gelu
    print("the fused Adam update of the first weight, one generated line (numexpr off):")
    print(f"  {adam}")
    print("the GELU of the transformer block: erf(x / sqrt 2), then the kernel that reads it:")
    print(f"  {gelu}")
    return results


if __name__ == "__main__":
    main()
