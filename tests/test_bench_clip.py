"""The CLIP benchmark's hand-written NumPy step computes what the tinygrad_course model does.

No timing here (speed is measured by `python -m benchmarks.run clip_step`); only that the two
steps the benchmark compares are the same computation: the gradient of every parameter, and
the losses of two consecutive SGD steps (the second one checks the update).
"""

import numpy
import pytest

pytest.importorskip("scipy")

import tinygrad_course as tg  # noqa: E402
from benchmarks import bench_clip  # noqa: E402
from tinygrad_course.models.clip import clip_loss  # noqa: E402


def test_numpy_gradients_match_autograd():
    model, tokenizer = bench_clip.build_model()
    images, ids = bench_clip.batch(tokenizer, n=16, seed=3)
    loss, grads = bench_clip.loss_and_grads(model.state_dict(), images, ids)
    expected = clip_loss(model(tg.tensor(images, device="cpu"), tg.tensor(ids, device="cpu")))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    names = dict(model.named_parameters())
    assert set(grads) == set(names)
    for name, param in names.items():
        want = param.grad.numpy()
        assert grads[name].shape == want.shape, name
        assert grads[name].dtype == numpy.float32, name
        numpy.testing.assert_allclose(grads[name], want, rtol=1e-3,
                                      atol=1e-5 * numpy.abs(want).max(), err_msg=name)


def test_two_sgd_steps_agree():
    steps = bench_clip.make_steps(("tinygrad_course", "numpy"))
    losses = {name: [step(), step()] for name, step in steps.items()}
    assert losses["numpy"][1] != losses["numpy"][0]  # the first step changed the weights
    numpy.testing.assert_allclose(losses["tinygrad_course"], losses["numpy"], rtol=1e-4)


def test_workloads_are_registered():
    assert bench_clip.WORKLOADS == {"clip_step": bench_clip.setup,
                                    "clip_step_2pairs": bench_clip.setup_two_pairs}


def test_the_two_pair_step_agrees_too():
    steps = bench_clip.setup_two_pairs()
    losses = {name: [step(), step()] for name, step in steps.items()}
    numpy.testing.assert_allclose(losses["tinygrad_course"], losses["numpy"], rtol=1e-4)
