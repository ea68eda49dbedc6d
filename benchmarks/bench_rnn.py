"""One LSTM / GRU layer (seq 35, batch 32, input 64, hidden 128), MSE to a target, one SGD step.

The same training step, from the same initial weights, on the same batch:

    tinygrad_course  nn.LSTM / nn.GRU, F.mse_loss(output, target), backward(), optim.SGD
    numpy            forward and backward through time written out by hand (below), the way
                     the textbook writes it: one step at a time, x_t W_ih^T inside the loop,
                     dL/dW accumulated step by step
    numpy_hoisted    the same by hand with the big-matmul layout: x W_ih^T for all steps in
                     one matmul before the loop, dL/dW from one matmul each after it, the
                     gates written into slices of (T, B, 4H) arrays. ops/recurrent.py uses
                     the same big matmuls but does the gate math on fresh contiguous arrays
                     (NumPy's ufuncs into strided slices measured slower)

The hand-written backward of the LSTM (gates i, f, g, o; c_t = f c_{t-1} + i g,
h_t = o tanh(c_t)), with dh, dc reaching h_t, c_t:

    dc += dh * o * (1 - tanh(c_t)^2)
    dz  = [dc g i(1-i),  dc c_{t-1} f(1-f),  dc i (1-g^2),  dh tanh(c_t) o(1-o)]
    dW_ih += dz^T x_t    dW_hh += dz^T h_{t-1}    db += sum dz
    dh_{t-1} = dz W_hh   dc_{t-1} = dc f

and of the GRU (r, z, n; h_t = z h_{t-1} + (1-z) n, n = tanh(a_n + r u_n), u_n = W_hn h + b_hn):

    da_n = dh (1-z) (1-n^2)     da_r = da_n u_n r(1-r)     da_z = dh (h_{t-1} - n) z(1-z)
    d(x-part) = [da_r, da_z, da_n]     d(h-part) = [da_r, da_z, da_n r]
    dh_{t-1} = dh z + d(h-part) W_hh

    torch            torch.nn.LSTM / GRU, the same loss and SGD (only when torch imports)

    python benchmarks/bench_rnn.py      prints the interleaved median times and the ratios
"""

import numpy

from benchmarks import torch_available

STEPS, BATCH, INPUTS, HIDDEN = 35, 32, 64, 128
LR = 0.1
GATES = {"lstm": 4, "gru": 3}


def initial_weights(kind, seed=0):
    """[w_ih, w_hh, b_ih, b_hh] float32, PyTorch's init U(-1/sqrt(H), 1/sqrt(H))."""
    rng = numpy.random.default_rng(seed)
    bound = 1.0 / numpy.sqrt(HIDDEN)
    rows = GATES[kind] * HIDDEN
    shapes = [(rows, INPUTS), (rows, HIDDEN), (rows,), (rows,)]
    return [rng.uniform(-bound, bound, size=s).astype(numpy.float32) for s in shapes]


def batch(seed=1):
    """A fixed input x (T, B, I) and regression target (T, B, H), float32."""
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((STEPS, BATCH, INPUTS)).astype(numpy.float32)
    target = (0.5 * rng.standard_normal((STEPS, BATCH, HIDDEN))).astype(numpy.float32)
    return x, target


def sigmoid(z):
    return 1.0 / (1.0 + numpy.exp(-z))


def mse_and_grad(hs, target):
    diff = hs - target
    loss = float((diff * diff).mean())
    return loss, diff * numpy.float32(2.0 / diff.size)


def sgd(params, grads, lr):
    for p, g in zip(params, grads):
        p -= numpy.float32(lr) * g


# ----- hand-written NumPy, one step at a time (the textbook form) ---------------------------
def numpy_lstm_step(params, x, target, lr=LR):
    w_ih, w_hh, b_ih, b_hh = params
    n = HIDDEN
    h = numpy.zeros((x.shape[1], n), numpy.float32)
    c = numpy.zeros_like(h)
    b = b_ih + b_hh
    hs, cache = numpy.empty((x.shape[0],) + h.shape, numpy.float32), []
    for t in range(x.shape[0]):
        z = x[t] @ w_ih.T + h @ w_hh.T + b
        i, f = sigmoid(z[:, :n]), sigmoid(z[:, n:2 * n])
        g, o = numpy.tanh(z[:, 2 * n:3 * n]), sigmoid(z[:, 3 * n:])
        c_new = f * c + i * g
        tanh_c = numpy.tanh(c_new)
        cache.append((h, c, i, f, g, o, tanh_c))
        h, c = o * tanh_c, c_new
        hs[t] = h
    loss, d_hs = mse_and_grad(hs, target)
    d_w_ih, d_w_hh, d_b = (numpy.zeros_like(w_ih), numpy.zeros_like(w_hh),
                           numpy.zeros_like(b_ih))
    dh_next, dc_next = numpy.zeros_like(h), numpy.zeros_like(c)
    for t in reversed(range(x.shape[0])):
        h_prev, c_prev, i, f, g, o, tanh_c = cache[t]
        dh = d_hs[t] + dh_next
        dc = dc_next + dh * o * (1 - tanh_c * tanh_c)
        dz = numpy.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                                dc * i * (1 - g * g), dh * tanh_c * o * (1 - o)], axis=1)
        d_w_ih += dz.T @ x[t]
        d_w_hh += dz.T @ h_prev
        d_b += dz.sum(axis=0)
        dh_next, dc_next = dz @ w_hh, dc * f
    sgd(params, [d_w_ih, d_w_hh, d_b, d_b], lr)
    return loss


