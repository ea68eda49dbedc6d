"""Why attention divides by sqrt(d_k): without it the softmax saturates and its gradient dies.

For queries and keys with independent N(0, 1) entries, a score q.k is a sum of d_k products
of variance 1, so its standard deviation is sqrt(d_k). Fed to a softmax, scores that spread
ever wider make the weights ever closer to one-hot: the attention-weight entropy falls
towards 0 (from log S for uniform weights over S keys), and since
    dP_i/dS_j = P_i (delta_ij - P_j)
vanishes when one P_i is 1 and the rest 0, the gradient that reaches the scores (and through
them W_q and W_k) shrinks towards 0. Scaling the scores by 1/sqrt(d_k) keeps their standard
deviation at 1 for every d_k, and entropy and gradient stay put.

For each d_k the demo draws queries and keys, runs the softmax forward and backward with the
library's ops (upstream gradient: random N(0, 1)), and prints with and without scaling:
the scores' standard deviation, the mean entropy of the attention weights, the mean largest
weight and the mean |dL/dscores|, once through a bare softmax and once inside
F.scaled_dot_product_attention (scale=1/sqrt(d_k) or scale=1, values and upstream N(0, 1)).

    python -m demos.attention_scaling           d_k = 4 ... 1024, 512 queries x 64 keys
    python -m demos.attention_scaling --quick   fewer queries (a second)
"""

import argparse
import math

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F


def measure(d_k, scaled, queries, keys, seed=0):
    """The softmax statistics of one (d_k, scaled) setting, computed with the library."""
    rng = np.random.default_rng(seed + d_k)
    q = rng.standard_normal((queries, d_k))
    k = rng.standard_normal((keys, d_k))
    v = rng.standard_normal((keys, 16))
    upstream_weights = rng.standard_normal((queries, keys))
    upstream_output = rng.standard_normal((queries, 16))
    scale = 1.0 / math.sqrt(d_k) if scaled else 1.0

    scores = tg.tensor((q @ k.T) * scale, dtype=np.float64, requires_grad=True)
    weights = scores.softmax(axis=-1)
    (weights * tg.tensor(upstream_weights, dtype=np.float64)).sum().backward()
    p = weights.numpy()
    entropy = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=-1)

    # The same inside the fused attention op: a zero float mask B is added to the scores,
    # so dL/dB is exactly the gradient that reaches the scores, dL/dS.
    bias = tg.zeros(queries, keys, dtype=np.float64, requires_grad=True)
    out = F.scaled_dot_product_attention(tg.tensor(q, dtype=np.float64),
                                         tg.tensor(k, dtype=np.float64),
                                         tg.tensor(v, dtype=np.float64), attn_mask=bias,
                                         scale=scale)
    (out * tg.tensor(upstream_output, dtype=np.float64)).sum().backward()
    return {"score_std": float(scores.numpy().std()),
            "entropy": float(entropy.mean()),
            "max_weight": float(p.max(axis=-1).mean()),
            "grad_scores": float(np.abs(scores.grad.numpy()).mean()),
            "grad_scores_attention": float(np.abs(bias.grad.numpy()).mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer queries, a second")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    dims = [4, 16, 64, 256, 1024]
    queries, keys = (128, 64) if args.quick else (512, 64)
    print(f"{queries} queries x {keys} keys, entries N(0, 1); uniform weights have entropy "
          f"log {keys} = {math.log(keys):.3f} nats")
    print(f"{'d_k':>6} {'scaled':>7} {'score std':>10} {'entropy':>8} {'max P':>7} "
          f"{'|dL/dS|':>10} {'in attention':>12}")
    table = {True: [], False: []}
    for scaled in (False, True):
        for d_k in dims:
            row = measure(d_k, scaled, queries, keys)
            table[scaled].append(row)
            print(f"{d_k:>6} {str(scaled):>7} {row['score_std']:>10.2f} {row['entropy']:>8.3f} "
                  f"{row['max_weight']:>7.3f} {row['grad_scores']:>10.2e} "
                  f"{row['grad_scores_attention']:>12.2e}")

    def column(scaled, key):
        return [row[key] for row in table[scaled]]

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        for ax, key, title in zip(axes, ("score_std", "entropy", "grad_scores"),
                                  ("score standard deviation", "attention entropy (nats)",
                                   "mean |dL/dscores|")):
            for scaled, label in ((False, "q.k"), (True, "q.k / sqrt(d_k)")):
                ax.plot(dims, column(scaled, key), marker="o", label=label)
            ax.set_xscale("log", base=2)
            if key != "entropy":
                ax.set_yscale("log")
            ax.set_xlabel("d_k")
            ax.set_title(title)
            ax.legend()
        print("figure:", _plotting.save(fig, "attention_scaling"))

    return {"dims": dims, "keys": keys, "max_entropy": math.log(keys),
            "unscaled": {key: column(False, key) for key in table[False][0]},
            "scaled": {key: column(True, key) for key in table[True][0]}}


if __name__ == "__main__":
    main()
