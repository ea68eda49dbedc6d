"""tinygrad_course.torch: each PyTorch meaning checked against NumPy-computed expectations,
and against PyTorch itself where it is installed (skipped otherwise)."""

import numpy as np
import pytest

import tinygrad_course as tg
import tinygrad_course.torch as torch
import tinygrad_course.torch.nn as nn
import tinygrad_course.torch.nn.functional as F
from tinygrad_course.errors import ArgumentError, BackwardError, DTypeError, ShapeError, TensorError
from tinygrad_course.torch.utils.data import DataLoader, TensorDataset, random_split

real_torch = None
try:  # the reference, where installed
    import torch as real_torch
except ImportError:
    pass
needs_torch = pytest.mark.skipif(real_torch is None, reason="PyTorch is not installed")

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 5)).astype(np.float32)


def close(tensor, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(tensor.detach().numpy()), expected, rtol=tol,
                               atol=tol)


# ----- reductions with PyTorch's meanings ----------------------------------------------------
def test_max_and_min_along_a_dim_give_values_and_indices():
    x = torch.tensor(A)
    values, indices = x.max(1)
    close(values, A.max(1))
    np.testing.assert_array_equal(indices.numpy(), A.argmax(1))
    values, indices = torch.min(x, dim=0, keepdim=True)
    close(values, A.min(0, keepdims=True))
    assert indices.shape == (1, 5)
    close(x.max(), A.max())
    close(x.max(torch.zeros(4, 5)), np.maximum(A, 0))


def test_var_and_std_are_unbiased_by_default():
    x = torch.tensor(A)
    close(x.var(), A.var(ddof=1))
    close(x.std(1), A.std(1, ddof=1))
    close(x.var(0, unbiased=False), A.var(0))
    close(torch.std(x, 1, correction=0, keepdim=True), A.std(1, keepdims=True))


def test_norm_sum_and_mean_take_dims_positionally():
    x = torch.tensor(A)
    close(x.norm(), np.sqrt((A ** 2).sum()))
    close(x.norm(1, 1), np.abs(A).sum(1))
    close(x.sum(1), A.sum(1))
    close(torch.mean(x, 0, True), A.mean(0, keepdims=True))


def test_split_makes_pieces_of_the_given_size():
    pieces = torch.split(torch.arange(7), 3)
    assert [p.tolist() for p in pieces] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [p.shape[1] for p in torch.tensor(A).split([2, 3], dim=1)] == [2, 3]
    assert len(torch.tensor(A).chunk(2)) == 2


def test_transpose_swaps_two_axes_and_t_transposes_a_matrix():
    x = torch.tensor(A)
    close(x.transpose(0, 1), A.T)
    close(x.t(), A.T)
    cube = torch.zeros(2, 3, 4)
    assert cube.transpose(0, 2).shape == (4, 3, 2)
    with pytest.raises(ShapeError):
        cube.t()


def test_topk_sort_and_argmax():
    x = torch.tensor(A)
    values, indices = x.topk(2)
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-A, axis=1)[:, :2])
    close(values, -np.sort(-A, axis=1)[:, :2])
    close(x.sort(0)[0], np.sort(A, 0))
    np.testing.assert_array_equal(x.argmax(dim=1, keepdim=True).numpy(),
                                  A.argmax(1)[:, None])


# ----- shapes, construction and dtypes --------------------------------------------------------
def test_size_view_expand_and_friends():
    x = torch.tensor(A)
    assert x.size() == (4, 5) and x.size(0) == 4 and x.size(-1) == 5 and x.dim() == 2
    assert x.view(-1).shape == (20,) and x.view(5, 4).shape == (5, 4)
    assert x.view_as(torch.zeros(2, 10)).shape == (2, 10)
    assert torch.zeros(3, 1).expand(-1, 4).shape == (3, 4)
    assert x.narrow(1, 1, 2).shape == (4, 2) and x.contiguous() is x
    assert x.new_zeros(2, 3).dtype == np.float32 and x.new_ones((2,)).tolist() == [1, 1]
    assert torch.cat([x, x], 1).shape == (4, 10) and torch.stack([x, x], 2).shape == (4, 5, 2)
    assert [row.shape for row in x] == [(5,)] * 4
    close(x.mm(x.t()), A @ A.T)


