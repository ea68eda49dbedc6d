"""Reference solution of exercise 8."""

import math

from tinygrad_course import Function, Tensor


class Attention(Function):
    """O = P V, P = softmax(s Q K^T);  dV = P^T G,  dP = G V^T,
    dS = P (dP - rowsum(dP P)),  dQ = s dS K,  dK = s dS^T Q."""

    def forward(self, q, k, v):
        xp = self.xp
        self.scale = 1.0 / math.sqrt(q.shape[-1])
        scores = (q @ k.swapaxes(-1, -2)) * self.scale
        exps = xp.exp(scores - scores.max(axis=-1, keepdims=True))
        self.weights = exps / exps.sum(axis=-1, keepdims=True)
        return self.weights @ v

    def backward(self, grad):
        q, k, v = self.inputs
        p = Tensor(self.weights, dtype=self.weights.dtype, device=grad.device)
        grad_v = p.swapaxes(-1, -2) @ grad
        grad_p = grad @ v.swapaxes(-1, -2)
        grad_s = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True))
        grad_q = (grad_s @ k) * self.scale
        grad_k = (grad_s.swapaxes(-1, -2) @ q) * self.scale
        return grad_q, grad_k, grad_v
