"""Multi-class from binary linear classifiers: one-vs-rest and one-vs-one leave parts of the
plane undecided; a softmax classifier leaves none.

Lecture 2: with K classes and only binary linear classifiers f(x) = w.x + b > 0 we can
  * one-vs-rest (OvR): K classifiers, "class k or not". A point is decided when exactly one
    says yes; where none or several do, the rule has no answer.
  * one-vs-one (OvO): K(K-1)/2 classifiers, "class i or class j", trained on those two
    classes only; each casts a vote. Where two or more classes tie for the most votes, there
    is no answer.
  * softmax: K linear scores z_k = w_k.x + b_k and the class argmax_k z_k: every point gets
    exactly one class (ties only on boundaries, a set of area 0).
We train all three on the same Gaussian clusters (each family in one vectorised model:
K or K(K-1)/2 logistic regressions side by side) and count the fraction of a grid over the
plane where each rule is undefined, and the test accuracy where it is defined.
"""

import argparse
import itertools

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F
from tinygrad_course.data import make_blobs

CENTERS = [(0.0, 3.0), (-3.0, -1.5), (2.5, -2.0), (4.0, 3.5), (0.0, 0.0)]
SPREADS = [0.8, 1.2, 0.6, 1.0, 0.5]


def clusters(n, seed):
    """Gaussian clusters of different spreads around CENTERS (labels 0..K-1)."""
    x, y = make_blobs(n, centers=CENTERS, cluster_std=1.0, seed=seed)
    x = np.asarray(CENTERS, np.float32)[y] + (x - np.asarray(CENTERS, np.float32)[y]) * \
        np.asarray(SPREADS, np.float32)[y, None]
    return x.astype(np.float32), y


def train(model, loss_fn, steps):
    optimizer = tg.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        loss = loss_fn(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def one_vs_rest(x, y, k, steps):
    """K logistic regressions at once: column c of the (N, K) scores is 'class c vs rest'."""
    model = tg.nn.Linear(2, k, seed=0)
    targets = tg.tensor(np.eye(k, dtype=np.float32)[y])
    inputs = tg.tensor(x)
    train(model, lambda m: F.binary_cross_entropy_with_logits(m(inputs), targets), steps)

    def decide(points):
        says_yes = (model(tg.tensor(points)) > 0).numpy()       # (M, K)
        defined = says_yes.sum(axis=1) == 1
        return np.where(defined, says_yes.argmax(axis=1), -1)
    return decide


def one_vs_one(x, y, k, steps):
    """K(K-1)/2 logistic regressions at once: column p scores 'class i vs class j' for the
    p-th pair (i, j), trained only on examples of i and j (the others get weight 0)."""
    pairs = list(itertools.combinations(range(k), 2))
    first = np.array([i for i, _ in pairs])
    second = np.array([j for _, j in pairs])
    model = tg.nn.Linear(2, len(pairs), seed=0)
    in_pair = (y[:, None] == first) | (y[:, None] == second)          # (N, P)
    targets = tg.tensor((y[:, None] == first).astype(np.float32))       # 1: the first class
    weight = tg.tensor(in_pair.astype(np.float32) / in_pair.sum(axis=0))  # mean per pair
    inputs = tg.tensor(x)
    train(model, lambda m: F.binary_cross_entropy_with_logits(
        m(inputs), targets, weight=weight, reduction="sum"), steps)

    def decide(points):
        first_wins = (model(tg.tensor(points)) > 0).numpy()       # (M, P)
        winners = np.where(first_wins, first, second)               # (M, P) class labels
        votes = (winners[:, :, None] == np.arange(k)).sum(axis=1)   # (M, K)
        top = votes.max(axis=1, keepdims=True)
        defined = (votes == top).sum(axis=1) == 1
        return np.where(defined, votes.argmax(axis=1), -1)
    return decide


def softmax_classifier(x, y, k, steps):
    model = tg.nn.Linear(2, k, seed=0)
    inputs, labels = tg.tensor(x), tg.tensor(y)
    train(model, lambda m: F.cross_entropy(m(inputs), labels), steps)

    def decide(points):
        scores = model(tg.tensor(points)).numpy()
        ordered = np.sort(scores, axis=1)
        defined = ordered[:, -1] > ordered[:, -2]                   # a strict winner
        return np.where(defined, scores.argmax(axis=1), -1)
    return decide


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n, steps, side = (400, 300, 200) if args.quick else (4000, 3000, 1000)
    k = len(CENTERS)
    x, y = clusters(n, seed=0)
    x_test, y_test = clusters(n, seed=1)
    low, high = x.min(axis=0) - 1.0, x.max(axis=0) + 1.0
    axes = [np.linspace(low[d], high[d], side) for d in range(2)]
    grid = np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, 2).astype(np.float32)

    print(f"{k} Gaussian clusters, {n} training points; plane = the data's bounding box + 1, "
          f"{side} x {side} grid")
    print(f"{'strategy':<14} {'classifiers':>11} {'undefined plane':>16} "
          f"{'undefined test':>15} {'test accuracy':>14}")
    results, regions = {}, {}
    for name, build, count in [("one-vs-rest", one_vs_rest, k),
                               ("one-vs-one", one_vs_one, k * (k - 1) // 2),
                               ("softmax", softmax_classifier, k)]:
        decide = build(x, y, k, steps)
        regions[name] = decide(grid)
        on_test = decide(x_test)
        undefined = float((regions[name] == -1).mean())
        accuracy = float((on_test == y_test).mean())  # undefined counts as wrong
        results[name] = (undefined, float((on_test == -1).mean()), accuracy)
        print(f"{name:<14} {count:>11} {undefined:>16.2%} {results[name][1]:>15.2%} "
              f"{accuracy:>14.3f}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, panels = plt.subplots(1, 3, figsize=(15, 4.5))
        for ax, (name, region) in zip(panels, regions.items()):
            image = np.ma.masked_equal(region.reshape(side, side), -1)
            ax.imshow(image, origin="lower", extent=(low[0], high[0], low[1], high[1]),
                      cmap="tab10", vmin=0, vmax=9, alpha=0.35, aspect="auto")
            undefined = region.reshape(side, side) == -1
            ax.contourf(axes[0], axes[1], undefined, levels=[0.5, 1.5], colors="k", alpha=0.6)
            ax.scatter(x[:, 0], x[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, s=6)
            ax.set_title(f"{name}: {results[name][0]:.1%} undefined (black)")
        print("figure:", _plotting.save(fig, "multiclass_strategies"))

    return {"ovr_undefined_fraction": results["one-vs-rest"][0],
            "ovo_undefined_fraction": results["one-vs-one"][0],
            "softmax_undefined_fraction": results["softmax"][0],
            "ovr_test_accuracy": results["one-vs-rest"][2],
            "ovo_test_accuracy": results["one-vs-one"][2],
            "softmax_test_accuracy": results["softmax"][2]}


if __name__ == "__main__":
    main()
