"""Vanishing (and exploding) gradients in recurrent networks: how much of the gradient at the
last step reaches an input k steps earlier, for an RNN, an LSTM and a GRU.

With L = v . h_T (v random) we measure ||dL/dx_{T-k}|| for every distance k. Backpropagation
through time multiplies one Jacobian per step, so the norm behaves like (factor)^k:

    RNN    dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh    tanh' <= 1: the size of W_hh decides;
           below 1 the gradient vanishes, above 1 it explodes (the lecture's problem)
    LSTM   dc_t/dc_{t-1} = diag(f_t)               the cell path passes through the forget
           gate only: f_t -> 1 keeps the gradient, however far
    GRU    dh_t/dh_{t-1} = diag(z_t) + ...         the update gate z_t -> 1 copies h through

Part 1 measures this at PyTorch's initialisation, where f_t and z_t are about sigmoid(0) =
1/2: all three vanish. Part 2 scales the RNN's recurrent matrix (an orthogonal matrix times
gamma) and opens the LSTM's forget gate and the GRU's update gate with a bias b (sigmoid(b)
-> 1). The gates are what a trained LSTM/GRU learns to set; see demos/long_memory.py for the
gradients of trained models.
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import nn

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def gradient_by_distance(layer, x, seed=0):
    """||dL/dx_{T-k}|| for k = 0..T-1 (mean over the batch), L = v . h_T with v ~ N(0, 1).

    Computed in float64: the gradients we look for fall below float32's smallest number.
    """
    layer.double()
    x = tg.tensor(x, dtype=np.float64, requires_grad=True)
    _, state = layer(x)
    h_last = (state[0] if isinstance(state, tuple) else state)[-1]  # (B, H)
    v = tg.randn(*h_last.shape, seed=seed, dtype=np.float64)
    (h_last * v).sum().backward()
    per_step = np.linalg.norm(x.grad.numpy(), axis=2).mean(axis=1)  # (T,)
    return per_step[::-1]  # index k = distance from the last step


def decay_factor(norms):
    """exp(slope) of the least-squares line through log ||grad|| vs distance: the average
    factor the gradient is multiplied by per step back in time."""
    distance = np.arange(1, len(norms))
    slope = np.polyfit(distance, np.log(norms[1:]), 1)[0]
    return float(np.exp(slope))


def make_layer(kind, inputs, hidden, seed, gate_bias=0.0, gamma=None):
    """A fresh layer with PyTorch's init; optionally the gate opened by ``gate_bias`` (LSTM
    forget gate, GRU update gate: the second block of rows) or W_hh = gamma * orthogonal."""
    layer = LAYERS[kind](inputs, hidden, seed=seed)
    if gate_bias:
        bias = layer.bias_ih_l0.numpy().copy()
        bias[hidden:2 * hidden] += gate_bias  # i, [f], g, o   /   r, [z], n
        layer.bias_ih_l0.data = tg.tensor(bias, device=layer.bias_ih_l0.device).data
    if gamma is not None:
        q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((hidden, hidden)))
        layer.weight_hh_l0.data = tg.tensor(gamma * q, device=layer.weight_hh_l0.device).data
    return layer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    steps, batch, inputs, hidden, seeds = (40, 16, 8, 32, [0, 1]) if args.quick else \
        (100, 64, 8, 64, range(5))
    x = [np.random.default_rng(100 + s).standard_normal((steps, batch, inputs)) for s in seeds]
    far = steps - 1
    show = [k for k in (0, 1, 5, 10, 20, 40, 60) if k < far] + [far]

    def measure(kind, **options):
        runs = [gradient_by_distance(make_layer(kind, inputs, hidden, s, **options), xs, seed=s)
                for s, xs in zip(seeds, x)]
        return np.exp(np.mean(np.log(runs), axis=0))  # geometric mean over seeds

    def row(label, norms):
        cells = "  ".join(f"{norms[k]:8.1e}" for k in show)
        print(f"   {label:<22}{cells}   factor/step {decay_factor(norms):.3f}")

    header = "  ".join(f"{'k=' + str(k):>8}" for k in show)
    print(f"||dL/dx_(T-k)|| at distance k, T = {steps}, hidden {hidden}, geometric mean over "
          f"{len(seeds)} seeds")
    print(f"1. PyTorch's initialisation (forget / update gates about 1/2)\n   {'':<22}{header}")
    at_init = {kind: measure(kind) for kind in LAYERS}
    for kind, norms in at_init.items():
        row(kind, norms)

    print(f"2. The knobs: RNN W_hh = gamma * orthogonal; gates opened by a bias b\n"
          f"   {'':<22}{header}")
    knobs = {}
    for gamma in (0.5, 1.0, 2.0):
        knobs[f"rnn gamma={gamma}"] = measure("rnn", gamma=gamma)
    for bias in (2.0, 5.0):
        knobs[f"lstm forget b={bias:g}"] = measure("lstm", gate_bias=bias)
        knobs[f"gru update b={bias:g}"] = measure("gru", gate_bias=bias)
    for label, norms in knobs.items():
        row(label, norms)

    def kept(norms):  # the fraction of the last step's gradient that reaches the first input
        return float(norms[far] / norms[0])

    results = {f"{kind}_init_kept": kept(n) for kind, n in at_init.items()}
    results.update({f"{kind}_init_factor": decay_factor(n) for kind, n in at_init.items()})
    results.update({
        "rnn_gamma0.5_kept": kept(knobs["rnn gamma=0.5"]),
        "rnn_gamma2_kept": kept(knobs["rnn gamma=2.0"]),
        "lstm_forget5_kept": kept(knobs["lstm forget b=5"]),
        "gru_update5_kept": kept(knobs["gru update b=5"]),
        "distance": far,
    })
    print(f"Fraction of the gradient that travels {far} steps back: "
          + ", ".join(f"{k} {v:.1e}" for k, v in results.items() if k.endswith("_kept")))

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
        colour = {kind: f"C{i}" for i, kind in enumerate(LAYERS)}  # one colour per model
        for kind, norms in at_init.items():
            axes[0].semilogy(norms, color=colour[kind], label=kind)
        style = {"gamma=0.5": ":", "gamma=1.0": "-", "gamma=2.0": "--", "b=2": "-", "b=5": "--"}
        for label, norms in knobs.items():  # the model's colour, the setting's line style
            axes[1].semilogy(norms, color=colour[label.split()[0]], ls=style[label.split()[-1]],
                             label=label)
        for ax, title in zip(axes, ["at initialisation", "scaled W_hh / opened gates"]):
            ax.set_xlabel("distance k (steps back from the last)")
            ax.set_title(title)
            ax.legend(fontsize=8)
        axes[0].set_ylabel("||dL/dx_(T-k)||")
        print("figure:", _plotting.save(fig, "vanishing_gradients"))
    return results


if __name__ == "__main__":
    main()
