"""Discriminative vs generative classifiers: test accuracy as the training set grows, and
samples drawn from the generative one.

Lecture 2: a generative classifier models how the inputs of each class are distributed,
p(x | C_k), and gets p(C_k | x) from Bayes' rule; it can also draw new x. A discriminative one
models p(C_k | x) (or just the boundary) directly. The pair compared here describes the
SAME family of boundaries, so only the way they are fitted differs:

  generative      p(x | C_k) = N(mu_k, diag(s^2)), a Gaussian per class with a shared diagonal
                  covariance (Gaussian naive Bayes), fitted in closed form: class means and
                  pooled per-feature variances. Then
                  log p(C_1|x) / p(C_0|x) = sum_j (mu_1j - mu_0j) / s_j^2 * (x_j - m_j),
                  m_j = (mu_1j + mu_0j) / 2, is linear in x.
  discriminative  logistic regression p(C_1 | x) = sigmoid(w.x + b), fitted by gradient
                  descent on the cross-entropy (lightly L2-regularised), also linear in x.

Two data sets in d = 10 dimensions, each class Gaussian with means +-mu:
  "independent"  features independent given the class: the generative model is right.
  "correlated"   features strongly correlated given the class: the generative model's
                 independence assumption is wrong, so its boundary is biased however much
                 data it sees, while logistic regression converges to the best linear one.
For each training-set size both are fitted on many independent draws (vectorised: one batch
axis of repeats) and scored on one large test set. What it shows:
  * assumptions right: from a handful to about a thousand examples per class the generative
    fit is ahead (it only has to estimate means and variances), and both end at the Bayes
    accuracy; with 2-3 examples per class its variance estimates are so noisy that logistic
    regression is ahead. The demo returns the sizes where the generative fit is ahead
    (independent_generative_ahead), and the README states exactly those.
  * assumptions wrong: logistic regression is ahead at every size and approaches the Bayes
    accuracy; the generative fit levels off far below it, however much data it gets.
Samples drawn from the fitted generative model show the reason: they have the data's class
means but none of its correlations.
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F

DIM = 10


def problem(kind, seed=0):
    """Class means +-mu and the shared covariance (unit variances) of one data set."""
    rng = np.random.default_rng(seed)
    mu = 0.35 * rng.standard_normal(DIM)
    if kind == "independent":
        return mu, np.eye(DIM)
    b = rng.standard_normal((DIM, DIM))
    cov = b @ b.T / DIM + 0.2 * np.eye(DIM)
    scale = np.sqrt(np.diag(cov))
    return mu, cov / np.outer(scale, scale)


def sample(mu, cov, per_class, repeats, rng):
    """(repeats, 2 * per_class, DIM) inputs and (repeats, 2 * per_class) labels in {0, 1}."""
    labels = np.repeat([0, 1], per_class)
    noise = rng.multivariate_normal(np.zeros(DIM), cov, size=(repeats, 2 * per_class))
    x = np.where(labels[:, None] == 1, mu, -mu) + noise
    return x.astype(np.float32), np.broadcast_to(labels, (repeats, 2 * per_class))


def fit_generative(x, y):
    """Class means (R, 2, D) and pooled per-feature variances (R, D), in closed form."""
    one_hot = tg.tensor((y[..., None] == np.arange(2)).astype(np.float32))  # (R, n, 2)
    inputs = tg.tensor(x)
    counts = one_hot.sum(axis=1).unsqueeze(-1)                               # (R, 2, 1)
    means = (one_hot.swapaxes(1, 2) @ inputs) / counts                       # (R, 2, D)
    residual = inputs - one_hot @ means
    variance = (residual * residual).sum(axis=1) / float(x.shape[1] - 2) + 1e-6
    return means, variance


def generative_scores(means, variance, points):
    """Log-odds log p(C_1|x)/p(C_0|x) with equal priors: (R, 2, D), (R, D), (M, D) -> (R, M)."""
    w = (means[:, 1] - means[:, 0]) / variance                               # (R, D)
    midpoint = (means[:, 1] + means[:, 0]) * 0.5
    return w @ tg.tensor(points).T - (w * midpoint).sum(axis=1, keepdims=True)


def fit_logistic(x, y, steps, l2=1e-3):
    """R logistic regressions at once, full-batch Adam on mean BCE + l2 |w|^2."""
    repeats = x.shape[0]
    w = tg.zeros(repeats, DIM, 1, requires_grad=True)
    b = tg.zeros(repeats, 1, requires_grad=True)
    inputs, targets = tg.tensor(x), tg.tensor(y.astype(np.float32))
    optimizer = tg.optim.Adam([w, b], lr=0.05)
    for _ in range(steps):
        logits = (inputs @ w)[..., 0] + b                                   # (R, n)
        loss = F.binary_cross_entropy_with_logits(logits, targets) + l2 * (w * w).sum(
            axis=(1, 2)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return w, b


def accuracy(scores, labels):
    """Mean over repeats of the accuracy of sign(scores) (R, M) against labels (M,)."""
    return float(((scores.numpy() > 0) == (labels == 1)).mean())


def spans(grid, chosen):
    """The sizes ``chosen`` from ``grid`` as runs of neighbours: "5 to 500", "2, 20 to 50",
    or "none"."""
    runs = []
    for size in grid:
        if size not in chosen:
            continue
        if runs and grid.index(size) == grid.index(runs[-1][-1]) + 1:
            runs[-1].append(size)
        else:
            runs.append([size])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs) or "none"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, repeats, steps = [2, 20, 300], 30, 120
    else:
        sizes, repeats, steps = [2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 3000], 200, 600
    rng = np.random.default_rng(0)

    curves, fitted = {}, {}
    for kind in ["independent", "correlated"]:
        mu, cov = problem(kind)
        x_test, y_test = sample(mu, cov, 2_000, 1, rng)
        x_test, y_test = x_test[0], y_test[0]
        best = np.linalg.solve(cov, 2 * mu)                       # the Bayes-optimal boundary
        bayes = float(((x_test @ best > 0) == (y_test == 1)).mean())
        print(f"{kind}: d = {DIM}, Bayes-optimal test accuracy {bayes:.3f}; mean over "
              f"{repeats} training sets per size")
        print(f"   {'per class':>9} {'generative':>11} {'logistic':>9}")
        rows = []
        for per_class in sizes:
            x, y = sample(mu, cov, per_class, repeats, rng)
            means, variance = fit_generative(x, y)
            w, b = fit_logistic(x, y, steps)
            gen = accuracy(generative_scores(means, variance, x_test), y_test)
            disc = accuracy((tg.tensor(x_test) @ w)[..., 0] + b, y_test)
            rows.append((per_class, gen, disc))
            print(f"   {per_class:>9} {gen:>11.3f} {disc:>9.3f}")
        curves[kind] = (rows, bayes)
        fitted[kind] = (x[0], y[0], means.numpy()[0], variance.numpy()[0])

    # Samples drawn from the generative model fitted on the largest correlated training set.
    x_real, y_real, means, variance = fitted["correlated"]
    draws = 2_000
    labels = np.repeat([0, 1], draws)
    generated = means[labels] + np.sqrt(variance) * rng.standard_normal((2 * draws, DIM))
    real_corr = np.corrcoef(x_real[y_real == 1].T)
    gen_corr = np.corrcoef(generated[labels == 1].T)
    off_diagonal = ~np.eye(DIM, dtype=bool)
    mean_error = float(np.abs(generated[labels == 1].mean(0) - x_real[y_real == 1].mean(0)).max())
    print(f"samples drawn from the generative model (correlated data, {sizes[-1]} per class): "
          f"{2 * draws} new points")
    print(f"   class means match the data's within {mean_error:.3f}; largest correlation "
          f"between two features: {np.abs(real_corr[off_diagonal]).max():.2f} in the data, "
          f"{np.abs(gen_corr[off_diagonal]).max():.2f} in the samples (the model has none)")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, panels = plt.subplots(1, 3, figsize=(16, 4.5))
        for ax, (kind, (rows, bayes)) in zip(panels, curves.items()):
            n = [2 * r[0] for r in rows]
            ax.semilogx(n, [r[1] for r in rows], "o-", label="generative (Gaussian)")
            ax.semilogx(n, [r[2] for r in rows], "s-", label="logistic regression")
            ax.axhline(bayes, color="k", linestyle="--", label="Bayes optimal")
            ax.set_xlabel("training examples")
            ax.set_ylabel("test accuracy")
            ax.set_title(kind)
            ax.legend()
        i, j = np.unravel_index(np.argmax(np.abs(real_corr) * off_diagonal), real_corr.shape)
        ax = panels[2]
        # as many points of each, so that the two clouds' shapes compare, not their sizes
        ax.scatter(x_real[y_real == 1, i][:500], x_real[y_real == 1, j][:500], s=4, alpha=0.5,
                   label="data")
        ax.scatter(generated[labels == 1, i][:500], generated[labels == 1, j][:500], s=4,
                   alpha=0.5, label="drawn from the generative model")
        ax.set_xlabel(f"feature {i}")
        ax.set_ylabel(f"feature {j}")
        ax.set_title("class 1, the two most correlated features")
        # below the axes: inside, any corner of the clouds would be hidden
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, markerscale=3)
        print("figure:", _plotting.save(fig, "discriminative_generative"))

    results = {"sizes_per_class": sizes}
    for kind, (rows, bayes) in curves.items():
        at = {per_class: (gen, disc) for per_class, gen, disc in rows}
        ahead = [per_class for per_class, gen, disc in rows if gen > disc]
        results.update({f"{kind}_generative_ahead_at": ahead,   # sizes where it wins
                        f"{kind}_generative_ahead": spans(sizes, ahead),
                        f"{kind}_generative_at_smallest": rows[0][1],
                        f"{kind}_logistic_at_smallest": rows[0][2]})
        results.update({f"{kind}_bayes": bayes,
                        f"{kind}_generative_at_20": at[20][0],
                        f"{kind}_logistic_at_20": at[20][1],
                        f"{kind}_generative_largest": rows[-1][1],
                        f"{kind}_logistic_largest": rows[-1][2],
                        f"{kind}_logistic_minus_generative_min": min(d - g for _, g, d in rows)})
    results.update({"samples_mean_error": mean_error,
                    "data_max_correlation": float(np.abs(real_corr[off_diagonal]).max()),
                    "samples_max_correlation": float(np.abs(gen_corr[off_diagonal]).max())})
    return results

if __name__ == "__main__":
    main()
