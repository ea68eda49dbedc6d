"""VQ-VAE (van den Oord et al. 2017): images -> a grid of discrete codes -> images.

    x (N, 1, H, W) --encoder--> z_e (N, D, H/2, W/2) --quantise--> z_q --decoder--> x_hat

The quantiser (VectorQuantize) holds a codebook e of K vectors of D numbers and replaces
each D-vector of z_e by its nearest code,

    k* = argmin_k ||z_e - e_k||^2 = argmin_k (||e_k||^2 - 2 z_e . e_k),    z_q = e_{k*}

so an image becomes a grid of integers in [0, K): tokens a language model can read
(vq_prior trains the GPT on them). argmin has no gradient, so the decoder's input is
straight_through(z_e, z_q): the values of z_q, and the gradient copied unchanged to z_e.
The loss (beta = 0.25 as in the paper):

    L = ||x - x_hat||^2  +  ||sg(z_e) - z_q||^2  +  beta ||z_e - sg(z_q)||^2
        reconstruction      codebook: codes move     commitment: the encoder stays near
                            to their vectors         the codes it picked       (sg = detach)

EMA option (the paper's appendix): instead of the codebook loss, each code becomes the
running mean of the vectors assigned to it,

    N_k <- g N_k + (1 - g) n_k,    m_k <- g m_k + (1 - g) sum of the z_e assigned to k,
    e_k = m_k / N_k        (N_k Laplace-smoothed so that it never divides by zero)

Dead codes: a code that no vector picks gets no gradient (and no EMA update), so it stays
dead; with a poor start most codes can die ("codebook collapse": K = 128 codes of which a
handful are used). With restarts, a code whose running usage (an EMA of how many vectors
picked it per batch) falls below ``dead_threshold`` is moved onto a random encoder output
of the current batch, where it will be picked.
"""

import numpy

from .. import backend, nn
from ..autograd import no_grad
from ..errors import ShapeError
from ..functional import straight_through
from ..nn import init
from ..tensor import Tensor, constant


class VectorQuantize(nn.Module):
    """Nearest-code quantiser. forward(z_e (N, D, H, W)) -> (z (N, D, H, W), loss, codes
    (N, H, W) int64): z has z_q's values and z_e's gradient (straight-through); loss is the
    codebook + commitment loss (commitment only with EMA).

    ``usage`` is a running mean (decay USAGE_DECAY: about the last 10 batches) of how many
    vectors of a batch picked each code; with restart_dead, codes below dead_threshold are
    restarted."""

    USAGE_DECAY = 0.9

    def __init__(self, num_codes, dim, beta=0.25, ema=False, decay=0.99, restart_dead=False,
                 dead_threshold=0.5, seed=None, generator=None):
        super().__init__()
        if num_codes < 1 or dim < 1 or not 0.0 < decay < 1.0:
            raise ValueError(f"VectorQuantize: need num_codes, dim >= 1 and 0 < decay < 1, got "
                             f"{num_codes}, {dim}, {decay}")
        self.num_codes, self.dim, self.beta = num_codes, dim, beta
        self.ema, self.decay = ema, decay
        self.restart_dead, self.dead_threshold = restart_dead, dead_threshold
        self.rng = init.get_generator(seed, generator)
        codes = self.rng.uniform(-1.0 / num_codes, 1.0 / num_codes, size=(num_codes, dim))
        if ema:  # updated by running means, not by gradients: a buffer
            self.register_buffer("codebook", Tensor(codes.astype(numpy.float32)))
            self.register_buffer("cluster_size", Tensor(numpy.ones(num_codes, numpy.float32)))
            self.register_buffer("code_sum", Tensor(codes.astype(numpy.float32)))
        else:
            self.codebook = nn.Parameter(Tensor(codes.astype(numpy.float32)))
        self.register_buffer("usage", Tensor(numpy.ones(num_codes, numpy.float32)))

    def nearest(self, rows):
        """Index of the nearest code for each row of rows (M, D): argmin of
        ||e_k||^2 - 2 row . e_k (||row||^2 is the same for every k)."""
        codebook = self.codebook.data
        scores = (codebook * codebook).sum(axis=1)[None, :] - 2.0 * (rows @ codebook.T)
        return scores.argmin(axis=1)

    def forward(self, z_e):
        if z_e.ndim != 4 or z_e.shape[1] != self.dim:
            raise ShapeError(f"VectorQuantize: expected z_e of shape (N, {self.dim}, H, W), got "
                             f"{z_e.shape}")
        n, d, h, w = z_e.shape
        rows = z_e.transpose(0, 2, 3, 1).reshape(-1, d)  # (M, D), one row per grid cell
        codes = self.nearest(rows.data)
        if self.training:
            self._update(rows.data, codes)
        z_q = self.codebook[constant(codes, like=z_e)]  # (M, D) code rows
        commitment = ((rows - z_q.detach()) ** 2).mean()
        loss = self.beta * commitment
        if not self.ema:
            loss = loss + ((rows.detach() - z_q) ** 2).mean()
        z = straight_through(rows, z_q).reshape(n, h, w, d).transpose(0, 3, 1, 2)
        return z, loss, constant(codes.reshape(n, h, w), like=z_e)

    def _update(self, rows, codes):
        """Training-time bookkeeping on the arrays: usage, EMA codes, dead-code restarts."""
        xp, g = self.codebook.xp, self.decay
        counts = xp.bincount(codes, minlength=self.num_codes).astype(rows.dtype)
        u = self.USAGE_DECAY
        self.usage.data = u * self.usage.data + (1 - u) * counts
        if self.ema:
            sums = xp.zeros_like(self.code_sum.data)
            backend.scatter_add(xp, sums, codes, rows)
            self.cluster_size.data = g * self.cluster_size.data + (1 - g) * counts
            self.code_sum.data = g * self.code_sum.data + (1 - g) * sums
            total = self.cluster_size.data.sum()
            smoothed = (self.cluster_size.data + 1e-5) / (total + self.num_codes * 1e-5) * total
            self.codebook.data = self.code_sum.data / smoothed[:, None]
        if self.restart_dead:
            dead = numpy.flatnonzero(backend.to_numpy(self.usage.data) < self.dead_threshold)
            if dead.size:
                picks = self.rng.choice(rows.shape[0], size=dead.size,
                                        replace=dead.size > rows.shape[0])
                fresh = rows[xp.asarray(picks)]
                dead_rows = xp.asarray(dead)
                self.codebook.data[dead_rows] = fresh
                self.usage.data[dead_rows] = 1.0
                if self.ema:
                    self.cluster_size.data[dead_rows] = 1.0
                    self.code_sum.data[dead_rows] = fresh


