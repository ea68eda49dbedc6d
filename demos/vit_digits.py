"""A Vision Transformer classifies the 8x8 handwritten digits, next to an MLP.

Data: scikit-learn's bundled digits (1,797 images, pixels scaled to [0, 1]), split with a
fixed seed into 80% training and 20% held-out images. Models, both trained with Adam
(lr 3e-3, batches of 64) for the same number of epochs:
  * ViT (models/vit.py): 4 x 4 patches (4 patches of 16 pixels), a linear projection to
    d_model = 32, a CLS token, learned position embeddings, 2 pre-LN blocks of 4 heads;
  * MLP (models/perceptron.py): 64 -> 256 -> ReLU -> 10 on the same pixels as one vector
    (19,210 parameters against the ViT's 26,538).

The measured facts: each model's held-out accuracy (per seed, and the mean in full mode)
and its number of parameters. The claim is that attention over patches learns digits as
well as a dense network of similar size does, even from 1,400 images: neither model is told
that neighbouring pixels belong together, both see absolute positions (the MLP through its
weights, the ViT through position embeddings).

    python -m demos.vit_digits           full: 30 epochs, seeds 0, 1, 2
    python -m demos.vit_digits --quick   one seed, 4 epochs (seconds)
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting, _progress
from demos.mlp_digits import nearest_neighbour_accuracy
from tinygrad_course import data, optim
from tinygrad_course import functional as F
from tinygrad_course.models.perceptron import MLP
from tinygrad_course.models.vit import ViT


def accuracy(model, images, labels):
    model.eval()
    with tg.no_grad():
        predicted = model(tg.tensor(images)).numpy().argmax(axis=1)
    model.train()
    return float((predicted == labels).mean())


def train(model, X_train, y_train, X_test, y_test, epochs, seed, batch_size=64, lr=3e-3):
    """Adam on shuffled minibatches; returns the held-out accuracy after every epoch."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    curve = []
    for epoch in range(epochs):
        _progress.epoch(epoch + 1, epochs)
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            loss = F.cross_entropy(model(tg.tensor(X_train[rows])), tg.tensor(y_train[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        curve.append(accuracy(model, X_test, y_test))
    return curve


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 4 epochs")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    epochs, seeds = (4, [0]) if args.quick else (30, [0, 1, 2])
    images, labels = data.load_digits(flatten=False)
    results = {"vit": [], "mlp": []}
    curves, nearest = {}, []
    for seed in seeds:
        X_train, X_test, y_train, y_test = data.train_test_split(images, labels,
                                                                 test_fraction=0.2, seed=seed)
        models = {"vit": ViT(8, 4, 10, d_model=32, nhead=4, num_layers=2, seed=seed),
                  "mlp": MLP(64, 256, 10, seed=seed)}
        for name, model in models.items():
            flat = name == "mlp"
            start = time.perf_counter()
            curve = train(model, X_train.reshape(len(X_train), -1) if flat else X_train,
                          y_train, X_test.reshape(len(X_test), -1) if flat else X_test, y_test,
                          epochs, seed)
            results[name].append(curve[-1])
            curves.setdefault(name, curve)
            print(f"seed {seed}  {name.upper():3s} ({model.num_parameters():,} parameters): "
                  f"held-out accuracy {curve[-1]:.1%} after {epochs} epochs "
                  f"({time.perf_counter() - start:.0f} s)")
        # the reference without training: the label of the nearest training image
        nearest.append(nearest_neighbour_accuracy(X_train.reshape(len(X_train), -1),
                                                  X_test.reshape(len(X_test), -1),
                                                  y_train, y_test))
        print(f"seed {seed}  1-nearest neighbour on the same split: {nearest[-1]:.1%}")
    vit, mlp = float(np.mean(results["vit"])), float(np.mean(results["mlp"]))
    print(f"mean held-out accuracy over {len(seeds)} seed(s): ViT {vit:.1%}, MLP {mlp:.1%}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, curve in curves.items():
            ax.plot(range(1, epochs + 1), curve, marker="o", label=name.upper())
        ax.axhline(nearest[0], color="grey", ls="--", label="1-nearest neighbour")
        ax.set_xlabel("epoch")
        ax.set_ylabel("held-out accuracy (seed 0)")
        ax.legend()
        print("figure:", _plotting.save(fig, "vit_digits"))

    return {"vit_accuracy": vit, "mlp_accuracy": mlp, "nearest_neighbour_accuracy":
            float(np.mean(nearest)), "vit_per_seed": results["vit"],
            "mlp_per_seed": results["mlp"], "epochs": epochs, "curves": curves}


if __name__ == "__main__":
    main()