def test_tensor_keeps_numpy_dtypes_and_from_numpy_shares_memory():
    wide = np.arange(3, dtype=np.float64)
    assert torch.tensor(wide).dtype == torch.float64
    assert torch.tensor([1.5]).dtype == torch.float32
    assert torch.tensor([1, 2]).dtype == torch.long
    shared = torch.from_numpy(wide)
    assert shared.dtype == torch.double
    wide[0] = 7
    if shared.device == "cpu":  # memory is shared on the CPU (the strict pass copies)
        assert shared[0].item() == 7
    assert tg.tensor(wide).dtype == np.float32  # the core keeps its own rule
    with pytest.raises(DTypeError):
        torch.from_numpy([1, 2])


def test_dtype_objects_typed_constructors_and_devices():
    assert torch.LongTensor([1, 2]).dtype == np.int64
    assert torch.FloatTensor(2, 3).shape == (2, 3)
    assert torch.zeros(2, dtype=torch.long).type() == "torch.LongTensor"
    assert torch.ones(2).type(torch.LongTensor if False else "torch.DoubleTensor").dtype == \
        np.float64
    x = torch.ones(2).to(torch.device("cpu")).to(torch.double)
    assert x.dtype == np.float64 and x.device == "cpu" and str(x.device) == "cpu"
    assert torch.ones(2).long().dtype == torch.int64
    with pytest.raises(ArgumentError):
        torch.device("tpu")


def test_conversions_to_python():
    assert int(torch.tensor(3)) == 3 and float(torch.tensor(2.5)) == 2.5
    assert [10, 20, 30][torch.tensor(2)] == 30
    assert format(torch.tensor(3.14159), ".3f") == "3.142"
    with pytest.raises(DTypeError):
        [1, 2][torch.tensor(1.0)]
    with pytest.raises(ShapeError):
        format(torch.zeros(2), ".3f")
    assert np.asarray(torch.ones(2)).tolist() == [1, 1]
    with pytest.raises(TensorError):
        np.asarray(torch.ones(2, requires_grad=True))


def test_manual_seed_seeds_randn_and_the_layers():
    torch.manual_seed(3)
    first = torch.randn(4), nn.Linear(3, 2).weight.data.clone()
    torch.manual_seed(3)
    second = torch.randn(4), nn.Linear(3, 2).weight.data.clone()
    assert first[0].equal(second[0]) and first[1].equal(second[1])


# ----- in place, with autograd's version check ------------------------------------------------
def test_in_place_arithmetic_and_fills():
    x = torch.tensor(A.copy())
    x.add_(torch.ones(4, 5), alpha=2)
    close(x, A + 2)
    x.mul_(0.5).sub_(1)
    close(x, (A + 2) * 0.5 - 1)
    x.add_(-1, torch.ones(4, 5))  # PyTorch's old add_(alpha, other)
    close(x, (A + 2) * 0.5 - 2)
    x.zero_()
    close(x, np.zeros((4, 5)))
    x.fill_(3).copy_(torch.tensor(A))
    close(x, A)
    with pytest.raises(DTypeError):
        torch.zeros(2, dtype=torch.long).mul_(0.5)
    with pytest.raises(ShapeError):
        torch.zeros(2).add_(torch.zeros(3))


def test_item_assignment_with_ints_slices_masks_and_chains():
    x = torch.zeros(3, 4)
    x[0] = 1
    x[:, 1] = torch.tensor([5.0, 6.0, 7.0])
    x[x > 5.5] = -1
    x[2][3] = 9  # x[2] is a view in PyTorch: the write reaches x
    expected = np.zeros((3, 4))
    expected[0] = 1
    expected[:, 1] = [5, 6, 7]
    expected[expected > 5.5] = -1
    expected[2, 3] = 9
    close(x, expected)
    ids = torch.zeros(3, dtype=torch.long)
    ids[1] = 2.7  # cast to the tensor's dtype, as PyTorch
    assert ids.tolist() == [0, 2, 0]


