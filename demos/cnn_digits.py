"""A LeNet-style CNN against the MLP and the ViT on the same held-out digits.

Data: scikit-learn's 8x8 digits, the 80/20 split of vit_digits (seeded), the same three
models' training: Adam (lr 3e-3, batches of 64), the same number of epochs for each:
  * CNN (models/cnn.py): conv 3x3 (16) -> ReLU -> max pool 2 -> conv 3x3 (32) -> ReLU ->
    max pool 2 -> 64 -> 10;
  * MLP: 64 -> 256 -> ReLU -> 10 on the pixels as one vector;
  * ViT: 4 x 4 patches, d_model 32, 2 blocks of 4 heads (as in vit_digits);
  * softmax regression (64 -> 10, mlp_digits' linear baseline), the reference with no hidden
    layer, trained the same way.
The 1-nearest-neighbour rule on the same splits (mlp_digits' baseline, no training) is the
second reference: an 8x8 digit is close in pixel distance to a training digit of its class.

Measured, per model: held-out accuracy (the mean of the seeds), parameter count, training
time; which model wins and by how many points. Then the inductive-bias test: the held-out
images shifted by 1 and 2 pixels (up, down, left, right; zeros fill in), which the models
never saw in training. Convolution shares one filter across positions and max pooling
forgets where in its cell a feature was, so the claim to check is that the CNN loses the
least accuracy; the MLP and the ViT learn each position (pixel or patch) on its own.
The first layer's 16 filters and their feature maps for one test digit are saved as plots.

    python -m demos.cnn_digits           full: 15 epochs, seeds 0, 1, 2 (under a minute)
    python -m demos.cnn_digits --quick   one seed, 3 epochs (seconds)
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from demos.mlp_digits import build_linear, nearest_neighbour_accuracy
from demos.vit_digits import accuracy, train
from tinygrad_course import data
from tinygrad_course.models.cnn import LeNet
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.models.vit import ViT

SHIFTS = (1, 2)
DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # up, down, left, right


def shift(images, dy, dx):
    """(N, H, W) images moved dy rows down and dx columns right; zeros fill in."""
    moved = np.zeros_like(images)
    h, w = images.shape[1:]
    moved[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return moved


def build(name, seed):
    if name == "cnn":
        return LeNet(image_size=8, channels=(16, 32), hidden=64, seed=seed)
    if name == "mlp":
        return MLP(64, 256, 10, seed=seed)
    if name == "linear":
        return build_linear(seed=seed)
    return ViT(8, 4, 10, d_model=32, nhead=4, num_layers=2, seed=seed)


def flat_input(name, images):
    """(N, 8, 8) images as the model reads them: one 64-vector each for the MLP and the
    softmax regression, images for the CNN and the ViT."""
    return images.reshape(len(images), -1) if name in ("mlp", "linear") else images


def shifted_accuracy(model, name, X_test, y_test, distance):
    """Mean held-out accuracy over the four directions of a ``distance``-pixel shift."""
    scores = []
    for dy, dx in DIRECTIONS:
        moved = shift(X_test, dy * distance, dx * distance)
        scores.append(accuracy(model, flat_input(name, moved), y_test))
    return float(np.mean(scores))


def plot_first_layer(model, image, plt):
    """The CNN's 16 first-layer filters, and their ReLU feature maps on ``image``."""
    conv = model.features[0]
    filters = conv.weight.numpy()[:, 0]
    with tg.no_grad():
        maps = tg.relu(conv(tg.tensor(image[None, None]))).numpy()[0]
    paths = []
    for title, panels, name in (("first-layer 3x3 filters", filters, "cnn_digits_filters"),
                                ("their feature maps (ReLU) on one test digit", maps,
                                 "cnn_digits_features")):
        fig, axes = plt.subplots(2, 9, figsize=(9, 2.4))
        axes[0, 0].imshow(image, cmap="gray_r")
        axes[0, 0].set_title("input", fontsize=7)
        axes[1, 0].axis("off")
        for k, ax in enumerate(axes[:, 1:].ravel()):
            ax.imshow(panels[k], cmap="RdBu_r" if name.endswith("filters") else "viridis")
        for ax in axes.ravel():
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(title, fontsize=9)
        paths.append(_plotting.save(fig, name))
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 3 epochs")
    parser.add_argument("--no-plot", action="store_true", help="skip the figures")
    args = parser.parse_args(argv)
    epochs, seeds = (3, [0]) if args.quick else (15, [0, 1, 2])
    images, labels = data.load_digits(flatten=False)
    names = ("cnn", "mlp", "vit", "linear")
    results = {name: {"accuracy": [], "seconds": [], "shifted": {d: [] for d in SHIFTS}}
               for name in names}
    parameters, first_cnn, first_split, nearest = {}, None, None, []
    for seed in seeds:
        X_train, X_test, y_train, y_test = data.train_test_split(images, labels,
                                                                 test_fraction=0.2, seed=seed)
        nearest.append(nearest_neighbour_accuracy(flat_input("linear", X_train),
                                                  flat_input("linear", X_test), y_train, y_test))
        print(f"seed {seed}  1-nearest neighbour on the same split: {nearest[-1]:.1%}")
        for name in names:
            model = build(name, seed)
            start = time.perf_counter()
            curve = train(model, flat_input(name, X_train), y_train, flat_input(name, X_test),
                          y_test, epochs, seed)
            seconds = time.perf_counter() - start
            row = results[name]
            row["accuracy"].append(curve[-1])
            row["seconds"].append(seconds)
            for distance in SHIFTS:
                row["shifted"][distance].append(
                    shifted_accuracy(model, name, X_test, y_test, distance))
            parameters[name] = model.num_parameters()
            if name == "cnn" and first_cnn is None:
                first_cnn, first_split = model, X_test
            print(f"seed {seed}  {name.upper()} ({parameters[name]:,} parameters): held-out "
                  f"{curve[-1]:.1%}, shifted 1 px {row['shifted'][1][-1]:.1%}, 2 px "
                  f"{row['shifted'][2][-1]:.1%}  ({seconds:.1f} s)")

    summary = {}
    print(f"\nmean over {len(seeds)} seed(s), {epochs} epochs each:")
    print(f"{'model':6s} {'params':>7s} {'train s':>8s} {'held-out':>9s} "
          + " ".join(f"{f'shift {d}px':>9s}" for d in SHIFTS)
          + " " + " ".join(f"{f'drop {d}px':>8s}" for d in SHIFTS))
    for name in names:
        row = results[name]
        acc = float(np.mean(row["accuracy"]))
        shifted = {d: float(np.mean(row["shifted"][d])) for d in SHIFTS}
        summary[name] = {"accuracy": acc, "parameters": parameters[name],
                         "seconds": float(np.mean(row["seconds"])), "shifted": shifted,
                         "drop": {d: acc - shifted[d] for d in SHIFTS}}
        print(f"{name.upper():6s} {parameters[name]:7,d} {summary[name]['seconds']:8.1f} "
              f"{acc:9.1%} " + " ".join(f"{shifted[d]:9.1%}" for d in SHIFTS) + " "
              + " ".join(f"{summary[name]['drop'][d] * 100:7.1f}p" for d in SHIFTS))
    print(f"1-NN   {'-':>7s} {'-':>8s} {float(np.mean(nearest)):9.1%}  (no training)")
    ranked = sorted(names, key=lambda n: summary[n]["accuracy"], reverse=True)
    margin = summary[ranked[0]]["accuracy"] - summary[ranked[1]]["accuracy"]
    print(f"most accurate: {ranked[0].upper()}, {margin * 100:.1f} points ahead of "
          f"{ranked[1].upper()}")
    for d in SHIFTS:
        steady = min(names, key=lambda n: summary[n]["drop"][d])
        print(f"shifted by {d} px: {steady.upper()} degrades least "
              f"({summary[steady]['drop'][d] * 100:.1f} points; "
              + ", ".join(f"{n.upper()} {summary[n]['drop'][d] * 100:.1f}" for n in names
                          if n != steady) + ")")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        for path in plot_first_layer(first_cnn, first_split[0], plt):
            print("figure:", path)
    return {"models": summary, "epochs": epochs, "seeds": seeds, "most_accurate": ranked[0],
            "margin": margin, "nearest_neighbour_accuracy": float(np.mean(nearest))}


if __name__ == "__main__":
    main()
