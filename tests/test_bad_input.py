"""Bad input as a new user would give it: each call raises a TensorError subclass that names
the op, never a raw NumPy/AttributeError traceback and never a silent result (issue 16, part
3). Each test checks the error class and the words of its message; where the old behaviour
was a silent wrong result, the test also shows the right one."""

import math

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course import nn, optim
from tinygrad_course.data.loader import DataLoader, TensorDataset
from tinygrad_course.errors import (
    ArgumentError,
    BackwardError,
    DTypeError,
    ShapeError,
    TensorError,
)
from tinygrad_course.ops.attention import scaled_dot_product_attention
from tinygrad_course.optim import lr_scheduler
from tinygrad_course.text import Vocab, encode_documents, hashed_bag_of_words


def _x():
    return tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


# ----- operands that no op computes with ------------------------------------------------------
BINARY = {
    "add": lambda x, v: x + v, "sub": lambda x, v: x - v, "mul": lambda x, v: x * v,
    "div": lambda x, v: x / v, "pow": lambda x, v: x ** v,
    "maximum": tg.maximum, "minimum": tg.minimum,
    "eq": lambda x, v: x == v, "ne": lambda x, v: x != v, "lt": lambda x, v: x < v,
    "le": lambda x, v: x <= v, "gt": lambda x, v: x > v, "ge": lambda x, v: x >= v,
}
NOT_NUMBERS = {"None": (None, "NoneType"), "str": ("0.5", "text"), "dict": ({}, "dict"),
               "object": (object(), "object"), "complex": (1 + 2j, "complex data")}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("value", sorted(NOT_NUMBERS))
def test_an_operand_that_is_not_a_number_is_refused_by_name(op, value):
    bad, described = NOT_NUMBERS[value]
    with pytest.raises(DTypeError, match=rf"^{op}: cannot compute with {described}"):
        BINARY[op](_x(), bad)


@pytest.mark.parametrize("op", ["add", "mul", "sub"])
def test_the_reflected_operators_refuse_too(op):
    reflected = {"add": lambda v, x: v + x, "mul": lambda v, x: v * x,
                 "sub": lambda v, x: v - x}[op]
    with pytest.raises(DTypeError, match=rf"^{op}: cannot compute with text"):
        reflected("a", _x())


@pytest.mark.parametrize("data, described", [
    ("hello", r"text \(str 'hello'\)"), ({"a": 1}, "dict"), (object(), "object"),
    (None, "NoneType"), ([1, "a"], r"a list whose items are not all numbers \(it holds int, "
                                   r"str\)"),
    (np.array([1, None]), "a NumPy array of dtype object"),
    (1 + 2j, r"complex data \(complex128\); the imaginary part would be lost"),
    (np.ones(3, dtype=np.complex64), r"complex data \(complex64\)"),
])
def test_tensor_refuses_data_that_is_not_real_numbers(data, described):
    with pytest.raises(DTypeError, match=rf"^tensor: cannot compute with {described}"):
        tg.tensor(data)


def test_tensor_names_ragged_lists_lists_of_tensors_and_bad_dtypes():
    with pytest.raises(ShapeError, match=r"tensor: cannot make an array of this list \(nested "
                                         r"lists of different lengths\?\)"):
        tg.tensor([[1.0], [1.0, 2.0]])
    with pytest.raises(DTypeError, match=r"tensor: got a list of Tensors; join them with "
                                         r"stack\(\)"):
        tg.tensor([tg.ones(2), tg.ones(2)])
    with pytest.raises(DTypeError, match=r"tensor: a tensor cannot hold dtype complex128"):
        tg.tensor([1.0], dtype=complex)
    with pytest.raises(DTypeError, match=r"tensor: dtype 'float33' is not a NumPy dtype"):
        tg.tensor([1.0], dtype="float33")
    with pytest.raises(DTypeError, match=r"astype: a tensor cannot hold dtype <U"):
        _x().astype(str)