def test_gradient_flows_through_item_assignment():
    h = torch.tensor([1.0, 2.0], requires_grad=True)
    out = torch.zeros(3)
    out[1:] = h * 3
    (out * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    close(h.grad, [30, 300])
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b[0] = 0
    b.sum().backward()
    close(a.grad, [0, 2, 2])


def test_in_place_on_a_value_backward_needs_raises():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.mul_(2)  # Exp's backward needs its output, now overwritten
    with pytest.raises(BackwardError):
        b.sum().backward()
    c = a * 1
    d = c * c
    c.add_(1)  # Mul saved c
    with pytest.raises(BackwardError):
        d.sum().backward()


def test_in_place_on_a_leaf_that_requires_grad():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(BackwardError):
        w.add_(1)
    with torch.no_grad():
        w.add_(1)
    close(w, [2, 2])
    w.data.mul_(3)  # p.data: the same array, outside the graph
    close(w, [6, 6])
    assert w.data.requires_grad is False and w.requires_grad


def test_parameter_data_updates_reach_the_module():
    model = nn.Linear(3, 1)
    x = torch.ones(2, 3)
    model(x).sum().backward()
    before = model.weight.data.clone()
    for p in model.parameters():
        p.data.add_(p.grad, alpha=-0.1)
    close(model.weight, before.numpy() - 0.1 * model.weight.grad.numpy())
    assert model.weight is model.weight and isinstance(model.weight, nn.Parameter)


# ----- nn, optim, data, saving --------------------------------------------------------------
class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("offset", torch.zeros(1))

    def forward(self, x):
        return self.hidden(x).relu().sum(1) * self.scale + self.offset


def test_user_modules_register_parameters_and_buffers():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias"] or \
        sorted(names) == ["hidden.bias", "hidden.weight", "scale"]
    assert list(model.state_dict()) and "offset" in model.state_dict()
    assert all(isinstance(p, torch.Tensor) for p in model.parameters())
    out = model(torch.ones(2, 3))
    assert isinstance(out, torch.Tensor) and out.shape == (2,)


def test_save_and_load_a_state_dict(tmp_path):
    model = TwoLayer()
    torch.save(model.state_dict(), tmp_path / "model.pt")
    other = TwoLayer()
    other.load_state_dict(torch.load(tmp_path / "model.pt"))
    assert other.hidden.weight.equal(model.hidden.weight)


def test_optimizer_step_with_a_closure_and_loss_modules():
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=20)
    criterion = nn.MSELoss()
    start = criterion(model(x), y).item()

    def closure():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    solution = np.linalg.lstsq(np.c_[x.numpy(), np.ones(16)], y.numpy(), rcond=None)[0]
    best = ((np.c_[x.numpy(), np.ones(16)] @ solution - y.numpy()) ** 2).mean()
    assert criterion(model(x), y).item() == pytest.approx(best, rel=1e-3) and best < start


def test_cross_entropy_and_nll_match_numpy():
    logits, target = torch.tensor(A), torch.tensor([0, 4, 2, 1])
    log_p = A - np.log(np.exp(A).sum(1, keepdims=True))
    expected = -log_p[np.arange(4), [0, 4, 2, 1]].mean()
    close(nn.CrossEntropyLoss()(logits, target), expected)
    close(F.nll_loss(F.log_softmax(logits, dim=1), target), expected)


def test_data_loader_batches_shuffles_and_collates():
    data = TensorDataset(torch.arange(10.0), torch.arange(10))
    batches = list(DataLoader(data, batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    torch.manual_seed(0)
    shuffled = torch.cat([x for x, _ in DataLoader(data, batch_size=3, shuffle=True)])
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))
    pairs = DataLoader([(1.5, 2), (2.5, 3)], batch_size=2)
    xs, ys = next(iter(pairs))
    assert xs.dtype == torch.float64 and ys.dtype == torch.int64
    train, test = random_split(data, [7, 3])
    assert len(train) == 7 and len(test) == 3
    with pytest.raises(ArgumentError):
        random_split(data, [5, 3])


def test_variable_and_autograd_grad():
    x = torch.autograd.Variable(torch.tensor([2.0]), requires_grad=True)
    (g,) = torch.autograd.grad((x ** 3).sum(), x)
    close(g, [12])


# ----- the core keeps its conventions -------------------------------------------------------
def test_the_core_is_unchanged_and_does_not_import_the_namespace():
    import subprocess
    import sys
    code = ("import sys, tinygrad_course as tg; x = tg.tensor([[1., 5.], [3., 2.]]); "
            "print(x.max(1).tolist(), 'tinygrad_course.torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[5.0,", "3.0]", "False"]


def test_unknown_methods_are_refused_by_name():
    with pytest.raises(AttributeError, match="xp"):
        torch.zeros(2).xp


# ----- PyTorch itself, where installed --------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("call", [
    lambda t, x: t.max(x, 1)[0], lambda t, x: t.max(x, 1)[1], lambda t, x: x.var(1),
    lambda t, x: x.std(), lambda t, x: t.cat(t.split(x, 2, 1), 1), lambda t, x: x.t(),
    lambda t, x: x.transpose(0, 1), lambda t, x: x.norm(), lambda t, x: x.topk(3)[0],
    lambda t, x: x.view(-1, 2), lambda t, x: t.tensor(np.arange(3.0)),
])
def test_against_pytorch(call):
    ours = call(torch, torch.tensor(A))
    theirs = call(real_torch, real_torch.tensor(A))
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
