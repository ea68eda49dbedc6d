"""The second stage of VQ-VAE: a GPT learns the grids of codes, then draws new digits.

Stage 1 (vqvae_digits): a VQ-VAE with K = 32 codes (EMA + restarts) turns each 8x8 digit
into a 4x4 grid of integers. Read in raster order, an image is a sentence of 16 tokens
from a vocabulary of K: exactly what a language model is for.

Stage 2: the course's GPT (models/gpt.py: causal self-attention, 2 blocks, d_model 64)
is trained on those sentences with a start token in front, [BOS, c_0 .. c_14] -> [c_0 ..
c_15], so it models p(c_0) p(c_1 | c_0) ... p(c_15 | c_<15). Measured: its held-out
cross-entropy in nats per code, against the unigram baseline (each code's frequency in the
training grids, add-one smoothed), which knows which codes are common but nothing about
where they sit or what their neighbours are. Then 16 grids are sampled code by code (BOS,
then one code at a time from the softmax over the K codes) and decoded by the VQ-VAE's
decoder into images: new digits, none of which is in the data.

    python -m demos.vq_prior           full: VQ-VAE 25 epochs, GPT 30 epochs
    python -m demos.vq_prior --quick   VQ-VAE 5 epochs, GPT 3 epochs (seconds)
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from demos.vqvae_digits import digit_split, train_vqvae
from tinygrad_course import optim
from tinygrad_course.models.gpt import GPT

NUM_CODES = 32


def as_sequences(codes, num_codes):
    """Code grids (N, h, w) -> inputs [BOS, c_0 .. c_{L-2}] and targets [c_0 .. c_{L-1}]."""
    flat = codes.reshape(len(codes), -1)
    bos = np.full((len(flat), 1), num_codes, dtype=np.int64)  # BOS = K, one past the codes
    return np.concatenate([bos, flat[:, :-1]], axis=1), flat


def unigram_cross_entropy(train_codes, test_codes, num_codes):
    """Nats per code on the test grids of the add-one-smoothed code frequencies of training."""
    counts = np.bincount(train_codes.reshape(-1), minlength=num_codes) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[test_codes.reshape(-1)].mean())


def prior_loss(model, inputs, targets):
    model.eval()
    with tg.no_grad():
        loss = model.loss(tg.tensor(inputs), tg.tensor(targets)).item()
    model.train()
    return loss


def train_prior(train_codes, epochs, seed=0, batch_size=64, lr=3e-3):
    inputs, targets = as_sequences(train_codes, NUM_CODES)
    model = GPT(NUM_CODES + 1, inputs.shape[1], d_model=64, nhead=4, num_layers=2, seed=seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(inputs))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            loss = model.loss(tg.tensor(inputs[rows]), tg.tensor(targets[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def sample_grids(model, count, grid_shape, seed=0):
    """``count`` code grids drawn from the prior, all in parallel: BOS, then one code at a
    time from softmax(logits) over the K codes (BOS itself is never drawn)."""
    rng = np.random.default_rng(seed)
    length = grid_shape[0] * grid_shape[1]
    tokens = np.full((count, 1), NUM_CODES, dtype=np.int64)
    model.eval()
    with tg.no_grad():
        for _ in range(length):
            logits = model(tg.tensor(tokens)).numpy()[:, -1, :NUM_CODES].astype(np.float64)
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            drawn = np.array([rng.choice(NUM_CODES, p=row) for row in p])
            tokens = np.concatenate([tokens, drawn[:, None]], axis=1)
    return tokens[:, 1:].reshape(count, *grid_shape)


def plot_samples(images, reconstructions, plt):
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
    for k, ax in enumerate(axes[0]):
        ax.imshow(reconstructions[k, 0], cmap="gray_r", vmin=0, vmax=1)
    for k, ax in enumerate(axes[1]):
        ax.imshow(images[k, 0], cmap="gray_r", vmin=0, vmax=1)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].set_title("held-out digits through the VQ-VAE", fontsize=8, loc="left")
    axes[1, 0].set_title("sampled from the GPT prior", fontsize=8, loc="left")
    return _plotting.save(fig, "vq_prior")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 + 3 epochs")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    vq_epochs, prior_epochs = (5, 3) if args.quick else (25, 30)
    X_train, X_test = digit_split()
    vqvae = train_vqvae(X_train, NUM_CODES, vq_epochs, ema=True, restart_dead=True)
    train_codes = vqvae.encode(tg.tensor(X_train)).numpy()
    test_codes = vqvae.encode(tg.tensor(X_test)).numpy()
    print(f"stage 1: {len(X_train)} training digits -> grids of {train_codes.shape[1]}x"
          f"{train_codes.shape[2]} codes from K = {NUM_CODES} "
          f"({len(np.unique(train_codes))} codes in use)")
    prior = train_prior(train_codes, prior_epochs)
    held_out = prior_loss(prior, *as_sequences(test_codes, NUM_CODES))
    unigram = unigram_cross_entropy(train_codes, test_codes, NUM_CODES)
    print(f"stage 2: GPT prior held-out {held_out:.3f} nats/code vs unigram {unigram:.3f} "
          f"(uniform: log K = {np.log(NUM_CODES):.3f}); the prior saves "
          f"{unigram - held_out:.3f} nats per code, {16 * (unigram - held_out):.1f} per image")
    grids = sample_grids(prior, 16, train_codes.shape[1:])
    samples = vqvae.decode(grids).numpy()
    copied = int(sum((grid == train_codes).all(axis=(1, 2)).any() for grid in grids))
    print(f"sampled 16 grids; {copied} of them equal a training grid")
    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        reconstructions = vqvae.decode(test_codes[:8]).numpy()
        print("figure:", plot_samples(samples, reconstructions, plt))
    return {"held_out": held_out, "unigram": unigram, "samples": samples, "grids": grids,
            "copied": copied}


if __name__ == "__main__":
    main()
