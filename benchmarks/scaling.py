"""How the cost grows: time per step vs batch size (MLP, tiny CLIP) and vs sequence length
(LSTM), and the engine's fixed cost per op on tiny tensors.

    python -m benchmarks.scaling            full (about three minutes)
    python -m benchmarks.scaling --quick    a smoke run (seconds)

A framework adds a roughly fixed cost to every op it records (building the Tensor, the graph
node, the backward call) on top of the array math, which is the same as NumPy's. So:

    time(tinygrad_course) ~ time(numpy) + ops_per_step * overhead_per_op

The ratio to NumPy falls towards 1 as the arrays grow (bigger batch) and stays flat when the
number of ops grows with the work (longer sequence: more time steps, more ops). The last two
tables measure overhead_per_op directly. Same clock and threads as benchmarks.run.
"""

import argparse
import time

import numpy

from . import bench_mlp, run


def _table(header, rows):
    widths = [max(len(str(r[c])) for r in [header] + rows) for c in range(len(header))]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
              for r in rows]
    return "\n".join(lines)


def _measure(steps, timing, check=True):
    """Check the first two losses agree (like benchmarks.run), then time interleaved."""
    if check:
        run.check_losses({name: [step(), step()] for name, step in steps.items()},
                         run.DEFAULT_RTOL)
    return run.time_interleaved(steps, **timing)


def _row(label, times):
    tg, ref = times["tinygrad_course"], times["numpy"]
    row = [label] + [f"{times[k] * 1e3:.3f}" if k in times else "-"
                     for k in ("tinygrad_course", "numpy", "torch")]
    return row + [f"{tg / ref:.2f}", f"{(tg - ref) * 1e3:+.3f}"]


def _vs_size(column, sizes, make_steps, title, timing):
    """Time the steps ``make_steps(size)`` for each size; print a row a size."""
    results, rows = {}, []
    for size in sizes:
        times = _measure(make_steps(size), timing)
        results[size] = times
        rows.append(_row(size, times))
    header = [column, "tinygrad_course ms", "numpy ms", "torch ms", "tg/numpy", "tg-numpy ms"]
    print("\n" + title)
    print(_table(header, rows))
    return results


def mlp_vs_batch(batches, timing):
    return _vs_size("batch", batches, bench_mlp.setup_for,
                    "MLP 784-256-256-10, one SGD step, vs batch size", timing)


def lstm_vs_length(lengths, timing):
    """LSTM (batch 32, in 64, hidden 128) vs sequence length, with bench_rnn's implementations."""
    try:
        from . import bench_rnn
    except ImportError as err:
        print(f"\nLSTM vs sequence length: skipped ({err})")
        return {}
    weights = bench_rnn.initial_weights("lstm")
    results, rows = {}, []
    for length in lengths:
        rng = numpy.random.default_rng(1)
        x = rng.standard_normal((length, bench_rnn.BATCH, bench_rnn.INPUTS)).astype(
            numpy.float32)
        target = (0.5 * rng.standard_normal((length, bench_rnn.BATCH, bench_rnn.HIDDEN))
                  ).astype(numpy.float32)
        copies = [[w.copy() for w in weights] for _ in range(2)]
        steps = {
            "tinygrad_course": bench_rnn.make_tinygrad("lstm", weights, x, target),
            "numpy": lambda c=copies[0], x=x, t=target: bench_rnn.numpy_lstm_step(c, x, t),
            "numpy_hoisted": lambda c=copies[1], x=x, t=target:
                bench_rnn.numpy_lstm_hoisted_step(c, x, t),
        }
        times = _measure(steps, timing)
        results[length] = times
        tg, ref = times["tinygrad_course"], times["numpy"]
        rows.append([length, f"{tg * 1e3:.3f}", f"{ref * 1e3:.3f}",
                     f"{times['numpy_hoisted'] * 1e3:.3f}", f"{tg / ref:.2f}",
                     f"{(tg - ref) * 1e3:+.3f}", f"{(tg - ref) / length * 1e3:+.4f}"])
    header = ["seq len", "tinygrad_course ms", "numpy ms", "numpy_hoisted ms", "tg/numpy",
              "tg-numpy ms", "tg-numpy per time step ms"]
    print("\nLSTM (batch 32, input 64, hidden 128), one SGD step, vs sequence length")
    print(_table(header, rows))
    return results


