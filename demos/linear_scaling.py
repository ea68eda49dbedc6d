"""The linear scaling rule: batch size x k, learning rate x k, and the loss per epoch stays
about the same.

Lecture 3: a minibatch gradient is the average of B per-example gradients. An epoch of
batch B takes N / B steps of length lr; with batch kB it takes k times fewer steps, so to
travel as far per epoch each step must be k times longer. While the gradient changes little
over k small steps, one step of k * lr on kB examples lands where k steps of lr on B examples
would (the k small batches' gradients add up to k times the big batch's average). So
(B, lr) and (kB, k * lr) give close loss-per-epoch curves, and (kB, lr), the bigger batch
alone, falls behind: it moves k times less per epoch.

We train the same MLP from the same weights with plain SGD under the three settings and
measure how far apart the curves are: the mean over epochs of |log loss_a - log loss_b|.
The full run averages three seeds and adds a larger k, where the rule stretches (one long
step is no longer k short ones), which is why large-batch training pairs it with a warmup.
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F
from tinygrad_course.data import DataLoader, TensorDataset, make_spirals
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim.lr_scheduler import linear_scaling_rule


def loss_per_epoch(x, y, batch_size, lr, epochs, seeds):
    """Training loss on the whole set after each epoch, averaged over runs with these seeds."""
    return np.mean([one_run(x, y, batch_size, lr, epochs, seed) for seed in seeds], axis=0)


def one_run(x, y, batch_size, lr, epochs, seed):
    """Training loss on the whole set after each epoch of SGD (MLP 2 -> 64 -> 64 -> 3)."""
    model = MLP(2, [64, 64], 3, activation="relu", seed=seed)
    optimizer = tg.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, seed=seed)
    inputs, labels = tg.tensor(x), tg.tensor(y)
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with tg.no_grad():
            losses.append(F.cross_entropy(model(inputs), labels).item())
    return np.array(losses)


def curve_distance(a, b):
    """Mean over epochs of |log a - log b|: 0.1 means about 10% apart."""
    return float(np.mean(np.abs(np.log(a) - np.log(b))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n, epochs, ks, seeds = (600, 15, [4], [0]) if args.quick else (600, 40, [4, 16], [0, 1, 2])
    base_batch, base_lr = 16, 0.1
    x, y = make_spirals(n, n_classes=3, noise=0.2, seed=0)

    print(f"MLP 2 -> 64 -> 64 -> 3 on {n} spiral points, plain SGD, {epochs} epochs; "
          f"base: batch {base_batch}, lr {base_lr}; mean of the runs with seeds {seeds}")
    base = loss_per_epoch(x, y, base_batch, base_lr, epochs, seeds)
    curves = {f"B={base_batch}, lr={base_lr}": base}
    results = {}
    for k in ks:
        batch = k * base_batch
        scaled_lr = linear_scaling_rule(base_lr, base_batch, batch)
        scaled = loss_per_epoch(x, y, batch, scaled_lr, epochs, seeds)
        unscaled = loss_per_epoch(x, y, batch, base_lr, epochs, seeds)
        curves[f"B={batch}, lr={scaled_lr:g}"] = scaled
        curves[f"B={batch}, lr={base_lr} (not scaled)"] = unscaled
        results[k] = (curve_distance(base, scaled), curve_distance(base, unscaled))
        print(f"k = {k}:")
        for label, losses in [(f"(B, lr)       = ({base_batch}, {base_lr})", base),
                              (f"(kB, k lr)    = ({batch}, {scaled_lr:g})", scaled),
                              (f"(kB, lr)      = ({batch}, {base_lr})", unscaled)]:
            shown = losses[:: max(1, epochs // 5)]
            print(f"   {label:<28} loss per epoch: " + " ".join(f"{v:.3f}" for v in shown)
                  + f" ... {losses[-1]:.3f}")
        print(f"   curve distance to (B, lr): scaled {results[k][0]:.3f}, not scaled "
              f"{results[k][1]:.3f}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, losses in curves.items():
            ax.semilogy(range(1, epochs + 1), losses, "--" if "not" in label else "-",
                        label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.legend()
        print("figure:", _plotting.save(fig, "linear_scaling"))

    out = {}
    for k, (scaled, unscaled) in results.items():
        out[f"k{k}_scaled_distance"] = scaled
        out[f"k{k}_unscaled_distance"] = unscaled
    out["base_final_loss"] = float(base[-1])
    return out


if __name__ == "__main__":
    main()
