"""A VQ-VAE turns each 8x8 digit into a 4x4 grid of discrete codes, and back.

Data: scikit-learn's digits, the seeded 80/20 split of the other digit demos. Model
(models/vqvae.py): a conv encoder (stride 2) to a 4x4 grid of 16-dim vectors, each replaced
by its nearest of K codebook vectors, the straight-through estimator (the decoder sees the
code, the encoder gets the decoder's gradient unchanged), and a decoder with a transposed
convolution back to 8x8. Loss: pixel MSE + codebook loss + 0.25 * commitment loss. Adam,
lr 2e-3, batches of 64.

Measured on the held-out images, for K = 8, 32, 128 and two ways to keep the codebook:
  plain          codebook loss only, codes drawn near 0 at the start;
  EMA + restart  codes as running means of their vectors, and codes that nobody picks
                 moved onto encoder outputs.
For each: reconstruction MSE (against the MSE of predicting the mean training image), how
many codes the held-out images use, and the perplexity of the code histogram (the
effective number of codes). The failure to see: with plain codes, more codes do not help,
because most of them are never picked and never learn ("codebook collapse").
Originals and reconstructions (EMA + restart, K = 32) are saved as a figure.

    python -m demos.vqvae_digits           full: 25 epochs per model, 6 models (about 3 min)
    python -m demos.vqvae_digits --quick   K = 8 and 32, 5 epochs (seconds)
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import data, optim
from tinygrad_course.models.vqvae import VQVAE, perplexity

VARIANTS = {"plain": {"ema": False, "restart_dead": False},
            "EMA + restart": {"ema": True, "restart_dead": True}}


def digit_split(seed=0):
    """(train images, test images) (N, 1, 8, 8) in [0, 1], the split of the digit demos."""
    images, labels = data.load_digits(flatten=False)
    X_train, X_test, _, _ = data.train_test_split(images, labels, test_fraction=0.2, seed=seed)
    return X_train[:, None].astype(np.float32), X_test[:, None].astype(np.float32)


def train_vqvae(X_train, num_codes, epochs, seed=0, batch_size=64, lr=2e-3, **variant):
    """A VQ-VAE trained on X_train; returns the model (in eval mode)."""
    model = VQVAE(num_codes=num_codes, dim=16, hidden=32, seed=seed, **variant)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch_size):
            x = tg.tensor(X_train[order[start:start + batch_size]])
            reconstruction, vq_loss, _ = model(x)
            loss = ((reconstruction - x) ** 2).mean() + vq_loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def evaluate(model, X_test):
    """(reconstruction MSE, codes (N, 4, 4)) on the held-out images."""
    with tg.no_grad():
        reconstruction, _, codes = model(tg.tensor(X_test))
    return float(((reconstruction.numpy() - X_test) ** 2).mean()), codes.numpy()


def plot_reconstructions(model, X_test, plt, count=10):
    with tg.no_grad():
        reconstruction = model(tg.tensor(X_test[:count]))[0].numpy()
    fig, axes = plt.subplots(2, count, figsize=(count, 2.3))
    for k in range(count):
        for row, images in enumerate((X_test, reconstruction)):
            axes[row, k].imshow(images[k, 0], cmap="gray_r", vmin=0, vmax=1)
            axes[row, k].axis("off")
    axes[0, 0].set_title("original", fontsize=8, loc="left")
    axes[1, 0].set_title("from 16 codes", fontsize=8, loc="left")
    return _plotting.save(fig, "vqvae_digits")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 8 and 32, 5 epochs")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    epochs, sizes = (5, (8, 32)) if args.quick else (25, (8, 32, 128))
    X_train, X_test = digit_split()
    baseline = float(((X_test - X_train.mean(axis=0)) ** 2).mean())
    print(f"held-out MSE of the mean training image: {baseline:.4f}")
    print(f"{'codebook':14s} {'K':>4s} {'MSE':>8s} {'codes used':>11s} {'perplexity':>11s}")
    results, figure_model = {}, None
    for variant, options in VARIANTS.items():
        for num_codes in sizes:
            start = time.perf_counter()
            model = train_vqvae(X_train, num_codes, epochs, **options)
            mse, codes = evaluate(model, X_test)
            used = len(np.unique(codes))
            results[(variant, num_codes)] = {"mse": mse, "used": used,
                                             "perplexity": perplexity(codes, num_codes)}
            print(f"{variant:14s} {num_codes:4d} {mse:8.4f} {used:5d} of {num_codes:<3d} "
                  f"{results[(variant, num_codes)]['perplexity']:11.1f}  "
                  f"({time.perf_counter() - start:.0f} s)")
            if variant == "EMA + restart" and num_codes == 32:
                figure_model = model
    largest = max(sizes)
    plain, kept = results[("plain", largest)], results[("EMA + restart", largest)]
    print(f"K = {largest}: plain codes use {plain['used']} of {largest} (perplexity "
          f"{plain['perplexity']:.1f}), EMA + restart {kept['used']} (perplexity "
          f"{kept['perplexity']:.1f}); MSE {plain['mse']:.4f} vs {kept['mse']:.4f}")
    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        print("figure:", plot_reconstructions(figure_model, X_test, plt))
    return {"results": results, "baseline_mse": baseline, "sizes": sizes, "epochs": epochs}


if __name__ == "__main__":
    main()