def numpy_gru_step(params, x, target, lr=LR):
    w_ih, w_hh, b_ih, b_hh = params
    n = HIDDEN
    h = numpy.zeros((x.shape[1], n), numpy.float32)
    hs, cache = numpy.empty((x.shape[0],) + h.shape, numpy.float32), []
    for t in range(x.shape[0]):
        a = x[t] @ w_ih.T + b_ih
        u = h @ w_hh.T + b_hh
        r, z = sigmoid(a[:, :n] + u[:, :n]), sigmoid(a[:, n:2 * n] + u[:, n:2 * n])
        cand = numpy.tanh(a[:, 2 * n:] + r * u[:, 2 * n:])
        cache.append((h, r, z, cand, u[:, 2 * n:]))
        h = z * h + (1 - z) * cand
        hs[t] = h
    loss, d_hs = mse_and_grad(hs, target)
    grads = [numpy.zeros_like(p) for p in params]
    dh_next = numpy.zeros_like(h)
    for t in reversed(range(x.shape[0])):
        h_prev, r, z, cand, u_n = cache[t]
        dh = d_hs[t] + dh_next
        da_n = dh * (1 - z) * (1 - cand * cand)
        da_r = da_n * u_n * r * (1 - r)
        da_z = dh * (h_prev - cand) * z * (1 - z)
        d_a = numpy.concatenate([da_r, da_z, da_n], axis=1)
        d_u = numpy.concatenate([da_r, da_z, da_n * r], axis=1)
        grads[0] += d_a.T @ x[t]
        grads[1] += d_u.T @ h_prev
        grads[2] += d_a.sum(axis=0)
        grads[3] += d_u.sum(axis=0)
        dh_next = dh * z + d_u @ w_hh
    sgd(params, grads, lr)
    return loss


# ----- hand-written NumPy, input projection and weight gradients hoisted out of the loop -----
def numpy_lstm_hoisted_step(params, x, target, lr=LR):
    w_ih, w_hh, b_ih, b_hh = params
    steps, size, n = x.shape[0], x.shape[1], HIDDEN
    z_all = (x.reshape(steps * size, -1) @ w_ih.T).reshape(steps, size, -1) + (b_ih + b_hh)
    gates = numpy.empty_like(z_all)
    h_prev, c_prev, tanh_cs, hs = (numpy.empty((steps, size, n), numpy.float32)
                                   for _ in range(4))
    h = numpy.zeros((size, n), numpy.float32)
    c = numpy.zeros_like(h)
    for t in range(steps):
        h_prev[t], c_prev[t] = h, c
        z = z_all[t] + h @ w_hh.T
        gates[t, :, :2 * n] = sigmoid(z[:, :2 * n])
        gates[t, :, 2 * n:3 * n] = numpy.tanh(z[:, 2 * n:3 * n])
        gates[t, :, 3 * n:] = sigmoid(z[:, 3 * n:])
        i, f, g, o = (gates[t, :, k * n:(k + 1) * n] for k in range(4))
        c = f * c + i * g
        tanh_cs[t] = numpy.tanh(c)
        h = hs[t] = o * tanh_cs[t]
    loss, d_hs = mse_and_grad(hs, target)
    d_z = numpy.empty_like(gates)
    dh, dc = numpy.zeros_like(h), numpy.zeros_like(c)
    for t in reversed(range(steps)):
        i, f, g, o = (gates[t, :, k * n:(k + 1) * n] for k in range(4))
        dh = dh + d_hs[t]
        tanh_c = tanh_cs[t]
        dc = dc + dh * o * (1 - tanh_c * tanh_c)
        d_z[t, :, :n] = dc * g * i * (1 - i)
        d_z[t, :, n:2 * n] = dc * c_prev[t] * f * (1 - f)
        d_z[t, :, 2 * n:3 * n] = dc * i * (1 - g * g)
        d_z[t, :, 3 * n:] = dh * tanh_c * o * (1 - o)
        dh, dc = d_z[t] @ w_hh, dc * f
    rows = d_z.reshape(steps * size, -1)
    d_b = rows.sum(axis=0)
    sgd(params, [rows.T @ x.reshape(steps * size, -1), rows.T @ h_prev.reshape(-1, n), d_b, d_b],
        lr)
    return loss


