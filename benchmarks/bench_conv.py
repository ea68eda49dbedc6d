"""Convolution workloads: a LeNet-5 training step, and one 3x3 conv layer.

The same step three ways, from the same initial weights and the same batch:

    tinygrad_course   nn.Conv2d / MaxPool2d / Linear, loss.backward(), optim.SGD
    numpy             im2col forward and col2im backward written out by hand (below)
    torch             the same layers in PyTorch on the CPU (only when torch imports)

The hand-written convolution, per layer (x padded, M = N*Ho*Wo output pixels):

    X_col  = every kH x kW window of x as a row          (M, C*kH*kW)   sliding_window_view
    y      = X_col W^T + b                                (M, C_out)     one matmul
    dW     = dY^T X_col,  db = sum of dY's rows                          one matmul
    dX_col = dY W,  dx = col2im(dX_col)                   one strided add per kernel tap

and 2x2 max pooling by a reshape to (N, C, H/2, 2, W/2, 2), its gradient shared among tied
maxima as tinygrad_course's max does.

Workloads:
  lenet_b64    LeNet-5 on 1x28x28 inputs, batch 64: conv 5x5 (6, padding 2) - ReLU - max pool
               2 - conv 5x5 (16) - ReLU - max pool 2 - 400 - 120 - 84 - 10, cross-entropy, SGD
  conv3x3_32   one Conv2d(32, 32, 3, padding=1) on (8, 32, 32, 32), loss = mean(y^2) / 2, SGD

``python -m benchmarks.bench_conv`` prints the size of each layer's im2col buffer and the peak
memory of the tinygrad_course backward in those units (tracemalloc): X_col is freed once dW
is made, before dX_col exists, so the two are never alive together.
"""

import tracemalloc

import numpy
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks import torch_available

LR = 0.01
LENET_CONVS = ((1, 6, 5, 2), (6, 16, 5, 0))  # (C_in, C_out, kernel, padding)
LENET_LINEARS = (400, 120, 84, 10)


