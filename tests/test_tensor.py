"""The Tensor itself: dtypes, creation helpers and their seeds, devices, repr, conversions."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import backend
from tinygrad_course.errors import DeviceError

DEFAULT_DEVICE = backend.normalize_device(None)  # from TINYGRAD_DEVICE: cpu or strict
OTHER_DEVICE = "strict" if DEFAULT_DEVICE == "cpu" else "cpu"


# ----- dtypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], np.float32),
    (np.arange(3, dtype=np.float64), np.float32),  # floating data becomes float32
    (3.5, np.float32),
    ([1, 2], np.int64),  # integers stay integers
    (7, np.int64),
    ([True, False], np.bool_),
])
def test_default_dtypes(data, dtype):
    assert tg.tensor(data).dtype == dtype


def test_an_explicit_dtype_is_kept():
    assert tg.tensor([1.0], dtype=np.float64).dtype == np.float64
    assert tg.tensor([1.0], dtype="float16").dtype == np.float16
    assert tg.tensor([1.5, 2.5], dtype=np.int64).tolist() == [1, 2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_python_numbers_take_the_dtype_of_the_tensor(dtype):
    x = tg.tensor([1.0, 2.0], dtype=dtype)
    for result in (x + 2.5, 2.5 + x, x - 1, 1 - x, x * 0.1, 0.1 * x, x / 3, 3 / x, x ** 2,
                   x ** 0.5, 2.0 ** x, tg.maximum(x, 1.5), tg.where(x > 1, x, 0.0)):
        assert result.dtype == dtype


def test_integer_tensors_stay_integer_with_integers_and_become_float32_otherwise():
    i = tg.tensor([1, 2, 3])
    for result in (i + 1, 2 * i, i - i, i ** 2, tg.maximum(i, 2), i.sum(), -i, i.abs()):
        assert result.dtype == np.int64
    for result in (i * 2.5, i / 2, i.mean(), i.var(), i ** 0.5, i.exp(), i.log(), i.sqrt(),
                   i.tanh(), i.sigmoid(), i.softmax(), i.log_softmax(), i.logsumexp(),
                   i + tg.tensor([0.5, 0.5, 0.5]), i @ tg.tensor([1.0, 0.0, 1.0])):
        assert result.dtype == np.float32
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0, 1.5])
    assert i.mean().item() == 2.0


def test_float32_meets_float64_gives_float64_as_asked():
    x = tg.tensor([1.0]) + tg.tensor([1.0], dtype=np.float64)
    assert x.dtype == np.float64


def test_gradients_have_the_dtype_of_their_leaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x.astype(np.float64) * 3.0).sum().backward()  # the cast's backward casts back
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_casting_to_an_integer_leaves_the_graph():
    x = tg.tensor([1.7, -2.2], requires_grad=True)
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad and i.tolist() == [1, -2]
    assert x.float() is x


def test_numpy_float64_operands_take_the_tensor_dtype():
    x = tg.tensor([1.0, 2.0], device="cpu")
    assert (x * np.array([0.5, 0.25])).dtype == np.float32


# ----- creation helpers ---------------------------------------------------------------------
def test_zeros_ones_full_and_likes():
    assert tg.zeros(2, 3).shape == (2, 3) == tg.zeros((2, 3)).shape
    assert tg.ones(4).numpy().tolist() == [1.0] * 4
    for t in (tg.zeros(2), tg.ones(2), tg.full((2, 2), 7.5), tg.full(3, -1.0)):
        assert t.dtype == np.float32 and t.device == DEFAULT_DEVICE
    np.testing.assert_array_equal(tg.full((2, 2), 7.5).numpy(), np.full((2, 2), 7.5))
    assert tg.full(3, -1.0).shape == (3,)
    assert tg.zeros(2, dtype=np.int64).dtype == np.int64
    model = tg.tensor([[1, 2], [3, 4]])
    assert tg.zeros_like(model).dtype == np.int64 and tg.ones_like(model).shape == (2, 2)
    assert tg.ones_like(tg.tensor([1.0]), requires_grad=True).requires_grad


def test_arange_like_numpy():
    assert tg.arange(5).tolist() == [0, 1, 2, 3, 4] and tg.arange(5).dtype == np.int64
    assert tg.arange(2, 8, 3).tolist() == [2, 5]
    steps = tg.arange(0.0, 1.0, 0.25)
    assert steps.dtype == np.float32 and steps.tolist() == [0.0, 0.25, 0.5, 0.75]


def test_randn_and_rand_are_reproducible_with_a_seed():
    for make in (tg.randn, tg.rand):
        a, b = make(3, 4, seed=7), make((3, 4), seed=7)
        assert a.shape == (3, 4) and a.dtype == np.float32
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert not np.array_equal(a.numpy(), make(3, 4, seed=8).numpy())


def test_randn_with_a_generator_continues_its_stream():
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    first, second = tg.randn(6, generator=g1), tg.randn(6, generator=g1)
    assert not np.array_equal(first.numpy(), second.numpy())
    np.testing.assert_array_equal(first.numpy(), tg.randn(6, generator=g2).numpy())
    np.testing.assert_array_equal(second.numpy(), tg.randn(6, generator=g2).numpy())


def test_a_seed_gives_the_same_numbers_on_every_device():
    on_cpu = tg.randn(2, 3, seed=11, device="cpu")
    on_strict = tg.randn(2, 3, seed=11, device="strict")
    assert on_strict.device == "strict"
    np.testing.assert_array_equal(on_cpu.numpy(), on_strict.numpy())


def test_randn_and_rand_draw_from_their_distributions():
    normal = tg.randn(20000, seed=0, dtype=np.float64).numpy()
    uniform = tg.rand(20000, seed=0).numpy()
    # 20,000 draws: the standard error of the mean is 0.007, so 0.03 is over 4 of them
    assert abs(normal.mean()) < 0.03 and abs(normal.std() - 1) < 0.03
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.03


def test_randn_can_require_grad_and_take_a_dtype():
    w = tg.randn(2, 2, seed=0, dtype=np.float64, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == np.float64


# ----- what a tensor is and how it leaves ---------------------------------------------------
def test_shape_ndim_size_len_and_conversions():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert (x.shape, x.ndim, x.size, len(x)) == ((2, 3), 2, 6, 2)
    assert isinstance(x.numpy(), np.ndarray) and x.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert x.T.shape == (3, 2)
    one = tg.tensor([[2.5]])
    assert one.item() == 2.5 and float(one) == 2.5 and int(tg.tensor(3)) == 3 and bool(one)


def test_item_len_and_bool_refuse_what_has_no_single_answer():
    with pytest.raises(ValueError, match=r"item: needs a tensor of one element, got shape \(2,\)"):
        tg.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))


def test_equality_is_elementwise_and_hashing_is_by_identity():
    a, b = tg.tensor([1.0, 2.0]), tg.tensor([1.0, 3.0])
    assert (a == b).tolist() == [True, False]
    assert len({a, b, a}) == 2


def test_requires_grad_and_leaves():
    x = tg.tensor([1.0]).requires_grad_()
    y = x * 2.0
    assert x.requires_grad and x.is_leaf and not y.is_leaf
    assert not y.detach().requires_grad and y.detach().is_leaf


def test_repr_is_readable():
    x = tg.tensor([1.0, 2.5], device="cpu")
    assert repr(x) == "tensor([1. , 2.5])"
    assert repr(tg.tensor([1, 2], device="cpu")) == "tensor([1, 2], dtype=int64)"
    w = tg.tensor([[1.0, 2.0]], requires_grad=True, device="cpu")
    assert repr(w) == "tensor([[1., 2.]], requires_grad=True)"
    assert repr(w * 2.0) == "tensor([[2., 4.]], grad_fn=Mul)"
    assert repr(tg.tensor(0.5, device="strict")) == "tensor(0.5, device='strict')"


# ----- devices ------------------------------------------------------------------------------
def test_tensors_go_to_the_default_device():
    assert tg.tensor([1.0]).device == DEFAULT_DEVICE
    assert tg.tensor([1.0], device=OTHER_DEVICE).device == OTHER_DEVICE
    assert (tg.tensor([1.0]) * 2.0).device == DEFAULT_DEVICE


def test_moving_between_devices_carries_the_gradient_back():
    x = tg.tensor([0.5, -1.0, 2.0], dtype=np.float64, requires_grad=True)
    assert x.to(DEFAULT_DEVICE) is x
    moved = x.to(OTHER_DEVICE)
    assert moved.device == OTHER_DEVICE and moved.requires_grad
    (moved.exp().to(DEFAULT_DEVICE) * 2.0).sum().backward()
    assert x.grad.device == DEFAULT_DEVICE
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.numpy()))
    assert tg.gradcheck(lambda t: t.to(OTHER_DEVICE).tanh().to(DEFAULT_DEVICE), x)


def test_mixing_devices_is_an_error_naming_both():
    a, b = tg.tensor([1.0], device="cpu"), tg.tensor([1.0], device="strict")
    with pytest.raises(DeviceError, match=r"add: tensors on different devices \['cpu', "
                                          r"'strict'\]"):
        a + b
