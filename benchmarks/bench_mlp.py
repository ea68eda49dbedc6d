"""MLP 784-256-256-10 (ReLU), softmax cross-entropy, one plain SGD step.

The same training step three ways, from the same initial weights and the same batch:

    tinygrad_course   nn.Linear / ReLU / log_softmax, loss.backward(), optim.SGD
    numpy             forward and backward written out by hand (below)
    torch             the same layers in PyTorch on the CPU (only when torch imports)

The hand-written backward, for logits z = h2 W3^T + b3, p = softmax(z), one-hot targets Y,
L = -(1/B) sum_i log p_{i, y_i}:

    dL/dz   = (p - Y) / B                      (B, 10)
    dL/dW3  = dz^T h2,   dL/db3 = sum_i dz_i
    dL/dh2  = dz W3,     dL/da2 = dL/dh2 * [a2 > 0]      (h2 = relu(a2))
    ... and the same again for the two layers below.

Workloads: ``mlp_b128`` (batch 128) and ``mlp_b8`` (batch 8, where per-op overhead shows).
"""

import numpy

from benchmarks import torch_available

SIZES = (784, 256, 256, 10)
LR = 0.01


def initial_weights(sizes=SIZES, seed=0):
    """[(W, b), ...] as float32, PyTorch's Linear init U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = numpy.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / numpy.sqrt(fan_in)
        w = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(numpy.float32)
        b = rng.uniform(-bound, bound, size=fan_out).astype(numpy.float32)
        layers.append((w, b))
    return layers


def batch(batch_size, sizes=SIZES, seed=1):
    """A fixed batch: inputs x (B, 784) float32 and integer class labels y (B,)."""
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((batch_size, sizes[0])).astype(numpy.float32)
    y = rng.integers(0, sizes[-1], size=batch_size)
    return x, y


# ----- hand-written NumPy ------------------------------------------------------------------
def numpy_step(weights, x, y, lr=LR):
    """One SGD step on ``weights`` (a list of [W, b] updated in place); returns the loss."""
    batch_size = x.shape[0]
    activations, pre = [x], []
    h = x
    for i, (w, b) in enumerate(weights):
        a = h @ w.T
        a += b
        if i < len(weights) - 1:
            pre.append(a)
            h = numpy.maximum(a, 0)
            activations.append(h)
        else:
            logits = a
    # softmax cross-entropy, stable: log p = z - max - log sum exp(z - max)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = numpy.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = numpy.arange(batch_size)
    loss = float(numpy.log(total[:, 0]).mean() - shifted[rows, y].mean())
    grad = exp / total  # p
    grad[rows, y] -= 1.0
    grad *= numpy.float32(1.0 / batch_size)  # dL/dz
    for i in range(len(weights) - 1, -1, -1):
        w, b = weights[i]
        h = activations[i]
        grad_w = grad.T @ h
        grad_b = grad.sum(axis=0)
        if i > 0:
            grad = grad @ w
            grad *= pre[i - 1] > 0  # relu'
        w -= numpy.float32(lr) * grad_w
        b -= numpy.float32(lr) * grad_b
    return loss


def make_numpy(weights, x, y, lr=LR):
    weights = [[w.copy(), b.copy()] for w, b in weights]
    return lambda: numpy_step(weights, x, y, lr)


# ----- tinygrad_course ----------------------------------------------------------------------
def cross_entropy_fn():
    """Mean softmax cross-entropy of integer targets: functional.cross_entropy when present."""
    try:
        from tinygrad_course import functional
        return functional.cross_entropy
    except (ImportError, AttributeError):
        pass

    def cross_entropy(logits, targets):
        logp = logits.log_softmax(axis=-1)
        rows = numpy.arange(logits.shape[0])
        return -logp[rows, targets.numpy()].mean()

    return cross_entropy


def make_tinygrad(weights, x, y, lr=LR):
    import tinygrad_course as tg
    from tinygrad_course import nn, optim

    layers = []
    for i, (w, b) in enumerate(weights):
        linear = nn.Linear(w.shape[1], w.shape[0], device="cpu")
        linear.weight.data = w.copy()
        linear.bias.data = b.copy()
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = optim.SGD(model.parameters(), lr=lr)
    xt = tg.tensor(x, device="cpu")
    yt = tg.tensor(y, device="cpu")
    cross_entropy = cross_entropy_fn()

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- PyTorch ------------------------------------------------------------------------------
def make_torch(weights, x, y, lr=LR):
    import torch

    layers = []
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def setup_for(batch_size, sizes=SIZES):
    """{implementation: step} for an MLP of ``sizes`` trained on a batch of ``batch_size``."""
    weights = initial_weights(sizes)
    x, y = batch(batch_size, sizes)
    steps = {"tinygrad_course": make_tinygrad(weights, x, y),
             "numpy": make_numpy(weights, x, y)}
    if torch_available():
        steps["torch"] = make_torch(weights, x, y)
    return steps


WORKLOADS = {
    "mlp_b128": lambda: setup_for(128),
    "mlp_b8": lambda: setup_for(8),
}