def perplexity(codes, num_codes):
    """exp(entropy of the code histogram): K when every code is used equally, 1 when one
    code is used for everything; the "effective number of codes"."""
    counts = numpy.bincount(numpy.asarray(codes).reshape(-1), minlength=num_codes)
    p = counts[counts > 0] / counts.sum()
    return float(numpy.exp(-(p * numpy.log(p)).sum()))


class VQVAE(nn.Module):
    """Conv encoder (stride 2) -> VectorQuantize -> decoder (transposed conv, stride 2).

    x (N, C, H, W) with even H, W -> (x_hat, vq_loss, codes (N, H/2, W/2))."""

    def __init__(self, num_codes=32, dim=16, hidden=32, in_channels=1, beta=0.25, ema=False,
                 decay=0.99, restart_dead=False, seed=None):
        super().__init__()
        rng = numpy.random.default_rng(seed)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 4, stride=2, padding=1, generator=rng), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1, generator=rng), nn.ReLU(),
            nn.Conv2d(hidden, dim, 1, generator=rng))
        self.quantizer = VectorQuantize(num_codes, dim, beta=beta, ema=ema, decay=decay,
                                        restart_dead=restart_dead, generator=rng)
        self.decoder = nn.Sequential(
            nn.Conv2d(dim, hidden, 3, padding=1, generator=rng), nn.ReLU(),
            nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1, generator=rng), nn.ReLU(),
            nn.Conv2d(hidden, in_channels, 3, padding=1, generator=rng))

    def forward(self, x):
        z, vq_loss, codes = self.quantizer(self.encoder(x))
        return self.decoder(z), vq_loss, codes

    def encode(self, x):
        """Images -> code grids (N, H/2, W/2), no gradient."""
        with no_grad():
            return self.quantizer(self.encoder(x))[2]

    def decode(self, codes):
        """Code grids (N, h, w) of ints -> images."""
        codes = numpy.asarray(codes) if not isinstance(codes, Tensor) else codes.numpy()
        with no_grad():
            z_q = self.quantizer.codebook[codes.reshape(-1)]
            n, h, w = codes.shape
            return self.decoder(z_q.reshape(n, h, w, -1).transpose(0, 3, 1, 2))
