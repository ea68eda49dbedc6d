"""nn.LoRALinear and nn.lora: a frozen Linear plus a trainable low-rank update (issue 26)."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn, optim
from tinygrad_course.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_course.models.gpt import GPT
from tinygrad_course.ops.linear import linear

rng = np.random.default_rng(0)


def _x(*shape, dtype=np.float32):
    return tg.tensor(rng.standard_normal(shape).astype(dtype))


def _trained_like(layer, seed=3):
    """Give B non-zero values, as after some training (at init B = 0 hides every bug)."""
    values = np.random.default_rng(seed).standard_normal(layer.lora_B.shape)
    layer.lora_B.data = tg.tensor(values.astype(layer.lora_B.dtype),
                                  device=layer.lora_B.device).data
    return layer


def _tiny_gpt(seed=0):
    return GPT(11, 8, d_model=8, nhead=2, num_layers=2, seed=seed)


def test_output_is_exactly_the_frozen_layers_at_step_0():
    base = nn.Linear(5, 3, seed=0)
    x = _x(2, 4, 5)
    before = base(x).numpy()
    layer = nn.LoRALinear(base, r=2, alpha=4, seed=1)
    np.testing.assert_array_equal(layer(x).numpy(), before)
    # the effective weight that code reading layer.weight sees is exactly W too
    np.testing.assert_array_equal(linear(x, layer.weight, layer.bias).numpy(), before)
    assert not np.any(layer.lora_B.numpy())


def test_a_whole_gpt_is_exactly_unchanged_by_apply():
    model = _tiny_gpt()
    tokens = rng.integers(0, 11, size=(3, 8))
    before = model(tokens).numpy()
    wrapped = nn.lora.apply(model, target=("out_proj", "linear1", "linear2", "head"), r=2,
                            seed=0)
    assert wrapped == ["blocks.0.self_attn.out_proj", "blocks.0.linear1", "blocks.0.linear2",
                       "blocks.1.self_attn.out_proj", "blocks.1.linear1", "blocks.1.linear2",
                       "head"]
    np.testing.assert_array_equal(model(tokens).numpy(), before)


def test_forward_is_the_lora_formula_with_scaling_alpha_over_r():
    layer = _trained_like(nn.LoRALinear(nn.Linear(6, 4, seed=0), r=3, alpha=1.5, seed=1))
    x = _x(5, 6)
    W, b = layer.base.weight.numpy(), layer.base.bias.numpy()
    A, B = layer.lora_A.numpy(), layer.lora_B.numpy()
    expected = x.numpy() @ W.T + b + (1.5 / 3) * (x.numpy() @ A.T) @ B.T
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    # the weight property is the same map as one matrix
    np.testing.assert_allclose(linear(x, layer.weight, layer.bias).numpy(), expected,
                               rtol=1e-5, atol=1e-5)


def test_a_is_kaiming_uniform_with_bound_one_over_sqrt_in_and_b_is_zero():
    layer = nn.LoRALinear(nn.Linear(400, 50, seed=0), r=8, seed=2)
    A, bound = layer.lora_A.numpy(), 1 / math.sqrt(400)
    assert A.shape == (8, 400) and layer.lora_B.shape == (50, 8)
    assert np.abs(A).max() <= bound and np.abs(A).max() > 0.99 * bound
    assert abs(A.std() - bound / math.sqrt(3)) < 0.05 * bound  # the std of U(-c, c) is c/sqrt(3)
    assert A.dtype == np.float32 and not np.any(layer.lora_B.numpy())


def test_merge_gives_the_same_outputs_and_unmerge_restores_the_weight():
    layer = _trained_like(nn.LoRALinear(nn.Linear(6, 4, seed=0), r=2, alpha=8, seed=1))
    x = _x(3, 6)
    W = layer.base.weight.numpy().copy()
    unmerged = layer(x).numpy()
    layer.merge()
    assert layer.merged
    expected_W = W + 4.0 * layer.lora_B.numpy() @ layer.lora_A.numpy()
    np.testing.assert_allclose(layer.base.weight.numpy(), expected_W, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), unmerged, rtol=1e-5, atol=1e-5)
    layer.merge()  # a second merge does nothing
    np.testing.assert_allclose(layer.base.weight.numpy(), expected_W, rtol=1e-6, atol=1e-6)
    layer.unmerge()
    assert not layer.merged
    np.testing.assert_allclose(layer.base.weight.numpy(), W, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), unmerged, rtol=1e-5, atol=1e-5)


def test_merging_a_whole_model_keeps_its_outputs():
    model = _tiny_gpt()
    nn.lora.apply(model, target=("out_proj", "linear1", "linear2"), r=2, seed=0)
    for layer in nn.lora.lora_layers(model):
        _trained_like(layer)
    tokens = rng.integers(0, 11, size=(2, 8))
    adapted = model(tokens).numpy()
    assert np.abs(adapted - _tiny_gpt()(tokens).numpy()).max() > 1e-2  # B != 0 changes it
    nn.lora.merge(model)
    np.testing.assert_allclose(model(tokens).numpy(), adapted, rtol=1e-4, atol=1e-4)
    nn.lora.unmerge(model)
    np.testing.assert_allclose(model(tokens).numpy(), adapted, rtol=1e-4, atol=1e-4)


def test_frozen_parameters_get_no_gradient_and_the_optimiser_leaves_them_alone():
    model = _tiny_gpt()
    nn.lora.apply(model, target=("out_proj", "linear1", "linear2"), r=2, seed=0)
    frozen = {name: p.numpy().copy() for name, p in model.named_parameters()
              if "lora_" not in name}
    assert all(not p.requires_grad for name, p in model.named_parameters() if name in frozen)
    with pytest.raises(ArgumentError):  # the optimiser refuses frozen parameters
        optim.AdamW(model.parameters(), lr=1e-2)
    opt = optim.AdamW(nn.lora.trainable_parameters(model), lr=1e-2, weight_decay=0.1)
    tokens = rng.integers(0, 11, size=(4, 8))
    targets = rng.integers(0, 11, size=(4, 8))
    B_before = [layer.lora_B.numpy().copy() for layer in nn.lora.lora_layers(model)]
    for _ in range(2):
        opt.zero_grad()
        model.loss(tokens, targets).backward()
        for name, p in model.named_parameters():
            assert (p.grad is None) == (name in frozen), name
        opt.step()
    for name, p in model.named_parameters():
        if name in frozen:
            np.testing.assert_array_equal(p.numpy(), frozen[name], err_msg=name)
    for layer, before in zip(nn.lora.lora_layers(model), B_before):
        assert np.abs(layer.lora_B.numpy() - before).max() > 1e-4


def test_the_trainable_parameter_count_is_r_times_in_plus_out():
    layer = nn.LoRALinear(nn.Linear(10, 6, seed=0), r=2)
    assert nn.lora.count_parameters(layer) == (2 * (10 + 6), 60 + 6 + 32)
    model = _tiny_gpt()
    total = model.num_parameters()
    nn.lora.apply(model, target=("linear1", "linear2"), r=4, seed=0)
    per_block = 4 * (8 + 32) + 4 * (32 + 8)
    assert nn.lora.count_parameters(model) == (2 * per_block, total + 2 * per_block)
    assert sum(p.size for p in nn.lora.trainable_parameters(model)) == 2 * per_block


def test_gradcheck_of_a_lora_linear_on_both_paths():
    layer = _trained_like(nn.LoRALinear(nn.Linear(4, 3, seed=0, dtype=np.float64), r=2,
                                        alpha=3, seed=1))
    x = tg.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True)

    def through(call):
        def fn(A, B, x):
            object.__setattr__(layer, "lora_A", A)  # a swap only, as tests/helpers_nn.py
            object.__setattr__(layer, "lora_B", B)
            try:
                return call(x)
            finally:
                object.__setattr__(layer, "lora_A", layer._parameters["lora_A"])
                object.__setattr__(layer, "lora_B", layer._parameters["lora_B"])
        return fn

    A = tg.tensor(layer.lora_A.numpy(), requires_grad=True)
    B = tg.tensor(layer.lora_B.numpy(), requires_grad=True)
    assert tg.gradcheck(through(layer), A, B, x)
    assert tg.gradcheck(through(lambda x: linear(x, layer.weight, layer.bias)), A, B, x)


def test_lora_fits_a_rank_one_change_of_the_weight():
    """A teacher W + u v^T: rank-1 LoRA on the frozen W learns the change to tiny loss."""
    data = np.random.default_rng(5)
    base = nn.Linear(8, 6, seed=0)
    u, v = data.standard_normal((6, 1)), data.standard_normal((1, 8))
    teacher = base.weight.numpy() + 0.5 * u @ v
    layer = nn.LoRALinear(base, r=1, alpha=1, seed=1)
    opt = optim.Adam(nn.lora.trainable_parameters(layer), lr=3e-2)
    x = data.standard_normal((64, 8)).astype(np.float32)
    y = tg.tensor((x @ teacher.T + base.bias.numpy()).astype(np.float32))
    losses = []
    for _ in range(400):
        loss = ((layer(tg.tensor(x)) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-4 * losses[0]


@pytest.mark.parametrize("r, error", [(0, ArgumentError), (-1, ArgumentError),
                                      (4, ArgumentError), (2.5, DTypeError),
                                      (True, DTypeError), ("2", DTypeError),
                                      (None, DTypeError)])
def test_a_bad_rank_raises_a_named_error(r, error):
    with pytest.raises(error, match="LoRALinear"):
        nn.LoRALinear(nn.Linear(5, 3, seed=0), r=r)


@pytest.mark.parametrize("alpha, error", [(0, ArgumentError), (-2.0, ArgumentError),
                                          (math.nan, ArgumentError), (math.inf, ArgumentError),
                                          ("1", DTypeError), (True, DTypeError),
                                          (None, DTypeError)])
def test_a_bad_alpha_raises_a_named_error(alpha, error):
    with pytest.raises(error, match="LoRALinear"):
        nn.LoRALinear(nn.Linear(5, 3, seed=0), r=2, alpha=alpha)


def test_bad_layers_inputs_and_targets_raise_named_errors():
    with pytest.raises(DTypeError, match="LoRALinear"):
        nn.LoRALinear(nn.Conv1d(2, 2, 3), r=1)
    wrapped = nn.LoRALinear(nn.Linear(5, 3, seed=0), r=1)
    with pytest.raises(DTypeError, match="LoRALinear"):
        nn.LoRALinear(wrapped, r=1)
    with pytest.raises(ShapeError, match="LoRALinear"):
        wrapped(tg.zeros(2, 4))
    with pytest.raises(DTypeError, match="LoRALinear"):
        wrapped(tg.tensor([[1, 2, 3, 4, 5]]))
    model = _tiny_gpt()
    with pytest.raises(ArgumentError, match=r"lora.apply.*blocks.0.linear1"):
        nn.lora.apply(model, target="q_proj")
    with pytest.raises(DTypeError, match="lora.apply"):
        nn.lora.apply(model, target=3)
    nn.lora.apply(model, target="head", r=1)
    with pytest.raises(ArgumentError, match="lora.apply"):  # already wrapped: nothing left
        nn.lora.apply(model, target="head", r=1)