def test_numbers_and_lists_given_to_ops_are_converted_as_tensor_would():
    np.testing.assert_allclose(tg.exp([0.0, 1.0]).numpy(), [1.0, math.e], rtol=1e-6)
    assert tg.exp([0.0, 1.0]).dtype == np.float32
    assert tg.sum([[1, 2], [3, 4]], axis=0).tolist() == [4, 6]
    assert tg.softmax([0.0, 0.0]).tolist() == [0.5, 0.5]
    assert tg.maximum([1.0, 5.0], 2.0).tolist() == [2.0, 5.0]
    assert (_x() + [1.0, 1.0, 1.0]).tolist() == [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
    assert tg.stack([[1.0, 2.0], tg.tensor([3.0, 4.0])]).shape == (2, 2)
    assert F.softmax([0.0, 0.0]).tolist() == [0.5, 0.5]
    assert nn.Linear(3, 2, seed=0)([1.0, 2.0, 3.0]).shape == (2,)


@pytest.mark.parametrize("op, call", [
    ("exp", lambda: tg.exp(None)), ("sum", lambda: tg.sum("abc")),
    ("reshape", lambda: tg.reshape({}, 2)), ("softmax", lambda: tg.softmax(None)),
    ("argmax", lambda: tg.argmax(object())), ("matmul", lambda: tg.matmul(_x(), None)),
    ("where", lambda: tg.where(_x() > 2, None, _x())),
    ("concatenate", lambda: tg.concatenate(None)), ("stack", lambda: tg.stack([_x(), "a"])),
    ("Linear", lambda: nn.Linear(3, 2, seed=0)(None)),
    ("LayerNorm", lambda: nn.LayerNorm(3)("abc")),
    ("log_softmax", lambda: F.log_softmax(None)),
    ("cross_entropy", lambda: F.cross_entropy([[1.0, 2.0]], [1])),
])
def test_none_text_and_objects_given_to_ops_and_layers_name_the_op(op, call):
    with pytest.raises(DTypeError, match=rf"^{op}: "):
        call()


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_of_shapes_that_do_not_broadcast_name_the_op(op):
    with pytest.raises(ShapeError, match=rf"^{op}: cannot compare tensors of shapes \(2, 3\) and "
                                         r"\(4,\): they do not broadcast"):
        BINARY[op](_x(), tg.zeros(4))


# ----- layers that need floating input; attention masks -------------------------------------
@pytest.mark.parametrize("layer, op", [
    (lambda: nn.LayerNorm(3), "LayerNorm"),
    (lambda: nn.BatchNorm1d(3), "BatchNorm1d"),
    (lambda: (lambda x: tg.nn.normalization.layer_norm(x, (3,))), "layer_norm"),
])
def test_normalisation_refuses_integer_input(layer, op):
    with pytest.raises(DTypeError, match=rf"^{op}: needs a floating tensor, got dtype int64 "
                                         r"\(shape \(2, 3\)\); convert with \.float\(\)"):
        layer()(tg.tensor([[1, 2, 3], [4, 5, 7]]))
    assert layer()(tg.tensor([[1, 2, 3], [4, 5, 7]]).float()).dtype == np.float32


def _attention():
    return nn.MultiheadAttention(4, 2, batch_first=True, seed=0), tg.randn(1, 3, 4, seed=1)


@pytest.mark.parametrize("mask", [np.array([[0, 0, 1]]), [[0, 0, 1]], tg.tensor([[0, 0, 1]])],
                         ids=["array", "list", "tensor"])
def test_integer_key_padding_masks_are_refused_not_added(mask):
    attention, x = _attention()
    with pytest.raises(DTypeError, match=r"^MultiheadAttention: key_padding_mask must be bool "
                                         r".* got int64; turn a 0/1 mask into bool first"):
        attention(x, x, x, key_padding_mask=mask)


def test_the_bool_key_padding_mask_gives_the_padded_key_weight_zero():
    attention, x = _attention()
    for mask in ([[False, False, True]], tg.tensor([[0, 0, 1]]) == 1):
        _, weights = attention(x, x, x, key_padding_mask=mask)
        assert np.all(weights.numpy()[..., 2] == 0.0)
        np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-6)


def test_integer_attention_masks_are_refused_by_both_apis():
    attention, x = _attention()
    with pytest.raises(DTypeError, match=r"^MultiheadAttention: attn_mask must be bool"):
        attention(x, x, x, attn_mask=np.zeros((3, 3), dtype=np.int64))
    q = tg.randn(1, 3, 4, seed=2)
    with pytest.raises(DTypeError, match=r"^scaled_dot_product_attention: attn_mask must be "
                                         r"bool .* got int32"):
        scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), dtype=np.int32))


