"""The perceptron (Rosenblatt, 1958) and the multi-layer perceptron that followed it.

Perceptron: a weighted sum of the inputs plus a bias, through a step function,

    a = x W^T + b        x: (N, in_features)  W: (out_features, in_features)  b: (out_features,)
    y_hat = step(a)      step(a) = 1 if a > 0 else 0;   y_hat: (N, out_features)

Each output unit is its own perceptron (a multi-output perceptron is several of them side by
side, reading the same input). The step has no useful derivative (0 almost everywhere), so the
perceptron does not learn by gradient descent but by Rosenblatt's rule: after seeing x with
target t,

    W <- W + lr * (t - y_hat)^T x,      b <- b + lr * sum_n (t - y_hat)

which moves the weights towards a misclassified positive example, away from a misclassified
negative one, and leaves them alone when the answer was right. On linearly separable data it
stops after finitely many updates (Novikoff: at most (R / gamma)^2 of them from W = 0, where
R = max |[x, 1]| and gamma is the margin of a unit-norm separator of the [x, 1] vectors). On
data that no line separates, such as XOR, it never stops. An MLP, a stack of Linear layers
with a nonlinearity between them, trained by backpropagation, has no such limit.
"""

import numpy

from ..autograd import no_grad
from ..errors import ShapeError
from ..nn import init
from ..nn.activation import GELU, ReLU, Sigmoid, Tanh
from ..nn.linear import Linear
from ..nn.module import Module, Parameter, Sequential
from ..tensor import zeros


class Perceptron(Module):
    """Rosenblatt's perceptron with ``out_features`` independent threshold units.

    Perceptron(in_features, out_features=1)
      forward(x)                 y_hat = step(x W^T + b), float 0/1 of shape (N, out_features)
      weighted_sum(x)            a = x W^T + b, before the step
      rosenblatt_update(x, t)    one application of the learning rule to a batch of examples
      fit(x, t, ...)             epochs of the rule until an epoch makes no mistake

    The weights start at zero, as in the convergence theorem. They are Parameters (saved by
    state_dict) that do not require gradients: the rule, not backward, changes them.
    """

    def __init__(self, in_features, out_features=1, dtype=None, device=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype, device=device),
                                requires_grad=False)
        self.bias = Parameter(zeros(out_features, dtype=dtype, device=device),
                              requires_grad=False)

    def _check_input(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(f"Perceptron: expected input of shape (N, {self.in_features}), "
                             f"got {x.shape}")

    def _check_target(self, target, n):
        if target.shape == (n,) and self.out_features == 1:
            target = target.reshape(n, 1)
        if target.shape != (n, self.out_features):
            raise ShapeError(f"Perceptron: expected targets of shape ({n}, {self.out_features})"
                             f" for {n} inputs, got {target.shape}")
        values = target.numpy()
        if not numpy.isin(values, (0, 1)).all():
            raise ValueError("Perceptron: targets must be 0 or 1, got values "
                             f"{numpy.unique(values)[:5]}")
        return target.astype(self.weight.dtype)

    def weighted_sum(self, x):
        """a = x W^T + b: (N, in_features) -> (N, out_features)."""
        self._check_input(x)
        return x @ self.weight.T + self.bias

    def forward(self, x):
        """y_hat = step(a): 1 where a > 0, else 0 (float, shape (N, out_features))."""
        return (self.weighted_sum(x) > 0).astype(self.weight.dtype)

    def rosenblatt_update(self, x, target, lr=1.0):
        """Apply the rule to a batch: W += lr (t - y_hat)^T x, b += lr sum_n (t - y_hat).

        With a batch of one example this is Rosenblatt's original online rule; a larger batch
        adds up the corrections of all its examples, computed with the same weights.
        Returns the number of mistakes (output units that were wrong) in the batch.
        """
        self._check_input(x)
        return self._apply_rule(x, self._check_target(target, x.shape[0]), lr)

    def _apply_rule(self, x, target, lr):
        """The rule itself, on checked inputs: target is (N, out_features) of 0/1 floats."""
        with no_grad():
            error = target - self(x)                       # (N, out) in {-1, 0, +1}
            self.weight.data = self.weight.data + lr * (error.T @ x).data
            self.bias.data = self.bias.data + lr * error.sum(axis=0).data
        return int(error.abs().sum().item())

    def fit(self, x, target, epochs=100, lr=1.0, batch_size=1, shuffle=True, seed=0):
        """Run the rule over the data for up to ``epochs`` passes; stop after a clean pass.

        The loop over examples is the algorithm itself: each update depends on the weights
        left by the previous one. Returns a dict with
          converged           True if some epoch made no mistake
          epochs              passes made
          updates             examples (batches) that changed the weights
          mistakes_per_epoch  list of mistake counts, one per pass
        """
        self._check_input(x)
        target = self._check_target(target, x.shape[0])
        n = x.shape[0]
        rng = numpy.random.default_rng(seed)
        history, updates = [], 0
        for _ in range(epochs):
            order = rng.permutation(n) if shuffle else numpy.arange(n)
            mistakes = 0
            for start in range(0, n, batch_size):
                index = order[start:start + batch_size]
                wrong = self._apply_rule(x[index], target[index], lr)
                mistakes += wrong
                updates += wrong > 0
            history.append(mistakes)
            if mistakes == 0:
                break
        return {"converged": history[-1] == 0 if history else False, "epochs": len(history),
                "updates": updates, "mistakes_per_epoch": history}

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "gelu": GELU}


class MLP(Module):
    """Multi-layer perceptron: Linear layers with a nonlinearity between them.

        h_0 = x
        h_l = g(h_{l-1} W_l^T + b_l)          l = 1 .. L-1   (g: relu, tanh, sigmoid or gelu)
        y   = h_{L-1} W_L^T + b_L             logits: no activation on the output layer

    MLP(in_features, hidden_features, out_features, activation="relu", seed=None)
      hidden_features   an int (one hidden layer) or a list of widths, e.g. [64, 64]
      x: (..., in_features) -> y: (..., out_features)

    Without g the stack would collapse to one linear map, and be no better than a perceptron;
    with it, one hidden layer of enough units can fit any continuous function on a box
    (e.g. XOR with two hidden units). The loss (cross-entropy, MSE...) is applied outside.
    """

    def __init__(self, in_features, hidden_features, out_features, activation="relu",
                 seed=None, generator=None, dtype=None, device=None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose from "
                             f"{sorted(ACTIVATIONS)}")
        widths = [hidden_features] if isinstance(hidden_features, int) else list(hidden_features)
        if any(w <= 0 for w in widths):
            raise ValueError(f"MLP: hidden widths must be positive, got {widths}")
        rng = init.get_generator(seed, generator)
        sizes = [in_features] + widths + [out_features]
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, generator=rng, dtype=dtype, device=device))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        self.in_features, self.out_features, self.activation = in_features, out_features, activation
        self.layers = Sequential(*layers)

    def forward(self, x):
        return self.layers(x)

    def extra_repr(self):
        return f"activation={self.activation!r}"
