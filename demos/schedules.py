"""Learning-rate schedules: constant, step, linear and cosine decay (and warmup), what they
look like and what they do to training.

Lecture 3: the learning rate is the length of each step along the gradient, and it usually
shrinks as training goes on: big steps early to travel, small steps late to settle in a
minimum instead of bouncing around it. Linear decay lowers it evenly; cosine decay lowers it
slowly at first, fastest in the middle, slowly again at the end; step decay cuts it by a
factor at fixed epochs. Warmup (a short linear rise at the start) protects the first steps,
taken from random weights, from a rate that is too large for them.

Part 1 prints each schedule (tinygrad_course.optim.lr_scheduler) and how much of the rate it
removes in each quarter of training, then every schedule the library has (step, multi-step,
exponential, constant, linear, polynomial, lambda, multiplicative, cosine, warm restarts,
cyclic, one-cycle, warmup + cosine, chained, reduce-on-plateau), plotted side by side in the
figure schedules_gallery. Part 2 trains the same MLP from the same weights on the
same minibatches with SGD (momentum 0.9) under each schedule and compares the final training
loss and test accuracy: with the same starting rate, the decayed schedules finish lower.
"""

import argparse
import math

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F
from tinygrad_course.data import DataLoader, TensorDataset, make_spirals, train_test_split
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim import lr_scheduler


def make_schedule(name, optimizer, total):
    """The scheduler called ``name`` over ``total`` steps (None: keep the lr constant)."""
    if name == "constant":
        return None
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, total // 3), gamma=0.1)
    if name == "linear":
        return lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.0,
                                     total_iters=total)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "warmup+cosine":
        warmup = max(1, total // 10)
        return lr_scheduler.SequentialLR(
            optimizer, [lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
                        lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup)],
            milestones=[warmup])
    raise ValueError(f"schedules: unknown schedule {name!r}")


def lr_curve(name, base_lr, total):
    """The lr at steps 0..total of schedule ``name`` (read from a dummy optimiser)."""
    optimizer = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=base_lr)
    schedule = make_schedule(name, optimizer, total)
    lrs = []
    for _ in range(total + 1):
        lrs.append(optimizer.param_groups[0]["lr"])
        if schedule is not None:
            schedule.step()
    return np.array(lrs)


def gallery(base_lr, total):
    """Every schedule of tinygrad_course.optim.lr_scheduler over ``total`` steps: name ->
    the lr at steps 0..total. ReduceLROnPlateau reacts to a validation loss instead of the
    step; it is fed one that improves for a third of the run and then stalls."""
    S = lr_scheduler
    third, tenth = max(1, total // 3), max(1, total // 10)
    makers = {
        "StepLR": lambda o: S.StepLR(o, step_size=third, gamma=0.3),
        "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[total // 2, 3 * total // 4]),
        "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.97),
        "ConstantLR": lambda o: S.ConstantLR(o, factor=0.3, total_iters=tenth),
        "LinearLR": lambda o: S.LinearLR(o, 1.0, 0.0, total_iters=total),
        "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=total, power=2.0),
        "LambdaLR": lambda o: S.LambdaLR(o, lambda t: 1 / math.sqrt(1 + t)),
        "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda t: 0.98),
        "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=total),
        "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(
            o, T_0=tenth, T_mult=2),
        "CyclicLR": lambda o: S.CyclicLR(o, base_lr / 10, base_lr, step_size_up=tenth),
        "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=base_lr, total_steps=total + 1),
        "SequentialLR (warmup, cosine)": lambda o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.01, total_iters=tenth),
                S.CosineAnnealingLR(o, T_max=total - tenth)], milestones=[tenth]),
        "ChainedScheduler (constant x exp)": lambda o: S.ChainedScheduler(
            [S.ConstantLR(o, factor=0.3, total_iters=tenth), S.ExponentialLR(o, gamma=0.98)]),
        "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=5),
    }
    curves = {}
    for name, make in makers.items():
        optimizer = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=base_lr, momentum=0.9)
        schedule = make(optimizer)
        lrs = []
        for t in range(total + 1):
            lrs.append(optimizer.param_groups[0]["lr"])
            if isinstance(schedule, S.ReduceLROnPlateau):
                schedule.step(max(1.0 - t / third, 0.0) + 0.3)  # stalls at 0.3 after a third
            else:
                schedule.step()
        curves[name] = np.array(lrs)
    return curves


