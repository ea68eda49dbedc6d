"""Module, Parameter and the containers: registration, walking the tree, modes, state_dict."""

import re

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import ShapeError


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(3, 4, seed=0)
        self.norm = nn.BatchNorm1d(4)
        self.head = nn.Linear(4, 2, seed=1)
        self.scale = nn.Parameter(tg.ones(1))
        self.not_a_weight = tg.ones(5)  # a plain Tensor: not registered

    def forward(self, x):
        return self.head(self.norm(self.encoder(x)).relu()) * self.scale


def test_named_parameters_walk_the_tree_in_registration_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "encoder.weight", "encoder.bias", "norm.weight", "norm.bias",
                     "head.weight", "head.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert model.num_parameters() == 1 + 12 + 4 + 4 + 4 + 8 + 2
    assert [name for name, _ in model.named_parameters(recurse=False)] == ["scale"]


def test_a_shared_layer_is_listed_once():
    shared = nn.Linear(2, 2, seed=0)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]


def test_children_and_named_modules():
    model = TwoLayer()
    assert [type(m).__name__ for m in model.children()] == ["Linear", "BatchNorm1d", "Linear"]
    assert [name for name, _ in model.named_modules()] == ["", "encoder", "norm", "head"]
    assert dict(model.named_buffers()).keys() == {"norm.running_mean", "norm.running_var",
                                                  "norm.num_batches_tracked"}


def test_train_and_eval_switch_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_call_runs_forward_and_base_forward_is_required():
    model = TwoLayer()
    x = tg.randn(5, 3, seed=0)
    model.eval()  # BatchNorm in eval is deterministic, so two calls agree
    np.testing.assert_allclose(model(x).numpy(), model.forward(x).numpy())
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(x)


def test_zero_grad_sets_to_none_or_zeros():
    model = nn.Linear(3, 2, seed=0)
    model(tg.randn(4, 3, seed=0)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((2, 3)))
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_assigning_before_super_init_raises_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=re.escape("call super().__init__() before")):
        Forgetful()


def test_reassigning_and_deleting_attributes_updates_the_registries():
    model = TwoLayer()
    model.head = nn.Linear(4, 3, seed=2)  # replacing a layer replaces its parameters
    assert model.head.weight.shape == (3, 4)
    model.norm.running_mean = tg.zeros(4)  # a re-assigned buffer stays a buffer
    assert "norm.running_mean" in model.state_dict()
    model.scale = tg.ones(1)  # a plain Tensor in place of a Parameter is not trained
    assert "scale" not in dict(model.named_parameters())
    del model.head
    assert [name for name, _ in model.named_children()] == ["encoder", "norm"]


def test_linear_without_bias_registers_no_bias():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]


def test_state_dict_round_trip_copies_parameters_and_buffers():
    source, target = TwoLayer(), TwoLayer()
    source(tg.randn(6, 3, seed=1))  # moves BatchNorm's running statistics
    target.encoder.weight.data = target.encoder.weight.data * 0.0
    state = source.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert target.load_state_dict(state) == ([], [])
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)
    state["encoder.weight"][:] = 7.0  # the state_dict is a copy, not a view
    assert not np.any(target.encoder.weight.numpy() == 7.0)


def _snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_load_state_dict_with_missing_or_extra_keys_raises_and_changes_nothing():
    model = TwoLayer()
    before = _snapshot(model)
    state = TwoLayer().state_dict()
    state["encoder.weight"] = state["encoder.weight"] + 1.0
    del state["head.bias"]
    state["extra.weight"] = np.zeros(3)
    with pytest.raises(KeyError, match=r"missing keys \['head.bias'\].*unexpected keys "
                                       r"\['extra.weight'\]"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["head.bias"], ["extra.weight"])
    np.testing.assert_array_equal(model.encoder.weight.numpy(), state["encoder.weight"])


def test_load_state_dict_with_a_wrong_shape_raises_and_changes_nothing():
    model = TwoLayer()
    before = _snapshot(model)
    state = {k: v + 1.0 for k, v in TwoLayer().state_dict().items()}
    state["head.weight"] = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ShapeError, match=r"'head.weight' has shape \(3, 4\).*expects \(2, 4\)"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_repr_is_a_readable_tree():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Dropout(0.25)),
                          nn.Linear(4, 2, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.25)\n"
        "  )\n"
        "  (2): Linear(in_features=4, out_features=2, bias=False)\n"
        ")")
    assert repr(nn.Parameter(tg.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_parameter_wraps_a_tensor_and_keeps_its_dtype():
    p = nn.Parameter(tg.zeros(2, 3, dtype=np.float64))
    assert p.requires_grad and p.dtype == np.float64 and p.shape == (2, 3)
    assert not nn.Parameter(tg.zeros(2), requires_grad=False).requires_grad


def test_sequential_applies_in_order_and_indexes_and_slices():
    first, second = nn.Linear(3, 4, seed=0), nn.Linear(4, 2, seed=1)
    model = nn.Sequential(first, nn.ReLU(), second)
    x = tg.randn(5, 3, seed=0)
    np.testing.assert_allclose(model(x).numpy(), second(first(x).relu()).numpy(), rtol=1e-6)
    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert list(model) == [first, model[1], second]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is first


def test_module_list_registers_what_a_plain_list_hides():
    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    class Registered(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    assert list(Hidden().parameters()) == []
    registered = Registered()
    assert [n for n, _ in registered.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    registered.layers.append(nn.Linear(2, 1))
    assert len(registered.layers) == 3 and registered.layers[2].out_features == 1


def test_module_dict_registers_by_name():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    heads["c"] = nn.Identity()
    assert list(heads.keys()) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                        "b.bias"]


def test_double_and_float_convert_parameters_and_float_buffers_only():
    model = TwoLayer()
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.norm.running_mean.dtype == np.float64
    assert model.norm.num_batches_tracked.dtype == np.int64
    assert model(tg.randn(4, 3, dtype=np.float64, seed=0)).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_apply_visits_every_module():
    model = TwoLayer()
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "BatchNorm1d", "Linear", "TwoLayer"]  # children first, as PyTorch
