"""Entropy, cross-entropy, KL divergence, MSE and MAE measured on examples; CE = H + KL.

Lecture 2 (in nats, p the true distribution, q the model's):

    entropy         H(p)      = -sum_c p_c log p_c           how uncertain p is
    cross-entropy   H(p, q)   = -sum_c p_c log q_c = H(p) + KL(p || q)
    KL divergence   KL(p||q)  =  sum_c p_c log(p_c / q_c)   >= 0, and 0 only when q = p
    MSE             mean (t - y)^2          MAE    mean |t - y|

So the smallest cross-entropy a model can reach is H(p), a floor set by the data (0 only for
one-hot targets), while the smallest KL is 0 for every p. And the two regression losses pick
different answers: the constant that minimises MSE is the mean of the targets, the one that
minimises MAE is their median, which an outlier barely moves. Everything below is computed
with tinygrad_course.functional; the minimisations are gradient descent with backward.
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F


def entropy_examples():
    examples = {"one-hot [1, 0, 0, 0]": [1.0, 0.0, 0.0, 0.0],
                "[1/2, 1/4, 1/8, 1/8]": [0.5, 0.25, 0.125, 0.125],
                "uniform over 4": [0.25] * 4}
    return {name: F.entropy(tg.tensor(p, dtype=np.float64)).item() + 0.0  # -0.0 prints as 0
            for name, p in examples.items()}


def decomposition(n, classes, seed):
    """CE, H and KL of n random pairs (p, q = softmax(z)); returns the three (n,) arrays."""
    rng = np.random.default_rng(seed)
    p = tg.tensor(rng.dirichlet(np.full(classes, 0.5), size=n), dtype=np.float64)
    z = tg.tensor(3 * rng.standard_normal((n, classes)), dtype=np.float64)
    ce = F.cross_entropy(z, p, reduction="none")
    h = F.entropy(p, dim=1)
    kl = F.kl_div(F.log_softmax(z, dim=1), p, reduction="none").sum(axis=1)
    kl_self = F.kl_div(p.log(), p, reduction="none").sum(axis=1)
    return ce.numpy(), h.numpy(), kl.numpy(), kl_self.numpy()


def minimise_over_q(p_values, steps):
    """Gradient descent on logits z for a fixed soft target p: CE(p, softmax(z)) falls to
    H(p), not to 0, while KL(p || softmax(z)) falls to 0."""
    p = tg.tensor(p_values, dtype=np.float64)
    z = tg.zeros(len(p_values), dtype=np.float64, requires_grad=True)
    optimizer = tg.optim.SGD([z], lr=1.0)
    history = []
    for _ in range(steps):
        ce = F.cross_entropy(z, p)
        optimizer.zero_grad()
        ce.backward()
        optimizer.step()
        history.append(ce.item())
    kl = F.kl_div(F.log_softmax(z, dim=0), p, reduction="sum").item()
    return history, F.entropy(p).item(), kl


def best_constant(targets, loss_fn, steps, lr):
    """The constant prediction c minimising loss_fn(c, targets), by gradient descent (Adam)."""
    t = tg.tensor(targets, dtype=np.float64)
    c = tg.zeros(1, dtype=np.float64, requires_grad=True)
    optimizer = tg.optim.Adam([c], lr=lr)
    for _ in range(steps):
        loss = loss_fn(c.expand(len(targets)), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return c.item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n, steps = (1_000, 300) if args.quick else (200_000, 3_000)

    print("1. Entropy H(p) in nats (log 4 = 1.386)")
    entropies = entropy_examples()
    for name, h in entropies.items():
        print(f"   {name:<22} H = {h:.4f}")

    print(f"2. {n} random pairs p, q over 10 classes: CE = H + KL, KL >= 0, KL(p || p) = 0")
    ce, h, kl, kl_self = decomposition(n, 10, seed=0)
    gap = float(np.abs(ce - (h + kl)).max())
    print(f"   max |CE - (H + KL)| = {gap:.2e};  min KL = {kl.min():.4f};  "
          f"max |KL(p || p)| = {np.abs(kl_self).max():.2e}")

    p_soft = [0.6, 0.3, 0.1]
    history, h_soft, kl_end = minimise_over_q(p_soft, steps)
    print(f"3. Minimising CE over q for p = {p_soft} ({steps} steps of gradient descent)")
    print(f"   CE: {history[0]:.4f} -> {history[-1]:.4f};  H(p) = {h_soft:.4f};  "
          f"KL at the end = {kl_end:.2e}")

    print("4. Regression losses on one example: targets t, predictions y")
    t_example, y_example = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 6.0]
    mse = F.mse_loss(tg.tensor(y_example), tg.tensor(t_example)).item()
    mae = F.l1_loss(tg.tensor(y_example), tg.tensor(t_example)).item()
    print(f"   t = {t_example}, y = {y_example}: MSE = {mse:.4f}, MAE = {mae:.4f}")
    targets = [1.0, 2.0, 3.0, 4.0, 100.0]
    mse_c = best_constant(targets, F.mse_loss, steps, lr=1.0)
    mae_c = best_constant(targets, F.l1_loss, steps, lr=0.05)
    print(f"   best constant for targets {targets}: under MSE {mse_c:.3f} "
          f"(mean {np.mean(targets):.3f}), under MAE {mae_c:.3f} (median "
          f"{np.median(targets):.3f})")

    print("5. Binary cross-entropy of a prediction p = 0.9")
    bce_right = F.binary_cross_entropy(tg.tensor([0.9]), tg.tensor([1.0])).item()
    bce_wrong = F.binary_cross_entropy(tg.tensor([0.9]), tg.tensor([0.0])).item()
    print(f"   target 1: {bce_right:.4f} (= -log 0.9);  target 0: {bce_wrong:.4f} (= -log 0.1)")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        left.semilogx(np.arange(1, len(history) + 1), history, label="cross-entropy H(p, q)")
        left.axhline(h_soft, color="k", linestyle="--", label="H(p): its floor")
        left.set(xlabel="gradient step (log scale)", ylabel="nats",
                 title="fitting q to a soft target p")
        left.legend()
        c = np.linspace(-5, 30, 400)
        right.plot(c, [np.mean((c_ - np.array(targets)) ** 2) / 100 for c_ in c],
                   label="MSE / 100")
        right.plot(c, [np.mean(np.abs(c_ - np.array(targets))) for c_ in c], label="MAE")
        right.axvline(np.mean(targets), color="C0", linestyle=":", label="mean")
        right.axvline(np.median(targets), color="C1", linestyle=":", label="median")
        right.set(xlabel=f"constant prediction c for targets {targets}", ylabel="loss",
                  title="the best constant")
        right.legend()
        print("figure:", _plotting.save(fig, "losses"))

    return {"entropy_uniform4": entropies["uniform over 4"],
            "entropy_one_hot": entropies["one-hot [1, 0, 0, 0]"],
            "ce_minus_h_plus_kl": gap, "kl_min": float(kl.min()),
            "kl_self_max": float(np.abs(kl_self).max()),
            "ce_final": history[-1], "entropy_soft": h_soft, "kl_final": kl_end,
            "mse_example": mse, "mae_example": mae,
            "mse_constant": mse_c, "mae_constant": mae_c,
            "bce_right": bce_right, "bce_wrong": bce_wrong}


if __name__ == "__main__":
    main()
