"""Reference solution of exercise 6."""

from tinygrad_course import Function, Tensor


def _constant(array, like):
    return Tensor(array, dtype=array.dtype, device=like.device)


class Conv1d(Function):
    """im2col: cols (N * L_out, C * K) @ w_flat.T;  dw_flat = G^T cols,  dcols = G w_flat,
    dx = col2im(dcols) (each copy of an element adds its gradient)."""

    def forward(self, x, w):
        xp = self.xp
        n, c, length = x.shape
        o, _, kernel = w.shape
        out_length = length - kernel + 1
        windows = xp.stack([x[:, :, k:k + out_length] for k in range(kernel)], axis=-1)
        self.cols = windows.transpose(0, 2, 1, 3).reshape(n * out_length, c * kernel)
        self.w_flat = w.reshape(o, c * kernel)
        rows = self.cols @ self.w_flat.T  # (N * L_out, O)
        return rows.reshape(n, out_length, o).transpose(0, 2, 1)

    def backward(self, grad):
        xp = self.xp
        x, w = self.inputs
        n, c, length = x.shape
        o, _, kernel = w.shape
        out_length = length - kernel + 1
        g = grad.data.transpose(0, 2, 1).reshape(n * out_length, o)
        grad_w = (g.T @ self.cols).reshape(w.shape)
        dcols = (g @ self.w_flat).reshape(n, out_length, c, kernel)
        grad_x = xp.zeros(x.shape, dtype=x.dtype)
        for k in range(kernel):
            grad_x[:, :, k:k + out_length] += dcols[:, :, :, k].transpose(0, 2, 1)
        return _constant(grad_x, grad), _constant(grad_w, grad)


class MaxPool1d(Function):
    """Windows of ``kernel`` positions, stride ``kernel``; the gradient of each window goes
    to its first maximum."""

    def forward(self, x, kernel):
        n, c, length = x.shape
        self.kernel, self.used = kernel, length // kernel * kernel
        windows = x[:, :, :self.used].reshape(n, c, -1, kernel)
        self.first_max = windows.argmax(axis=-1)
        return windows.max(axis=-1)

    def backward(self, grad):
        xp = self.xp
        x = self.inputs[0]
        n, c, _ = x.shape
        at_max = xp.arange(self.kernel) == self.first_max[..., None]
        grad_x = xp.zeros(x.shape, dtype=grad.dtype)
        grad_x[:, :, :self.used] = (at_max * grad.data[..., None]).reshape(n, c, self.used)
        return _constant(grad_x, grad)