# ----- optimisers and schedulers -------------------------------------------------------------
def _param():
    return tg.zeros(3, requires_grad=True)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: optim.SGD([p], lr=math.nan), ArgumentError,
     r"SGD: invalid learning rate lr=nan; expected a finite number >= 0"),
    (lambda p: optim.SGD([p], lr=math.inf), ArgumentError, r"SGD: invalid learning rate lr=inf"),
    (lambda p: optim.SGD([p], lr="0.1"), DTypeError,
     r"SGD: invalid learning rate lr='0.1'; expected a real number"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), ArgumentError,
     r"SGD: invalid momentum momentum=-0.5"),
    (lambda p: optim.SGD([p], lr=0.1, weight_decay=math.nan), ArgumentError,
     r"SGD: invalid weight decay weight_decay=nan"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov="yes"), DTypeError,
     r"SGD: nesterov must be True or False"),
    (lambda p: optim.SGD([{"params": [p], "lr": math.nan}], lr=0.1), ArgumentError,
     r"SGD: invalid learning rate lr=nan"),
    (lambda p: optim.Adam([p], betas=(0.9,)), DTypeError,
     r"Adam: invalid betas=\(0\.9,\); expected two numbers \(beta1, beta2\), each in \[0, 1\)"),
    (lambda p: optim.Adam([p], betas=0.9), DTypeError, r"Adam: invalid betas=0\.9"),
    (lambda p: optim.Adam([p], betas=(0.9, 1.0)), ArgumentError,
     r"Adam: invalid beta betas\[1\]=1\.0; expected a finite number in \[0\.0, 1\.0\)"),
    (lambda p: optim.Adam([p], eps=math.nan), ArgumentError, r"Adam: invalid epsilon eps=nan"),
    (lambda p: optim.AdamW([p], lr=-1e-3), ArgumentError,
     r"AdamW: invalid learning rate lr=-0\.001"),
    (lambda p: optim.SGD(None, lr=0.1), DTypeError,
     r"SGD: params should be an iterable of tensors .* got NoneType"),
    (lambda p: optim.SGD([np.zeros(3)], lr=0.1), DTypeError,
     r"SGD: every parameter must be a Tensor with requires_grad=True, got a ndarray"),
])
def test_optimiser_hyperparameters_are_checked_at_construction(make, error, message):
    with pytest.raises(error, match=rf"^{message}"):
        make(_param())


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps), lambda ps: optim.AdamW(ps)],
                         ids=["SGD", "Adam", "AdamW"])
def test_a_gradient_of_the_wrong_shape_is_refused_before_anything_changes(make):
    first, second = tg.ones(3, requires_grad=True), tg.ones(2, requires_grad=True)
    optimiser = make([first, second])
    first.grad, second.grad = tg.ones(3), tg.ones(3, 2)
    name = type(optimiser).__name__
    with pytest.raises(ShapeError, match=rf"^{name}\.step: parameter 1 has shape \(2,\) but its "
                                         r"gradient has shape \(3, 2\); nothing was updated"):
        optimiser.step()
    assert first.tolist() == [1.0, 1.0, 1.0] and second.shape == (2,)
    assert optimiser.state == {}
    second.grad = np.ones(2)
    with pytest.raises(DTypeError, match=rf"^{name}\.step: parameter 1 has a \.grad of type "
                                         r"ndarray"):
        optimiser.step()


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ArgumentError,
     r"StepLR: step_size must be >= 1, got 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), DTypeError,
     r"StepLR: step_size must be an integer"),
    (lambda o: lr_scheduler.StepLR(o, step_size=1, gamma=math.nan), ArgumentError,
     r"StepLR: invalid decay factor gamma=nan"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=-1.0), ArgumentError,
     r"CosineAnnealingLR: invalid minimum learning rate eta_min=-1\.0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor="0.5"), DTypeError,
     r"LinearLR: invalid factor start_factor='0\.5'"),
    (lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda t: math.nan), ArgumentError,
     r"LambdaLR: invalid learning rate lr at step 0=nan"),
    (lambda o: lr_scheduler.LambdaLR(o, lr_lambda=0.5), DTypeError,
     r"LambdaLR: lr_lambda must be a function of the step"),
    (lambda o: lr_scheduler.StepLR(o, step_size=1, last_epoch=-2), ArgumentError,
     r"StepLR: last_epoch must be >= -1"),
    (lambda o: lr_scheduler.linear_scaling_rule(math.inf, 32, 64), ArgumentError,
     r"linear_scaling_rule: invalid learning rate base_lr=inf"),
])
def test_scheduler_arguments_are_checked(make, error, message):
    optimiser = optim.SGD([_param()], lr=0.1)
    with pytest.raises(error, match=rf"^{message}"):
        make(optimiser)
    assert optimiser.param_groups[0]["lr"] == 0.1


