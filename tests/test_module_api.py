"""Issue 20: the Module conveniences a PyTorch user reaches for (named_modules, apply,
requires_grad_, train/eval recursion, forward hooks) and the small layers (Identity,
Flatten/Unflatten, ParameterList, LayerNorm(bias=False), BatchNorm1d(momentum=None))."""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import DTypeError, ShapeError


def _model():
    return nn.Sequential(nn.Linear(3, 4, seed=0), nn.Sequential(nn.Dropout(0.5), nn.ReLU()),
                         nn.Linear(4, 2, seed=1))


def test_named_modules_lists_paths_in_order_and_shared_modules_once():
    model = _model()
    shared = nn.Linear(2, 2, seed=0)
    model.append_me = shared
    model.again = shared
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "0", "1", "1.0", "1.1", "2", "append_me"]


def test_apply_visits_children_before_their_parent():
    seen = []
    _model().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Dropout", "ReLU", "Sequential", "Linear", "Sequential"]


def test_train_and_eval_reach_every_nested_module():
    model = _model().eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(DTypeError, match="train"):
        model.train("no")


def test_requires_grad_false_freezes_every_parameter():
    model = _model()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    y = model(tg.ones(1, 3))
    assert not y.requires_grad
    model[2].requires_grad_()
    model(tg.ones(1, 3)).sum().backward()
    assert model[2].weight.grad is not None and model[0].weight.grad is None


def test_forward_hooks_see_and_may_replace_inputs_and_outputs():
    layer = nn.Linear(3, 2, seed=0)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, out.shape)))
    layer(tg.ones(5, 3))
    assert seen == [(layer, (5, 2))]
    doubled = layer.register_forward_hook(lambda m, args, out: out * 2)
    with layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,)):
        np.testing.assert_allclose(layer(tg.ones(1, 3)).numpy(),
                                   2 * layer.bias.numpy()[None, :], rtol=1e-6)
    handle.remove()
    handle.remove()  # twice is harmless
    doubled.remove()
    x = tg.ones(1, 3)
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    assert len(seen) == 2
    with pytest.raises(DTypeError, match="hook"):
        layer.register_forward_hook("print")


def test_identity_flatten_unflatten_round_trip():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Identity(54, unused="ok")(x) is x
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 12)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4))(flat).numpy(), x.numpy())
    assert nn.Unflatten(-1, (2, 2))(x).shape == (2, 3, 2, 2)
    with pytest.raises(ShapeError, match="Unflatten"):
        nn.Unflatten(1, (5, 5))(flat)


def test_parameter_list_registers_its_parameters():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterList([tg.ones(2), nn.Parameter(tg.zeros(3))])

    model = Model()
    assert [name for name, _ in model.named_parameters()] == ["scales.0", "scales.1"]
    assert all(isinstance(p, nn.Parameter) for p in model.scales)
    model.scales.append(tg.ones(1))
    assert len(model.scales) == 3 and len(list(model.parameters())) == 3
    with pytest.raises(DTypeError, match="ParameterList"):
        model.scales.append([1.0])


def test_layer_norm_without_bias_scales_only():
    norm = nn.LayerNorm(4, bias=False)
    assert norm.bias is None and [n for n, _ in norm.named_parameters()] == ["weight"]
    x = np.random.default_rng(0).standard_normal((3, 4))
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(norm(tg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_batch_norm_momentum_none_keeps_the_cumulative_average():
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((6, 2)) + i for i in range(4)]
    norm = nn.BatchNorm1d(2, momentum=None).double()
    norm.eval()(tg.tensor(batches[0], dtype=np.float64))  # eval before training: no update
    norm.train()
    for batch in batches:
        norm(tg.tensor(batch, dtype=np.float64))
    np.testing.assert_allclose(norm.running_mean.numpy(),
                               np.mean([b.mean(0) for b in batches], axis=0))
    np.testing.assert_allclose(norm.running_var.numpy(),
                               np.mean([b.var(0, ddof=1) for b in batches], axis=0))
    assert int(norm.num_batches_tracked.item()) == 4


def test_parameters_to_vector_and_back_and_clip_grad_value():
    model = nn.Sequential(nn.Linear(3, 2, seed=0), nn.Linear(2, 1, seed=1))
    params = list(model.parameters())
    vec = nn.utils.parameters_to_vector(params)
    assert vec.shape == (sum(p.size for p in params),)
    np.testing.assert_array_equal(vec.numpy()[:6], params[0].numpy().ravel())
    nn.utils.vector_to_parameters(vec * 0 + tg.arange(vec.size).astype(np.float32), params)
    np.testing.assert_array_equal(params[1].numpy(), [6.0, 7.0])
    with pytest.raises(ShapeError, match="vector_to_parameters"):
        nn.utils.vector_to_parameters(tg.zeros(3), params)
    model(tg.ones(1, 3) * 100).sum().backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    assert max(float(np.abs(p.grad.numpy()).max()) for p in model.parameters()) == 0.5
