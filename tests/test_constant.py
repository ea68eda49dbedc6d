"""tg.constant: a tensor that needs no gradient, made from a backend array without a copy.

It is how an op's backward turns an array it computed into a tensor (the public form of
what ops used to do with the private Tensor._from_op)."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import backend


def test_constant_wraps_the_array_without_a_copy_and_keeps_its_dtype():
    x = tg.randn(3, seed=0)
    mask = x.xp.asarray(x.data > 0)
    c = tg.constant(mask, like=x)
    assert c.data is mask  # no copy
    assert c.dtype == np.bool_ and c.device == x.device and not c.requires_grad
    assert c._ctx is None
    wide = tg.constant(x.xp.zeros(2, dtype=np.float64), like=x)
    assert wide.dtype == np.float64  # not narrowed to float32 as Tensor(array) would


def test_constant_casts_to_dtype_and_takes_a_device_by_name():
    x = tg.randn(2, seed=1)
    c = tg.constant(x.data, device=x.device, dtype="float64")
    assert c.dtype == np.float64 and c.device == x.device
    np.testing.assert_array_equal(c.numpy(), x.numpy().astype(np.float64))


def test_a_constant_takes_no_gradient_but_passes_one_on():
    x = tg.randn(4, seed=2, requires_grad=True)
    scale = tg.constant(x.xp.asarray(np.arange(4.0, dtype=np.float32)) if x.device == "cpu"
                        else backend.from_numpy(np.arange(4.0, dtype=np.float32), x.device),
                        like=x)
    (x * scale).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(4.0))
    assert scale.grad is None


def test_a_numpy_array_for_another_device_is_refused_by_name():
    x = tg.randn(2, seed=3, device="strict")
    with pytest.raises(tg.DeviceError,
                       match=r"constant: got an array of device 'cpu' for device 'strict'"):
        tg.constant(np.zeros(2, dtype=np.float32), like=x)
    with pytest.raises(tg.DeviceError, match=r"constant: got a list"):
        tg.constant([1.0, 2.0], device="cpu")


def test_a_numpy_scalar_is_taken_on_cpu():
    c = tg.constant(np.float32(2.5), device="cpu")
    assert c.item() == 2.5 and c.shape == ()