def train(name, data, epochs, base_lr, batch_size, seed):
    """Train MLP 2 -> 64 -> 64 -> 3 under schedule ``name`` (stepped once per minibatch);
    returns the training loss after each epoch and the final test accuracy."""
    x, y, x_test, y_test = data
    model = MLP(2, [64, 64], 3, activation="relu", seed=seed)
    optimizer = tg.optim.SGD(model.parameters(), lr=base_lr, momentum=0.9)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, seed=seed)
    schedule = make_schedule(name, optimizer, epochs * len(loader))
    inputs, labels = tg.tensor(x), tg.tensor(y)
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
        with tg.no_grad():
            losses.append(F.cross_entropy(model(inputs), labels).item())
    with tg.no_grad():
        test_accuracy = float((model(tg.tensor(x_test)).argmax(axis=1).numpy() == y_test).mean())
    return losses, test_accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n, epochs, seeds = (400, 40, [0]) if args.quick else (2000, 100, [0, 1, 2])
    base_lr, batch_size = 0.3, 64
    names = ["constant", "step", "linear", "cosine", "warmup+cosine"]

    print(f"1. The schedules over 100 steps from lr = {base_lr}: lr at 0/25/50/75/100%, and "
          "the share of it removed in each quarter")
    curves = {name: lr_curve(name, base_lr, 100) for name in names}
    drops = {}
    for name, lrs in curves.items():
        quarters = lrs[[0, 25, 50, 75, 100]]
        drops[name] = -np.diff(quarters) / base_lr + 0.0  # + 0.0: no "-0.00"
        print(f"   {name:<14} lr " + " ".join(f"{v:.4f}" for v in quarters)
              + "   removed per quarter " + " ".join(f"{d:+.2f}" for d in drops[name]))

    every = gallery(base_lr, 100)
    print(f"   every schedule in tinygrad_course.optim.lr_scheduler ({len(every)}), lr at "
          "0/25/50/75/100%:")
    for name, lrs in every.items():
        print(f"   {name:<34} " + " ".join(f"{v:.4f}" for v in lrs[[0, 25, 50, 75, 100]]))

    x_all, y_all = make_spirals(2 * n, n_classes=3, noise=0.2, seed=0)
    x, x_test, y, y_test = train_test_split(x_all, y_all, test_fraction=0.5, seed=0)
    print(f"2. MLP 2 -> 64 -> 64 -> 3 on {len(x)} spiral points, SGD momentum 0.9, lr {base_lr}"
          f", batch {batch_size}, {epochs} epochs; mean over seeds {list(seeds)}")
    print(f"   {'schedule':<14} {'final train loss':>16} {'test accuracy':>14}   (the constant "
          "rate's loss bounces from epoch to epoch: its final value varies widely by seed)")
    results, per_seed = {}, {}
    for name in names:
        runs = [train(name, (x, y, x_test, y_test), epochs, base_lr, batch_size, seed)
                for seed in seeds]
        final = float(np.mean([r[0][-1] for r in runs]))
        acc = float(np.mean([r[1] for r in runs]))
        results[name] = (runs[0][0], final, acc)
        per_seed[name] = [r[0][-1] for r in runs]
        print(f"   {name:<14} {final:>16.4f} {acc:>14.3f}   per seed "
              + " ".join(f"{loss:.4f}" for loss in per_seed[name]))

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
        for name, lrs in curves.items():
            left.plot(lrs, label=name)
        left.set(xlabel="step (of 100)", ylabel="learning rate", title="the schedules")
        for name, (losses, _, _) in results.items():
            right.semilogy(range(1, epochs + 1), losses, label=name)
        right.set(xlabel="epoch", ylabel="training loss (log scale)",
                  title=f"MLP on spirals, seed {seeds[0]}")
        # one legend for both panels (same colour per schedule), below them: it hides no data
        fig.legend(*left.get_legend_handles_labels(), loc="upper center", ncol=len(names),
                   bbox_to_anchor=(0.5, 0.0))
        print("figure:", _plotting.save(fig, "schedules"))
        columns = 5
        rows = -(-len(every) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.2 * rows), sharex=True)
        for ax, (name, lrs) in zip(axes.ravel(), every.items()):
            ax.plot(lrs)
            ax.set_title(name, fontsize=8)
            ax.set_ylim(0, base_lr * 1.05)
        for ax in axes.ravel()[len(every):]:
            ax.axis("off")
        fig.supxlabel("step")
        fig.supylabel("learning rate")
        fig.tight_layout()
        print("figure:", _plotting.save(fig, "schedules_gallery"))

    out = {"linear_drop_first_quarter": float(drops["linear"][0]),
           "cosine_drop_first_quarter": float(drops["cosine"][0]),
           "cosine_drop_second_quarter": float(drops["cosine"][1]),
           "warmup_lr_at_start": float(curves["warmup+cosine"][0]),
           "schedules_in_gallery": len(every),
           "one_cycle_peak_step": int(np.argmax(every["OneCycleLR"])),
           "plateau_final_lr": float(every["ReduceLROnPlateau"][-1])}
    for name, (_, final, acc) in results.items():
        out[f"{name}_final_loss"] = final
        out[f"{name}_test_accuracy"] = acc
        out[f"{name}_final_loss_per_seed"] = per_seed[name]
    return out


if __name__ == "__main__":
    main()
