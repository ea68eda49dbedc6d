"""A pre-LN transformer encoder block, mean-squared-error loss, one plain SGD step.

Batch 16, sequence 64, d_model 128, 4 heads (d = 32), feed-forward 512 (ReLU), no dropout.
The same step three ways, from the same initial weights and the same batch:

    tinygrad_course   nn.TransformerEncoderLayer(norm_first=True), F.mse_loss, optim.SGD
    numpy             forward and backward written out by hand (below)
    torch             torch.nn.TransformerEncoderLayer on the CPU (only when torch imports)

The block, for X (M = N L rows of E features) and the target Y:

    H1 = LN1(X);   Q, K, V = H1 W_q^T + b_q, ...   split into heads (N, H, L, d)
    P  = softmax(Q K^T / sqrt(d));   O = P V;   A = O W_o^T + b_o;   X1 = X + A
    H2 = LN2(X1);  F = relu(H2 W_1^T + b_1);   Z = F W_2^T + b_2;   Out = X1 + Z
    loss = mean((Out - Y)^2)

The hand-written backward runs the chain rule through the same steps in reverse:

    dOut = 2 (Out - Y) / size;   dZ = dX1 = dOut (the residuals pass gradients unchanged)
    dW_2 = dZ^T F,  dF = dZ W_2 * [F > 0],  dW_1 = dF^T H2,  dH2 = dF W_1
    LN:   dx = (g - mean(g) - x_hat mean(g x_hat)) / sigma  with g = dH * gamma
    dP = dO V^T,  dV = P^T dO,  dS = P (dP - rowsum(dP P)) / sqrt(d),  dQ = dS K,  dK = dS^T Q

Workload: ``encoder_block``.
"""

import numpy

from benchmarks import torch_available

N, L, E, HEADS, FF = 16, 64, 128, 4, 512
LR = 0.01
EPS = 1e-5


def initial_weights(seed=0):
    """The block's parameters as float32 arrays, keyed by PyTorch's state_dict names."""
    rng = numpy.random.default_rng(seed)

    def uniform(bound, *shape):
        return rng.uniform(-bound, bound, size=shape).astype(numpy.float32)

    xavier = numpy.sqrt(6.0 / (E + 3 * E))
    return {
        "self_attn.in_proj_weight": uniform(xavier, 3 * E, E),
        "self_attn.in_proj_bias": uniform(0.1, 3 * E),
        "self_attn.out_proj.weight": uniform(1 / numpy.sqrt(E), E, E),
        "self_attn.out_proj.bias": uniform(0.1, E),
        "linear1.weight": uniform(1 / numpy.sqrt(E), FF, E),
        "linear1.bias": uniform(1 / numpy.sqrt(E), FF),
        "linear2.weight": uniform(1 / numpy.sqrt(FF), E, FF),
        "linear2.bias": uniform(1 / numpy.sqrt(FF), E),
        "norm1.weight": 1.0 + uniform(0.1, E),
        "norm1.bias": uniform(0.1, E),
        "norm2.weight": 1.0 + uniform(0.1, E),
        "norm2.bias": uniform(0.1, E),
    }


def batch(seed=1):
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((N, L, E)).astype(numpy.float32)
    y = rng.standard_normal((N, L, E)).astype(numpy.float32)
    return x, y