def numpy_gru_hoisted_step(params, x, target, lr=LR):
    w_ih, w_hh, b_ih, b_hh = params
    steps, size, n = x.shape[0], x.shape[1], HIDDEN
    a_all = (x.reshape(steps * size, -1) @ w_ih.T).reshape(steps, size, -1) + b_ih
    gates = numpy.empty_like(a_all)
    h_prev, u_ns, hs = (numpy.empty((steps, size, n), numpy.float32) for _ in range(3))
    h = numpy.zeros((size, n), numpy.float32)
    for t in range(steps):
        h_prev[t] = h
        a, u = a_all[t], h @ w_hh.T + b_hh
        gates[t, :, :2 * n] = sigmoid(a[:, :2 * n] + u[:, :2 * n])
        r, z = gates[t, :, :n], gates[t, :, n:2 * n]
        u_ns[t] = u[:, 2 * n:]
        cand = gates[t, :, 2 * n:] = numpy.tanh(a[:, 2 * n:] + r * u[:, 2 * n:])
        h = hs[t] = z * h + (1 - z) * cand
    loss, d_hs = mse_and_grad(hs, target)
    d_a, d_u = numpy.empty_like(gates), numpy.empty_like(gates)
    dh = numpy.zeros_like(h)
    for t in reversed(range(steps)):
        r, z, cand = gates[t, :, :n], gates[t, :, n:2 * n], gates[t, :, 2 * n:]
        dh = dh + d_hs[t]
        da_n = dh * (1 - z) * (1 - cand * cand)
        d_a[t, :, :n] = d_u[t, :, :n] = da_n * u_ns[t] * r * (1 - r)
        d_a[t, :, n:2 * n] = d_u[t, :, n:2 * n] = dh * (h_prev[t] - cand) * z * (1 - z)
        d_a[t, :, 2 * n:] = da_n
        d_u[t, :, 2 * n:] = da_n * r
        dh = dh * z + d_u[t] @ w_hh
    rows_a, rows_u = d_a.reshape(steps * size, -1), d_u.reshape(steps * size, -1)
    sgd(params, [rows_a.T @ x.reshape(steps * size, -1), rows_u.T @ h_prev.reshape(-1, n),
                 rows_a.sum(axis=0), rows_u.sum(axis=0)], lr)
    return loss


# ----- tinygrad_course --------------------------------------------------------------------------
def make_tinygrad(kind, weights, x, target, lr=LR):
    import tinygrad_course as tg
    from tinygrad_course import functional as F
    from tinygrad_course import nn, optim

    layer_class = nn.LSTM if kind == "lstm" else nn.GRU
    layer = layer_class(INPUTS, HIDDEN, device="cpu")
    for param, value in zip(layer.all_weights[0], weights):
        param.data = value.copy()
    opt = optim.SGD(layer.parameters(), lr=lr)
    xt, tt = tg.tensor(x, device="cpu"), tg.tensor(target, device="cpu")

    def step():
        opt.zero_grad()
        output, _ = layer(xt)
        loss = F.mse_loss(output, tt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def make_torch(kind, weights, x, target, lr=LR):
    import torch

    layer_class = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    layer = layer_class(INPUTS, HIDDEN)  # gate order i, f, g, o / r, z, n, as ours
    with torch.no_grad():
        for param, value in zip(layer.parameters(), weights):
            param.copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(layer.parameters(), lr=lr)
    xt, tt = torch.from_numpy(x), torch.from_numpy(target)

    def step():
        opt.zero_grad()
        output, _ = layer(xt)
        loss = torch.nn.functional.mse_loss(output, tt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def setup_for(kind):
    weights = initial_weights(kind)
    x, target = batch()
    by_hand = numpy_lstm_step if kind == "lstm" else numpy_gru_step
    hoisted = numpy_lstm_hoisted_step if kind == "lstm" else numpy_gru_hoisted_step
    copies = [[w.copy() for w in weights] for _ in range(2)]
    steps = {
        "tinygrad_course": make_tinygrad(kind, weights, x, target),
        "numpy": lambda: by_hand(copies[0], x, target),
        "numpy_hoisted": lambda: hoisted(copies[1], x, target),
    }
    if torch_available():
        steps["torch"] = make_torch(kind, weights, x, target)
    return steps


WORKLOADS = {
    "lstm": lambda: setup_for("lstm"),
    "gru": lambda: setup_for("gru"),
}


if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import run

    run.main(["lstm", "gru"] + sys.argv[1:])
