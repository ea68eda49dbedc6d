"""Regression posed as classification: predict the 4 bytes of a float32, one 256-way softmax
per byte, and compare with an MSE head predicting the float directly.

Lecture 2: a float32 output is 32 bits, i.e. 4 bytes; instead of regressing the number we can
classify each byte into one of 2^8 classes (4 x 256 outputs) and put the number back together
from the predicted bytes. Sometimes this works better than regression. We measure when:

  * a plain function, y = sqrt(x): both heads learn it. The byte head is only as precise as
    the bytes it gets right: the top two (sign, exponent, 7 mantissa bits) are a staircase in
    x that it learns; the two low bytes change ~256 and ~65536 times as often, look like noise
    to the network, and stay at chance. So its error cannot go much below 2^-8 of y, while
    the MSE head keeps improving: here regression is the better tool.
  * a two-valued answer, y = +sqrt(x) or -sqrt(x) at random (as in "a number whose square is
    x"): the MSE head predicts the average of the answers, ~0, which is neither; the byte head
    picks one sign byte and lands on a valid answer. Error = distance to the nearest valid
    answer.

Both heads sit on the same MLP body (1 -> 64 -> 64, tanh), trained with Adam for the same
number of Adam steps; x is uniform on [0.25, 4), so |y| is in [0.5, 2).
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.optim.lr_scheduler import CosineAnnealingLR


def to_bytes(y):
    """float32 values (N,) -> their 4 bytes (N, 4), little-endian: byte 3 holds the sign and
    7 exponent bits, byte 2 the last exponent bit and the top 7 mantissa bits."""
    return np.ascontiguousarray(y, dtype=np.float32).view(np.uint8).reshape(-1, 4)


def from_bytes(b):
    """(N, 4) bytes -> float32 values (N,): the inverse of to_bytes."""
    return np.ascontiguousarray(b, dtype=np.uint8).view(np.float32).reshape(-1)


def make_data(n, two_valued, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.25, 4.0, size=n).astype(np.float32)
    y = np.sqrt(x)
    if two_valued:
        y = y * rng.choice([-1.0, 1.0], size=n).astype(np.float32)
    return x, y.astype(np.float32)


def features(x):
    return tg.tensor(((x - 2.0) / 1.1)[:, None])


def train(model, loss_fn, x, steps, seed):
    """Adam on minibatches of 128, the lr decaying from 1e-2 to 0 along a cosine."""
    optimizer = tg.optim.Adam(model.parameters(), lr=1e-2)
    schedule = CosineAnnealingLR(optimizer, T_max=steps)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = rng.integers(0, len(x), size=128)
        loss = loss_fn(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()


def mse_head(x, y, steps, seed):
    model = MLP(1, [64, 64], 1, activation="tanh", seed=seed)
    inputs, targets = features(x), tg.tensor(y[:, None])
    train(model, lambda m, b: F.mse_loss(m(inputs[b]), targets[b]), x, steps, seed)
    return lambda points: model(features(points)).numpy()[:, 0]


def byte_head(x, y, steps, seed):
    """4 x 256 logits; the loss is the mean cross-entropy of the 4 bytes."""
    model = MLP(1, [64, 64], 4 * 256, activation="tanh", seed=seed)
    inputs, targets = features(x), tg.tensor(to_bytes(y).astype(np.int64))

    def loss_fn(m, batch):
        logits = m(inputs[batch]).reshape(len(batch) * 4, 256)    # one row per byte
        return F.cross_entropy(logits, targets[batch].reshape(len(batch) * 4))

    train(model, loss_fn, x, steps, seed)

    def predict_bytes(points):
        logits = model(features(points)).reshape(len(points), 4, 256)
        return logits.argmax(axis=2).numpy().astype(np.uint8)
    return predict_bytes


def error_to_valid(prediction, y, two_valued):
    """|prediction - y|, or the distance to the nearer of +-|y| for the two-valued task."""
    with np.errstate(invalid="ignore", over="ignore"):
        prediction = prediction.astype(np.float64)
        error = np.abs(prediction - y)
        if two_valued:
            error = np.minimum(error, np.abs(prediction + y))
    return np.where(np.isfinite(error), error, np.inf)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    n, steps = (1_000, 200) if args.quick else (20_000, 5_000)

    results, curves = {}, {}
    for task, two_valued in [("sqrt", False), ("plus_minus_sqrt", True)]:
        x, y = make_data(n, two_valued, seed=0)
        x_test, y_test = make_data(2_000, two_valued, seed=1)
        predict_mse = mse_head(x, y, steps, seed=0)
        predict_bytes = byte_head(x, y, steps, seed=0)
        bytes_test = predict_bytes(x_test)
        from_mse = predict_mse(x_test)
        from_cls = from_bytes(bytes_test)
        mse_error = error_to_valid(from_mse, y_test, two_valued)
        cls_error = error_to_valid(from_cls, y_test, two_valued)
        if two_valued:  # either sign is a right answer: score the bytes against the nearer one
            flipped = to_bytes(-y_test)
            use_flipped = np.abs(from_cls - (-y_test)) < np.abs(from_cls - y_test)
            truth = np.where(use_flipped[:, None], flipped, to_bytes(y_test))
        else:
            truth = to_bytes(y_test)
        byte_accuracy = (bytes_test == truth).mean(axis=0)
        results[task] = {"mse_median": float(np.median(mse_error)),
                         "mse_mean": float(np.mean(mse_error)),
                         "bytes_median": float(np.median(cls_error)),
                         "bytes_mean": float(np.mean(cls_error)),
                         "bytes_far_off": float((cls_error > 0.1 * np.abs(y_test)).mean()),
                         "byte_accuracy": byte_accuracy}
        curves[task] = (x_test, y_test, from_mse, from_cls)
        r = results[task]
        print(f"{task} (n={n}, {steps} Adam steps): |error| to the nearest right answer")
        print(f"   MSE head (1 output)          median {r['mse_median']:.2e}  mean "
              f"{r['mse_mean']:.2e}")
        print(f"   byte head (4 x 256 classes)  median {r['bytes_median']:.2e}  mean "
              f"{r['bytes_mean']:.2e}  off by > 10%: {r['bytes_far_off']:.1%}")
        print("   byte head accuracy per byte (3 = sign/exponent ... 0 = lowest mantissa): "
              + ", ".join(f"byte {i}: {byte_accuracy[i]:.3f}" for i in (3, 2, 1, 0)))

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, panels = plt.subplots(1, 2, figsize=(11, 4))
        for ax, (task, (xt, yt, pm, pc)) in zip(panels, curves.items()):
            order = np.argsort(xt)
            ax.scatter(xt, yt, s=3, c="grey", label="targets")
            ax.plot(xt[order], pm[order], "C0", label="MSE head")
            ax.plot(xt[order], np.clip(pc[order], -3, 3), "C1.", markersize=2,
                    label="byte head")
            ax.set_title(task)
            ax.set_xlabel("x")
            ax.legend()
        print("figure:", _plotting.save(fig, "regression_as_classification"))

    sqrt, pm = results["sqrt"], results["plus_minus_sqrt"]
    return {"sqrt_mse_head_median_error": sqrt["mse_median"],
            "sqrt_byte_head_median_error": sqrt["bytes_median"],
            "sqrt_byte_head_far_off": sqrt["bytes_far_off"],
            "sqrt_top_byte_accuracy": float(sqrt["byte_accuracy"][3]),
            "sqrt_byte2_accuracy": float(sqrt["byte_accuracy"][2]),
            "sqrt_lowest_byte_accuracy": float(sqrt["byte_accuracy"][0]),
            "pm_mse_head_median_error": pm["mse_median"],
            "pm_byte_head_median_error": pm["bytes_median"],
            "pm_byte_head_far_off": pm["bytes_far_off"]}


if __name__ == "__main__":
    main()
