"""The strict device stand-in refuses every host/device mix that CuPy refuses."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import backend, strict
from tinygrad_course.errors import DeviceError


def test_strict_arrays_are_not_numpy_arrays():
    a = strict.xp.asarray(np.arange(6.0).reshape(2, 3))
    assert not isinstance(a, np.ndarray)
    assert backend.device_of(a) == "strict"
    np.testing.assert_array_equal(a.get(), np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("mix", [
    lambda a, h: a + h,
    lambda a, h: h + a,
    lambda a, h: a * h,
    lambda a, h: a @ h.T,
    lambda a, h: strict.xp.concatenate([a, h]),
    lambda a, h: strict.xp.where(a > 0, a, h),
    lambda a, h: a[h.astype(int)],
])
def test_mixing_with_host_arrays_raises(mix):
    a = strict.xp.asarray(np.ones((2, 3)))
    host = np.ones((2, 3))
    with pytest.raises(TypeError, match="host NumPy array|numpy"):
        mix(a, host)


def test_implicit_conversion_and_numpy_functions_raise():
    a = strict.xp.asarray(np.ones(3))
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError, match="numpy.exp"):
        np.exp(a)
    with pytest.raises(TypeError, match="numpy.sum"):
        np.sum(a)


def test_scalars_mix_and_reductions_are_0d_device_arrays():
    a = strict.xp.asarray(np.arange(4, dtype=np.float32))
    b = a * 2 + np.float32(1.0)
    assert b.dtype == np.float32
    total = b.sum()
    assert isinstance(total, strict.StrictArray) and total.shape == ()
    assert float(total) == 16.0
    assert isinstance(a[1], strict.StrictArray)


def test_scatter_add_adds_repeated_indices():
    target = strict.xp.zeros(3)
    strict.xp.scatter_add(target, strict.xp.asarray(np.array([0, 0, 2])),
                          strict.xp.asarray(np.array([1.0, 2.0, 5.0])))
    np.testing.assert_array_equal(target.get(), [3.0, 0.0, 5.0])


def test_tensors_on_strict_and_cpu_do_not_mix():
    a = tg.ones(3, device="strict")
    b = tg.ones(3, device="cpu")
    with pytest.raises(DeviceError, match="different devices"):
        a + b
    with pytest.raises(DeviceError, match="strict"):
        a + np.ones(3)


def test_training_step_runs_on_strict_and_matches_cpu():
    def step(device):
        x = tg.randn(5, 4, seed=0, device=device)
        w = tg.randn(4, 3, seed=1, device=device, requires_grad=True)
        loss = (x @ w).tanh().log_softmax(axis=1)[tg.arange(5, device=device),
                                                  tg.tensor([0, 1, 2, 0, 1], device=device)]
        (-loss.mean()).backward()
        assert w.grad.device == device
        return w.grad.numpy()

    np.testing.assert_allclose(step("strict"), step("cpu"), rtol=1e-6)


def test_moving_between_devices_carries_gradients():
    x = tg.randn(3, seed=0, requires_grad=True)
    y = (x.to("strict") * 3.0).to("cpu").sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_cuda_requested_without_gpu_raises_clearly():
    if backend.cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(DeviceError, match="cuda"):
        tg.ones(2, device="cuda")


def test_unknown_device_raises():
    with pytest.raises(DeviceError, match="expected one of"):
        tg.ones(2, device="tpu")