# ----- hand-written NumPy ------------------------------------------------------------------
def _layer_norm(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    centred = x - mu
    rstd = 1.0 / numpy.sqrt((centred * centred).mean(axis=-1, keepdims=True) + EPS)
    x_hat = centred * rstd
    return x_hat * gamma + beta, x_hat, rstd


def _layer_norm_backward(grad, x_hat, rstd, gamma):
    """(dL/dx, dL/dgamma, dL/dbeta) for rows of x."""
    g = grad * gamma
    dx = g - g.mean(axis=-1, keepdims=True)
    dx -= x_hat * (g * x_hat).mean(axis=-1, keepdims=True)
    dx *= rstd
    return dx, (grad * x_hat).sum(axis=0), grad.sum(axis=0)


def _heads(a):
    """(M, E) -> (N, H, L, d) view."""
    return a.reshape(N, L, HEADS, E // HEADS).transpose(0, 2, 1, 3)


def _merge(a):
    """(N, H, L, d) -> (M, E) copy."""
    return a.transpose(0, 2, 1, 3).reshape(N * L, E)


def numpy_step(w, x, y, lr=LR):
    """One SGD step on the dict of weights ``w`` (updated in place); returns the loss."""
    X, Y = x.reshape(N * L, E), y.reshape(N * L, E)
    scale = numpy.float32(1.0 / numpy.sqrt(E // HEADS))
    # forward
    h1, x_hat1, rstd1 = _layer_norm(X, w["norm1.weight"], w["norm1.bias"])
    qkv = h1 @ w["self_attn.in_proj_weight"].T
    qkv += w["self_attn.in_proj_bias"]
    q, k, v = (_heads(qkv[:, i * E:(i + 1) * E]) for i in range(3))
    scores = q @ k.transpose(0, 1, 3, 2)
    scores *= scale
    scores -= scores.max(axis=-1, keepdims=True)
    p = numpy.exp(scores, out=scores)
    p /= p.sum(axis=-1, keepdims=True)
    o = _merge(p @ v)
    x1 = o @ w["self_attn.out_proj.weight"].T
    x1 += w["self_attn.out_proj.bias"]
    x1 += X
    h2, x_hat2, rstd2 = _layer_norm(x1, w["norm2.weight"], w["norm2.bias"])
    f = h2 @ w["linear1.weight"].T
    f += w["linear1.bias"]
    numpy.maximum(f, 0, out=f)
    out = f @ w["linear2.weight"].T
    out += w["linear2.bias"]
    out += x1
    diff = out - Y
    loss = float((diff * diff).mean())
    # backward
    grads = {}
    d_out = diff * numpy.float32(2.0 / diff.size)
    grads["linear2.weight"] = d_out.T @ f
    grads["linear2.bias"] = d_out.sum(axis=0)
    d_f = d_out @ w["linear2.weight"]
    d_f *= f > 0
    grads["linear1.weight"] = d_f.T @ h2
    grads["linear1.bias"] = d_f.sum(axis=0)
    d_h2 = d_f @ w["linear1.weight"]
    d_x1, grads["norm2.weight"], grads["norm2.bias"] = _layer_norm_backward(
        d_h2, x_hat2, rstd2, w["norm2.weight"])
    d_x1 += d_out
    grads["self_attn.out_proj.weight"] = d_x1.T @ o
    grads["self_attn.out_proj.bias"] = d_x1.sum(axis=0)
    d_o = _heads(d_x1 @ w["self_attn.out_proj.weight"])
    d_p = d_o @ v.transpose(0, 1, 3, 2)
    d_v = p.transpose(0, 1, 3, 2) @ d_o
    d_s = d_p - (d_p * p).sum(axis=-1, keepdims=True)
    d_s *= p
    d_s *= scale
    d_q = d_s @ k
    d_k = d_s.transpose(0, 1, 3, 2) @ q
    d_qkv = numpy.concatenate([_merge(d_q), _merge(d_k), _merge(d_v)], axis=1)
    grads["self_attn.in_proj_weight"] = d_qkv.T @ h1
    grads["self_attn.in_proj_bias"] = d_qkv.sum(axis=0)
    d_h1 = d_qkv @ w["self_attn.in_proj_weight"]
    _, grads["norm1.weight"], grads["norm1.bias"] = _layer_norm_backward(
        d_h1, x_hat1, rstd1, w["norm1.weight"])
    for name, grad in grads.items():
        w[name] -= numpy.float32(lr) * grad
    return loss


def make_numpy(weights, x, y, lr=LR):
    weights = {name: value.copy() for name, value in weights.items()}
    return lambda: numpy_step(weights, x, y, lr)


# ----- tinygrad_course ----------------------------------------------------------------------
def make_tinygrad(weights, x, y, lr=LR):
    import tinygrad_course as tg
    from tinygrad_course import functional as F
    from tinygrad_course import nn, optim

    block = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, batch_first=True,
                                       norm_first=True, device="cpu")
    block.load_state_dict(weights)
    opt = optim.SGD(block.parameters(), lr=lr)
    xt, yt = tg.tensor(x, device="cpu"), tg.tensor(y, device="cpu")

    def step():
        opt.zero_grad()
        loss = F.mse_loss(block(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- PyTorch ------------------------------------------------------------------------------
def make_torch(weights, x, y, lr=LR):
    import torch

    block = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, batch_first=True,
                                             norm_first=True)
    block.load_state_dict({name: torch.from_numpy(v.copy()) for name, v in weights.items()})
    opt = torch.optim.SGD(block.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(block(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def setup():
    weights = initial_weights()
    x, y = batch()
    steps = {"tinygrad_course": make_tinygrad(weights, x, y),
             "numpy": make_numpy(weights, x, y)}
    if torch_available():
        steps["torch"] = make_torch(weights, x, y)
    return steps


WORKLOADS = {"encoder_block": setup}