# ----- text utilities ----------------------------------------------------------------------
def test_a_string_where_tokens_are_expected_is_refused():
    with pytest.raises(DTypeError, match=r"^Vocab: document 0 is a string \('hello world'\), "
                                         r"expected a list of tokens; pass a list of tokens, "
                                         r"e\.g\. text\.split\(\)"):
        Vocab(["hello world"])
    with pytest.raises(DTypeError, match=r"^Vocab: expected a list of token lists"):
        Vocab("hello world")
    vocab = Vocab([["a", "b"]])
    with pytest.raises(DTypeError, match=r"^Vocab\.encode: tokens is a string \('ab'\)"):
        vocab.encode("ab")
    with pytest.raises(DTypeError, match=r"^encode_documents: document 1 is a string"):
        encode_documents(vocab, [["a"], "ab"])
    with pytest.raises(DTypeError, match=r"^hashed_bag_of_words: tokens is a string"):
        hashed_bag_of_words("ab", [0, 2])
    assert vocab.encode(["a", "b"]).tolist() == [1, 2]  # a list of tokens is fine


@pytest.mark.parametrize("max_size, error", [(-1, ArgumentError), (0, ArgumentError),
                                             (2.5, DTypeError), ("3", DTypeError)])
def test_vocab_max_size_must_be_none_or_a_positive_int(max_size, error):
    with pytest.raises(error, match=r"^Vocab: max_size \(None or a positive int\)"):
        Vocab([["a", "b", "b"]], max_size=max_size)
    assert Vocab([["a", "b", "b"]], max_size=None).itos == ["<unk>", "b", "a"]


# ----- constructors, empty tensors, data loaders ------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: tg.zeros(-1), ShapeError, r"zeros: sizes must be >= 0, got \(-1,\)"),
    (lambda: tg.ones(2, -3), ShapeError, r"ones: sizes must be >= 0, got \(2, -3\)"),
    (lambda: tg.full((2, -1), 0.5), ShapeError, r"full: sizes must be >= 0"),
    (lambda: tg.randn(-2), ShapeError, r"randn: sizes must be >= 0"),
    (lambda: tg.rand((3, -1)), ShapeError, r"rand: sizes must be >= 0"),
    (lambda: tg.zeros(2.5), DTypeError, r"zeros: sizes must be integers, got \(2\.5,\)"),
    (lambda: tg.full(3, None), DTypeError, r"full: the fill value must be a real number"),
    (lambda: tg.zeros(2, dtype=complex), DTypeError, r"zeros: a tensor cannot hold dtype "
                                                     r"complex128"),
    (lambda: tg.arange(0, 5, 0), ArgumentError, r"arange: step must not be 0"),
    (lambda: tg.arange(math.inf), ArgumentError, r"arange: start must be finite"),
    (lambda: tg.arange("5"), DTypeError, r"arange: start must be a real number"),
    (lambda: tg.randn(2, seed="a"), ArgumentError, r"randn: seed must be a non-negative int"),
    (lambda: tg.argmax(tg.zeros(0)), ShapeError,
     r"argmax: cannot take the argmax of an empty tensor of shape \(0,\)"),
    (lambda: tg.zeros(2, 0).argmin(axis=1), ShapeError,
     r"argmin: .* of shape \(2, 0\) along axis 1, which has no elements"),
    (lambda: DataLoader([1, 2, 3]), DTypeError,
     r"DataLoader: dataset must be a TensorDataset, a Tensor or a NumPy array .* got list"),
    (lambda: DataLoader(TensorDataset(np.ones(3)), batch_size=0), ArgumentError,
     r"DataLoader: batch_size must be a positive integer"),
    (lambda: TensorDataset([1.0, None]), DTypeError, r"TensorDataset: cannot compute with"),
])
def test_constructors_empty_reductions_and_loaders_name_the_problem(call, error, message):
    with pytest.raises(error, match=rf"^{message}"):
        call()