def uniform_layer(rng, shape, fan_in):
    """float32 weights and bias, PyTorch's init U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / numpy.sqrt(fan_in)
    weight = rng.uniform(-bound, bound, size=shape).astype(numpy.float32)
    return weight, rng.uniform(-bound, bound, size=shape[0]).astype(numpy.float32)


def lenet_weights(seed=0):
    """{"convs": [(W, b), (W, b)], "linears": [(W, b), ...]}."""
    rng = numpy.random.default_rng(seed)
    convs = [uniform_layer(rng, (o, c, k, k), c * k * k) for c, o, k, _ in LENET_CONVS]
    linears = [uniform_layer(rng, (o, i), i) for i, o in zip(LENET_LINEARS[:-1],
                                                             LENET_LINEARS[1:])]
    return {"convs": convs, "linears": linears}


def lenet_batch(batch_size=64, seed=1):
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((batch_size, 1, 28, 28)).astype(numpy.float32)
    return x, rng.integers(0, 10, size=batch_size)


# ----- hand-written NumPy ------------------------------------------------------------------
def conv_forward(x, w, b, padding):
    """y = conv2d(x, w) + b by im2col; returns y and what the backward needs."""
    if padding:
        x = numpy.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, h, width = x.shape
    out_channels, _, k, _ = w.shape
    ho, wo = h - k + 1, width - k + 1
    cols = sliding_window_view(x, (k, k), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5)
    cols = cols.reshape(n * ho * wo, c * k * k)
    rows = cols @ w.reshape(out_channels, -1).T
    rows += b
    return rows.reshape(n, ho, wo, out_channels).transpose(0, 3, 1, 2), (cols, x.shape)


def conv_backward(grad, w, saved, padding, need_input_grad):
    """(dx or None, dW, db) from dL/dy and forward's X_col."""
    cols, shape = saved
    n, out_channels, ho, wo = grad.shape
    grad_rows = grad.transpose(0, 2, 3, 1).reshape(-1, out_channels)
    grad_w = (grad_rows.T @ cols).reshape(w.shape)
    grad_b = grad_rows.sum(axis=0)
    if not need_input_grad:
        return None, grad_w, grad_b
    k = w.shape[2]
    taps = (grad_rows @ w.reshape(out_channels, -1)).reshape(n, ho, wo, -1, k, k)
    grad_x = numpy.zeros(shape, dtype=grad.dtype)
    for i in range(k):
        for j in range(k):
            grad_x[:, :, i:i + ho, j:j + wo] += taps[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    if padding:
        grad_x = grad_x[:, :, padding:-padding, padding:-padding]
    return grad_x, grad_w, grad_b


def pool_forward(x):
    """2x2 max pooling; returns y and the share of each input in its window's max."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2)
    y = windows.max(axis=(3, 5))
    is_max = (windows == y[:, :, :, None, :, None]).astype(x.dtype)
    return y, is_max / is_max.sum(axis=(3, 5), keepdims=True)


def pool_backward(grad, share):
    n, c, h, w = grad.shape
    return (share * grad[:, :, :, None, :, None]).reshape(n, c, 2 * h, 2 * w)


def lenet_numpy_step(weights, x, y, lr=LR):
    """One SGD step on ``weights`` (lists updated in place); returns the loss."""
    batch_size = x.shape[0]
    h, saved = x, []
    for (w, b), (_, _, _, padding) in zip(weights["convs"], LENET_CONVS):
        a, conv_saved = conv_forward(h, w, b, padding)
        r = numpy.maximum(a, 0)
        h, share = pool_forward(r)
        saved.append((conv_saved, a > 0, share))
    pooled_shape = h.shape
    h = h.reshape(batch_size, -1)
    activations, pre = [h], []
    for i, (w, b) in enumerate(weights["linears"]):
        a = h @ w.T
        a += b
        if i < len(weights["linears"]) - 1:
            pre.append(a)
            h = numpy.maximum(a, 0)
            activations.append(h)
        else:
            logits = a
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = numpy.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = numpy.arange(batch_size)
    loss = float(numpy.log(total[:, 0]).mean() - shifted[rows, y].mean())
    grad = exp / total
    grad[rows, y] -= 1.0
    grad *= numpy.float32(1.0 / batch_size)
    linears = weights["linears"]
    for i in range(len(linears) - 1, -1, -1):
        w, b = linears[i]
        grad_w, grad_b = grad.T @ activations[i], grad.sum(axis=0)
        grad = grad @ w
        if i > 0:
            grad *= pre[i - 1] > 0
        w -= numpy.float32(lr) * grad_w
        b -= numpy.float32(lr) * grad_b
    grad = grad.reshape(pooled_shape)
    for layer in range(len(LENET_CONVS) - 1, -1, -1):
        (w, b), padding = weights["convs"][layer], LENET_CONVS[layer][3]
        conv_saved, positive, share = saved[layer]
        grad = pool_backward(grad, share) * positive
        grad, grad_w, grad_b = conv_backward(grad, w, conv_saved, padding, layer > 0)
        w -= numpy.float32(lr) * grad_w
        b -= numpy.float32(lr) * grad_b
    return loss


def make_lenet_numpy(weights, x, y):
    copied = {key: [[w.copy(), b.copy()] for w, b in layers] for key, layers in weights.items()}
    return lambda: lenet_numpy_step(copied, x, y)


# ----- tinygrad_course ----------------------------------------------------------------------
def lenet_tinygrad_model(weights):
    from tinygrad_course import nn

    layers = []
    for (w, b), (c, o, k, padding) in zip(weights["convs"], LENET_CONVS):
        conv = nn.Conv2d(c, o, k, padding=padding, device="cpu")
        conv.weight.data, conv.bias.data = w.copy(), b.copy()
        layers += [conv, nn.ReLU(), nn.MaxPool2d(2)]
    layers.append(nn.Flatten())
    for i, (w, b) in enumerate(weights["linears"]):
        linear = nn.Linear(w.shape[1], w.shape[0], device="cpu")
        linear.weight.data, linear.bias.data = w.copy(), b.copy()
        layers.append(linear)
        if i < len(weights["linears"]) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def make_lenet_tinygrad(weights, x, y):
    import tinygrad_course as tg
    from tinygrad_course import functional, optim

    model = lenet_tinygrad_model(weights)
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = tg.tensor(x, device="cpu"), tg.tensor(y, device="cpu")

    def step():
        opt.zero_grad()
        loss = functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- PyTorch ------------------------------------------------------------------------------
def make_lenet_torch(weights, x, y):
    import torch

    layers = []
    for (w, b), (c, o, k, padding) in zip(weights["convs"], LENET_CONVS):
        conv = torch.nn.Conv2d(c, o, k, padding=padding)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w))
            conv.bias.copy_(torch.from_numpy(b))
        layers += [conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    layers.append(torch.nn.Flatten())
    for i, (w, b) in enumerate(weights["linears"]):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights["linears"]) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def setup_lenet(batch_size=64):
    weights = lenet_weights()
    x, y = lenet_batch(batch_size)
    steps = {"tinygrad_course": make_lenet_tinygrad(weights, x, y),
             "numpy": make_lenet_numpy(weights, x, y)}
    if torch_available():
        steps["torch"] = make_lenet_torch(weights, x, y)
    return steps


# ----- one 3x3 layer ------------------------------------------------------------------------
CONV3_SHAPE = (8, 32, 32, 32)  # (N, C, H, W), Conv2d(32, 32, 3, padding=1)


def conv3_setup():
    rng = numpy.random.default_rng(0)
    w, b = uniform_layer(rng, (32, 32, 3, 3), 32 * 9)
    x = rng.standard_normal(CONV3_SHAPE).astype(numpy.float32)
    steps = {"tinygrad_course": conv3_tinygrad(w, b, x), "numpy": conv3_numpy(w, b, x)}
    if torch_available():
        steps["torch"] = conv3_torch(w, b, x)
    return steps


def conv3_numpy(w, b, x):
    w, b = w.copy(), b.copy()

    def step():
        y, saved = conv_forward(x, w, b, 1)
        loss = float(0.5 * numpy.mean(y * y))
        grad = y * numpy.float32(1.0 / y.size)  # d(mean(y^2) / 2)/dy
        _, grad_w, grad_b = conv_backward(grad, w, saved, 1, need_input_grad=True)
        w[...] -= numpy.float32(LR) * grad_w
        b[...] -= numpy.float32(LR) * grad_b
        return loss

    return step


def conv3_tinygrad(w, b, x):
    import tinygrad_course as tg
    from tinygrad_course import nn, optim

    layer = nn.Conv2d(32, 32, 3, padding=1, device="cpu")
    layer.weight.data, layer.bias.data = w.copy(), b.copy()
    opt = optim.SGD(layer.parameters(), lr=LR)
    xt = tg.tensor(x, device="cpu", requires_grad=True)  # dL/dx too, as the NumPy step

    def step():
        opt.zero_grad()
        xt.grad = None
        y = layer(xt)
        loss = (y * y).mean() * 0.5
        loss.backward()
        opt.step()
        return loss.item()

    return step


def conv3_torch(w, b, x):
    import torch

    layer = torch.nn.Conv2d(32, 32, 3, padding=1)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(layer.parameters(), lr=LR)
    xt = torch.from_numpy(x).requires_grad_(True)

    def step():
        opt.zero_grad()
        xt.grad = None
        y = layer(xt)
        loss = (y * y).mean() * 0.5
        loss.backward()
        opt.step()
        return loss.item()

    return step


WORKLOADS = {
    "lenet_b64": setup_lenet,
    "conv3x3_32": conv3_setup,
}


# ----- memory -------------------------------------------------------------------------------
def im2col_bytes(input_shape, out_channels, kernel, padding, itemsize=4):
    """Bytes of X_col for a stride-1 conv: (N*Ho*Wo) rows of C*k*k numbers."""
    n, c, h, w = input_shape
    ho, wo = h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1
    return n * ho * wo * c * kernel * kernel * itemsize


def backward_working_memory(input_shape, out_channels, kernel, padding):
    """Peak bytes alive during the tinygrad_course backward of one conv layer beyond the
    arrays that are not X_col (input, weights, output, upstream gradient): X_col (kept by the
    forward), dX_col, dL/dx and the gradient rows; measured by tracemalloc from before the
    forward, so X_col is counted."""
    import tinygrad_course as tg
    from tinygrad_course import functional

    rng = numpy.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(input_shape).astype(numpy.float32), requires_grad=True)
    w = tg.tensor(rng.standard_normal((out_channels, input_shape[1], kernel, kernel)),
                  requires_grad=True)
    tracemalloc.start()
    try:
        y = functional.conv2d(x, w, padding=padding)
        upstream = tg.ones(*y.shape)
        after_forward, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        y.backward(upstream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - (after_forward - im2col_bytes(input_shape, out_channels, kernel, padding))


def memory_report():
    layers = {"lenet conv1": ((64, 1, 28, 28), 6, 5, 2),
              "lenet conv2": ((64, 6, 14, 14), 16, 5, 0),
              "conv3x3_32": (CONV3_SHAPE, 32, 3, 1)}
    print(f"{'layer':12s} {'im2col buffer':>14s} {'backward peak':>14s}  (bytes; peak: X_col, "
          "dX_col, dL/dx and gradient rows alive at once)")
    for name, (shape, out_channels, kernel, padding) in layers.items():
        buffer = im2col_bytes(shape, out_channels, kernel, padding)
        peak = backward_working_memory(shape, out_channels, kernel, padding)
        print(f"{name:12s} {buffer:14,d} {peak:14,d}  ({peak / buffer:.2f} buffers)")


if __name__ == "__main__":
    memory_report()