def clip_vs_batch(pairs, timing):
    """The CLIP step of bench_clip vs the number of (picture, caption) pairs. With 2 pairs
    the arrays cost almost nothing, so tg - numpy there is the framework's fixed cost per
    step (about 60 ops, the modules' Python and the optimiser loop)."""
    from . import bench_clip

    def steps(n):
        model, tokenizer = bench_clip.build_model()  # fresh, seeded: the same start each time
        images, ids = bench_clip.batch(tokenizer, n=n)
        return {"tinygrad_course": bench_clip.make_tinygrad(model, images, ids),
                "numpy": bench_clip.make_numpy(model.state_dict(), images, ids)}

    return _vs_size("pairs", pairs, steps,
                    "Tiny CLIP (bench_clip's model), one SGD step, vs batch size", timing)


def op_overhead(timing):
    """Time of c = a + b on 1-element tensors: NumPy, tinygrad_course without / with graph."""
    import tinygrad_course as tg

    a, b = tg.tensor([1.0], device="cpu"), tg.tensor([2.0], device="cpu")
    ga = tg.tensor([1.0], requires_grad=True, device="cpu")
    gb = tg.tensor([2.0], requires_grad=True, device="cpu")
    na, nb = a.numpy(), b.numpy()
    steps = {
        "numpy": lambda: na + nb,
        "tinygrad_course": lambda: a + b,
        "tinygrad_course, recording the graph": lambda: ga + gb,
    }
    times = run.time_interleaved(steps, **timing)
    rows = [[name, f"{t * 1e6:.2f}", f"{t / times['numpy']:.1f}"] for name, t in times.items()]
    print("\nOne op on 1-element tensors: c = a + b")
    print(_table(["implementation", "us per op", "x numpy"], rows))
    return times


def chain_backward(lengths, timing):
    """Forward + backward through y = x * c * c * ... (n muls): time per op, vs NumPy by hand."""
    import tinygrad_course as tg

    results, rows = {}, []
    for n in lengths:
        x = tg.tensor(numpy.ones(4, numpy.float32), requires_grad=True, device="cpu")
        nx = numpy.ones(4, numpy.float32)
        c = numpy.float32(1.0001)

        def framework(x=x, n=n):
            x.grad = None
            y = x
            for _ in range(n):
                y = y * 1.0001
            loss = y.sum()
            loss.backward()
            return float(x.grad.numpy()[0])

        def by_hand(n=n):
            y = nx
            for _ in range(n):
                y = y * c
            g = numpy.ones_like(y)  # d sum / d y
            for _ in range(n):
                g = g * c
            return float(g[0])

        times = _measure({"tinygrad_course": framework, "numpy": by_hand}, timing)
        results[n] = times
        rows.append([n, f"{times['tinygrad_course'] / n * 1e6:.2f}",
                     f"{times['numpy'] / n * 1e6:.2f}",
                     f"{times['tinygrad_course'] / times['numpy']:.1f}"])
    print("\nForward + backward of a chain of n multiplications on 4-element tensors, per op")
    print(_table(["n ops", "tinygrad_course us/op", "numpy us/op", "tg/numpy"], rows))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(run.describe_machine())
    clock = time.process_time if args.threads == 1 else time.perf_counter
    print(f"threads {run.set_threads(args.threads)}; clock {clock.__name__}")
    if args.quick:
        timing = dict(warmup=1, blocks=3, block_time=0.02, clock=clock)
        batches, lengths, chains, pairs = (1, 32), (5, 20), (10, 100), (2, 8)
    else:
        timing = dict(warmup=3, blocks=7, block_time=0.2, clock=clock)
        batches, lengths, chains = (1, 8, 32, 128, 512), (5, 10, 35, 70, 140), (10, 100, 1000)
        pairs = (2, 16, 64)
    return {
        "mlp_vs_batch": mlp_vs_batch(batches, timing),
        "lstm_vs_length": lstm_vs_length(lengths, timing),
        "clip_vs_batch": clip_vs_batch(pairs, timing),
        "op_overhead": op_overhead(timing),
        "chain_backward": chain_backward(chains, timing),
    }


if __name__ == "__main__":
    main()