def test_argmax_over_a_non_empty_axis_of_an_empty_tensor_still_works():
    assert tg.zeros(0, 3).argmax(axis=1).shape == (0,)
    assert tg.zeros(0).shape == (0,) and tg.zeros(2, 0).shape == (2, 0)


# ----- a student's Function ------------------------------------------------------------------
class _ReturnsAnArray(tg.Function):
    def forward(self, x):
        return x * 2

    def backward(self, grad):
        return grad.data * 2  # an array, not a Tensor


class _ReturnsTwo(tg.Function):
    def forward(self, x):
        return x * 2

    def backward(self, grad):
        return grad * 2, grad


class _ExpOfATensor(tg.Function):
    def forward(self, x):
        return self.xp.exp(self.inputs_kept)  # a Tensor kept on self, handed to NumPy

    def backward(self, grad):
        return grad


class _ReturnsATensor(tg.Function):
    def forward(self, x):
        return tg.tensor(x).exp()

    def backward(self, grad):
        return grad


class _ReturnsAList(tg.Function):
    def forward(self, x):
        return x.tolist()

    def backward(self, grad):
        return grad


def test_a_backward_that_returns_an_array_names_the_function_and_the_fix():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(BackwardError, match=r"^_ReturnsAnArray\.backward returned a "
                                            r"(ndarray|StrictArray) object as the "
                                            r"gradient of input 0; it must "
                                            r"return one Tensor \(or None\) per input"):
        _ReturnsAnArray.apply(x).sum().backward()


def test_a_backward_that_returns_too_many_gradients_says_how_many_it_must():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(BackwardError, match=r"^_ReturnsTwo\.backward returned 2 gradients for "
                                            r"1 inputs; it must return one Tensor \(or None\) "
                                            r"per input"):
        _ReturnsTwo.apply(x).sum().backward()


def test_a_tensor_handed_to_numpy_inside_forward_names_the_function():
    _ExpOfATensor.inputs_kept = tg.ones(2)
    with pytest.raises(DTypeError, match=r"^_ExpOfATensor\.forward: a Tensor was handed to a "
                                         r"NumPy/array function; forward works on the raw "
                                         r"arrays it receives"):
        _ExpOfATensor.apply(tg.ones(2))


@pytest.mark.parametrize("fn, returned", [(_ReturnsATensor, "Tensor"), (_ReturnsAList, "list")])
def test_a_forward_that_returns_no_array_names_the_function(fn, returned):
    with pytest.raises(DTypeError, match=rf"^{fn.__name__}\.forward returned a {returned} "
                                         r"object; forward must return one array of the "
                                         r"backend"):
        fn.apply(tg.ones(2))


def test_numpy_given_a_tensor_says_how_to_get_an_array():
    with pytest.raises(DTypeError, match=r"^numpy: a Tensor of shape \(2,\) was given where an "
                                         r"array is expected; use t\.numpy\(\)"):
        np.exp(tg.ones(2))
    if tg.ones(1).device == "cpu":  # other devices refuse host arrays on purpose
        assert (np.ones(2) + tg.ones(2)).tolist() == [2.0, 2.0]  # NumPy defers to Tensor


def test_every_error_here_is_a_tensor_error_and_the_usual_python_error():
    assert issubclass(ArgumentError, TensorError) and issubclass(ArgumentError, ValueError)
    with pytest.raises(ValueError):
        optim.SGD([_param()], lr=math.nan)
    with pytest.raises(TypeError):
        _x() + None


def test_batch_norm_refuses_a_single_value_per_channel_before_counting_the_batch():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ShapeError, match="BatchNorm1d"):
        layer(tg.zeros((1, 3)))
    assert int(layer.num_batches_tracked.item()) == 0
    assert np.array_equal(layer.running_mean.numpy(), np.zeros(3))
