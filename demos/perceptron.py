"""The perceptron converges on separable data, cannot fit XOR, and a two-layer MLP can.

Lecture 3: a perceptron is a weighted sum plus a bias through a step, y = step(w.x + b),
trained by Rosenblatt's rule w <- w + lr (t - y) x. Three measurements:

1. Points separated by a line with margin gamma: the rule stops making mistakes after at most
   (R / gamma)^2 updates (Novikoff's theorem); we count the updates it actually needed.
2. XOR (four Gaussian clusters, the label is the XOR of the signs of the coordinates): no line
   gets more than about 3/4 of it right, so the rule keeps changing its mind; we record the
   best accuracy its weights ever reach, epoch after epoch.
3. An MLP with one hidden layer (tanh), trained by backpropagation on the same XOR points, and
   its accuracy on fresh points from the same clusters.
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course.data import make_xor
from tinygrad_course.models.perceptron import MLP, Perceptron


def separable_points(n, margin, seed):
    """n points of [-1, 1]^2 labelled by a random line, none closer than ``margin`` to it.

    Returns x (n, 2) float32, labels (n,) in {0, 1}, and the line as a unit vector w* of the
    augmented points [x, 1] (so the margin of [x, 1] under w* is >= margin).
    """
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    w_star = np.array([np.cos(angle), np.sin(angle), rng.uniform(-0.3, 0.3)])  # through the box
    w_star /= np.linalg.norm(w_star)
    x = rng.uniform(-1, 1, size=(20 * n, 2))
    score = np.concatenate([x, np.ones((len(x), 1))], axis=1) @ w_star
    keep = np.abs(score) >= margin
    return x[keep][:n].astype(np.float32), (score[keep][:n] > 0).astype(np.int64), w_star


def novikoff(x, labels, w_star):
    """(R / gamma)^2 for the augmented points [x, 1] and the separator w*."""
    augmented = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    radius = np.linalg.norm(augmented, axis=1).max()
    gamma = (np.where(labels == 1, 1, -1) * (augmented @ w_star)).min()
    return float((radius / gamma) ** 2)


def perceptron_epochs(x, labels, epochs, seed):
    """Train a perceptron one epoch at a time; accuracy of its weights after each epoch."""
    p = Perceptron(2)
    x_t, t_t = tg.tensor(x), tg.tensor(labels)
    accuracies = []
    for epoch in range(epochs):
        p.fit(x_t, t_t, epochs=1, seed=seed + epoch)
        accuracies.append(float((p(x_t).numpy()[:, 0] == labels).mean()))
    return p, accuracies


def train_mlp(x, labels, steps, seed):
    """MLP 2 -> 16 (tanh) -> 2 logits, full-batch Adam on the cross-entropy."""
    model = MLP(2, 16, 2, activation="tanh", seed=seed)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.03)
    x_t, t_t = tg.tensor(x), tg.tensor(labels)
    rows = np.arange(len(x))
    for _ in range(steps):
        loss = -model(x_t).log_softmax(axis=1)[rows, t_t].mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, loss.item()


def accuracy(predict, x, labels):
    return float((predict(x) == labels).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n, epochs, steps, seeds = (200, 8, 200, [0]) if args.quick else (1000, 40, 1500, range(3))

    print(f"1. Separable points (n={n}, margin >= 0.05): the rule stops after finitely many "
          "updates")
    separable = []
    for seed in seeds:
        x, t, w_star = separable_points(n, margin=0.05, seed=seed)
        p = Perceptron(2)
        fit = p.fit(tg.tensor(x), tg.tensor(t), epochs=10_000, seed=seed)
        bound = novikoff(x, t, w_star)
        separable.append((fit, bound))
        print(f"   seed {seed}: converged={fit['converged']} after {fit['epochs']} epochs, "
              f"{fit['updates']} updates; Novikoff bound (R/gamma)^2 = {bound:.0f}")
    fit, bound = separable[0]

    print(f"2. XOR clusters (n={n}): the perceptron never settles")
    x, t = make_xor(n, noise=0.35, seed=1)
    x_test, t_test = make_xor(n, noise=0.35, seed=2)
    best = []
    for seed in seeds:
        p_xor, accuracies = perceptron_epochs(x, t, epochs, seed)
        best.append(max(accuracies))
        print(f"   seed {seed}: accuracy after each of {epochs} epochs between "
              f"{min(accuracies):.2f} and {max(accuracies):.2f}")

    print("3. An MLP (2 -> 16 tanh -> 2) trained by backpropagation on the same points")
    mlp_test = []
    for seed in seeds:
        model, loss = train_mlp(x, t, steps, seed)

        def mlp_predict(points, model=model):
            return model(tg.tensor(points)).argmax(axis=1).numpy()

        mlp_test.append(accuracy(mlp_predict, x_test, t_test))
        print(f"   seed {seed}: final loss {loss:.3f}, train accuracy "
              f"{accuracy(mlp_predict, x, t):.3f}, test accuracy {mlp_test[-1]:.3f}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        grid = np.stack(np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-2, 2, 200)), -1)
        points = grid.reshape(-1, 2).astype(np.float32)
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        xs, ts, _ = separable_points(n, margin=0.05, seed=0)
        p_sep = Perceptron(2)
        p_sep.fit(tg.tensor(xs), tg.tensor(ts), epochs=10_000)
        panels = [(p_sep, xs, ts, "perceptron, separable"), (p_xor, x, t, "perceptron, XOR"),
                  (model, x, t, "MLP, XOR")]
        for ax, (net, px, pt, title) in zip(axes, panels):
            out = net(tg.tensor(points))
            region = (out.argmax(axis=1) if out.shape[1] == 2 else out[:, 0]).numpy()
            ax.contourf(grid[..., 0], grid[..., 1], region.reshape(200, 200),
                        levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.25)
            ax.scatter(px[:, 0], px[:, 1], c=pt, s=8, cmap="coolwarm")
            ax.set_title(title)
        print("figure:", _plotting.save(fig, "perceptron"))

    return {"separable_converged": all(f["converged"] for f, _ in separable),
            "separable_updates": fit["updates"], "novikoff_bound": bound,
            "worst_updates_over_bound": max(f["updates"] / b for f, b in separable),
            "xor_perceptron_best_accuracy": max(best),
            "xor_mlp_test_accuracy": min(mlp_test)}


if __name__ == "__main__":
    main()
