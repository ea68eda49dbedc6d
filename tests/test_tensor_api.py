"""The names a PyTorch user reaches for (issue 20, Tensor and top-level): behaviour the op
table does not pin down. The op table (op_table.TENSOR_API) checks every new op's values
against NumPy and its first and second derivatives; here: PyTorch's spellings and
argument names, the deliberate differences (transpose, split, max, std), index outputs,
gradients at zeros, constructors, the default generator, and tg.save / tg.load.
"""

import numpy as np
import pytest

import tinygrad_course as tg
from tinygrad_course import nn
from tinygrad_course.errors import ArgumentError, CheckpointError, DTypeError, ShapeError


def _x(shape=(2, 3), seed=0):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# ----- transpose: one rule for NumPy's and PyTorch's meanings -------------------------------
def test_two_separate_axes_swap_them_even_on_a_matrix():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(x.transpose(0, 1).numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.transpose(1, 0).numpy(), x.numpy().T)
    np.testing.assert_array_equal(tg.transpose(x, 0, 1).numpy(), x.numpy().T)
    y = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(y.transpose(0, 2).numpy(), np.swapaxes(y.numpy(), 0, 2))
    np.testing.assert_array_equal(y.transpose(-1, -2).numpy(), np.swapaxes(y.numpy(), -1, -2))


def test_one_sequence_or_all_axes_permute_as_numpy():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(x.transpose((0, 1)).numpy(), x.numpy())  # identity
    y = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(y.transpose(2, 0, 1).numpy(), y.numpy().transpose(2, 0, 1))
    np.testing.assert_array_equal(y.permute(1, 0, 2).numpy(), y.numpy().transpose(1, 0, 2))
    np.testing.assert_array_equal(x.permute(0, 1).numpy(), x.numpy())  # permute: always


def test_a_pair_given_as_a_sequence_on_three_dims_is_refused():
    y = tg.zeros(2, 3, 4)
    with pytest.raises(ShapeError, match=r"transpose: axes \(0, 2\) are not a permutation .*"
                                         r"give them as two numbers"):
        y.transpose((0, 2))
    with pytest.raises(ShapeError, match="transpose"):
        y.transpose(0)


def test_swapdims_mt_and_movedim():
    y = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(y.swapdims(0, 1).numpy(), np.swapaxes(y.numpy(), 0, 1))
    assert y.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(tg.movedim(y, (0, 1), (2, 0)).numpy(),
                                  np.moveaxis(y.numpy(), (0, 1), (2, 0)))


# ----- split: NumPy's meaning by keyword, PyTorch's by keyword, ambiguity refused -----------
def test_split_keywords_say_which_meaning():
    x = tg.arange(6)
    assert [p.tolist() for p in tg.split(x, sections=2)] == [[0, 1, 2], [3, 4, 5]]
    assert [p.tolist() for p in x.split(split_size=2)] == [[0, 1], [2, 3], [4, 5]]
    assert [p.tolist() for p in tg.split(x, split_size=4)] == [[0, 1, 2, 3], [4, 5]]
    assert [p.tolist() for p in tg.split(x, split_size=[1, 5])] == [[0], [1, 2, 3, 4, 5]]
    assert [p.tolist() for p in tg.split(x, sections=[1, 5])] == [[0], [1, 2, 3, 4], [5]]


def test_an_ambiguous_positional_split_raises_naming_both_spellings():
    with pytest.raises(ArgumentError, match=r"split\(x, 2\) on an axis of length 6 is "
                                            r"ambiguous.*sections=2.*split_size=2"):
        tg.split(tg.arange(6), 2)
    with pytest.raises(ArgumentError, match="ambiguous"):
        tg.arange(6).split([2, 4])  # cut points in NumPy, sizes in PyTorch
    with pytest.raises(ShapeError, match="cannot be split into 4 equal sections.*split_size=4"):
        tg.split(tg.arange(6), 4)


def test_unambiguous_positional_splits_work():
    assert [p.tolist() for p in tg.split(tg.arange(4), 2)] == [[0, 1], [2, 3]]  # 2 * 2 = 4
    assert [p.tolist() for p in tg.split(tg.arange(6), [1, 3])] == [[0], [1, 2], [3, 4, 5]]


def test_chunk_may_give_fewer_pieces_as_pytorch():
    pieces = tg.arange(6).chunk(4)
    assert [p.tolist() for p in pieces] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(ArgumentError, match="chunk: chunks must be an int > 0"):
        tg.chunk(tg.arange(6), 0)


# ----- dim= / keepdim= wherever axis= / keepdims= -------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "amax", "prod", "var", "std",
                                  "logsumexp", "argmax", "argmin", "any", "all"])
def test_reductions_take_dim_and_keepdim(name):
    x = _x((3, 4))
    torch_style = getattr(x, name)(dim=1, keepdim=True)
    numpy_style = getattr(tg, name)(x, axis=1, keepdims=True)
    np.testing.assert_array_equal(torch_style.numpy(), numpy_style.numpy())
    assert torch_style.shape == (3, 1)


def test_other_entry_points_take_dim():
    x, y = _x((2, 3)), _x((2, 3), seed=1)
    np.testing.assert_allclose(x.softmax(dim=0).numpy(), tg.softmax(x, axis=0).numpy())
    np.testing.assert_allclose(tg.log_softmax(x, dim=0).numpy(), x.log_softmax(0).numpy())
    assert tg.cat([x, y], dim=1).shape == (2, 6) and tg.stack([x, y], dim=2).shape == (2, 3, 2)
    assert x.cumsum(dim=1).shape == (2, 3) and x.unsqueeze(dim=0).shape == (1, 2, 3)
    assert x.flatten(start_dim=0, end_dim=1).shape == (6,)
    assert x.diagonal(dim1=1, dim2=0).shape == (2,)


def test_giving_both_names_of_one_argument_is_refused():
    with pytest.raises(ArgumentError, match="sum: got both axis= and dim="):
        tg.sum(_x(), axis=0, dim=1)


# ----- max / min: values, or values and indices ---------------------------------------------
def test_max_with_a_dim_returns_values_and_indices_only_when_asked():
    x = tg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    assert x.max(1).tolist() == [5.0, 7.0]  # values only, as NumPy (not PyTorch's pair)
    values, indices = tg.max(x, dim=1, return_indices=True)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    result = x.min(dim=0, return_indices=True)
    assert result.values.tolist() == [1.0, 0.0, 2.0] and result.indices.tolist() == [0, 1, 0]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [0.5, 0, 0.5]])  # ties share


# ----- small PyTorch spellings --------------------------------------------------------------
def test_size_is_an_int_that_pytorch_code_can_call():
    x = tg.zeros(2, 3)
    assert x.size == 6 and x.size + 1 == 7 and isinstance(x.size, int)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2 and x.numel() == 6
    with pytest.raises(ShapeError, match="size: axis 2 is out of range"):
        x.size(2)


def test_view_to_clone_and_dtype_shortcuts():
    x = _x((2, 3))
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert x.to("float64").dtype == np.float64 and x.to(np.float64).dtype == np.float64
    assert x.to(tg.zeros(1, dtype="int64")).dtype == np.int64
    assert x.to("strict").device == "strict" and x.to("cpu", dtype="float64").dtype == np.float64
    assert x.long().dtype == np.int64 and x.double().dtype == np.float64
    assert x.bool().dtype == np.bool_ and x.int().dtype == np.int32
    copy = x.clone()
    copy.data[0, 0] = 99.0
    assert x.data[0, 0] != 99.0  # its own array
    (copy * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_backward_gradient_and_grad_outputs_spellings():
    x = _x((3,))
    (x * 3).backward(gradient=tg.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])
    (g,) = tg.grad([x * x], [x], grad_outputs=[tg.tensor([1.0, 0.0, 2.0])])
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * [1.0, 0.0, 2.0])
    (g,) = tg.grad(x * x, x, grad_outputs=tg.ones(3))
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy())


def test_where_method_and_masked_fill():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.where(x > 0, tg.zeros(3))
    assert y.tolist() == [1.0, 0.0, 3.0]
    z = x.masked_fill(x < 0, -100.0)
    assert z.tolist() == [1.0, -100.0, 3.0]
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(DTypeError, match="masked_fill: mask must be bool"):
        x.masked_fill(tg.tensor([1, 0, 1]), 0.0)


# ----- sorting: indices as NumPy's stable argsort; the gradient goes to the values ----------
def test_sort_and_topk_indices_and_gradients():
    values = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 5.0, -1.0, 5.0]])
    x = tg.tensor(values, requires_grad=True)
    result = x.sort(dim=1)
    np.testing.assert_array_equal(result.indices.numpy(), np.argsort(values, 1, kind="stable"))
    down = tg.sort(x, descending=True)
    assert down.indices.tolist() == [[0, 2, 3, 1], [1, 3, 0, 2]]  # ties keep their order
    top = x.topk(2)
    assert top.values.tolist() == [[3.0, 3.0], [5.0, 5.0]]
    assert top.indices.tolist() == [[0, 2], [1, 3]]
    assert x.topk(1, largest=False).indices.tolist() == [[1], [2]]
    (top.values * tg.tensor([[1.0, 10.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 10, 0], [0, 1, 0, 10]])
    assert tg.argsort(x, dim=0).tolist() == [[1, 0, 1, 0], [0, 1, 0, 1]]
    with pytest.raises(ArgumentError, match=r"topk: k must be an int in \[0, 4\]"):
        x.topk(5)


# ----- gather and scatter -------------------------------------------------------------------
def test_gather_scatter_and_index_select_match_pytorch_examples():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    index = tg.tensor([[0, 0], [1, 0]])
    assert x.gather(1, index).tolist() == [[1.0, 1.0], [4.0, 3.0]]
    x.gather(1, index).sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [1.0, 1.0]]  # repeats add up
    zeros = tg.zeros(2, 3)
    src = tg.tensor([[1.0, 2.0, 3.0]])
    assert zeros.scatter_add(0, tg.tensor([[0, 1, 0]]), src).tolist() == [[1, 0, 3], [0, 2, 0]]
    assert zeros.scatter(1, tg.tensor([[2], [0]]), value=7.0).tolist() == [[0, 0, 7],
                                                                          [7, 0, 0]]
    assert tg.index_select(x, 0, tg.tensor([1, 1])).tolist() == [[3, 4], [3, 4]]


def test_scatter_refuses_a_position_written_twice_and_bad_indices():
    with pytest.raises(ArgumentError, match="scatter: index names a position more than once"):
        tg.zeros(3).scatter(0, tg.tensor([1, 1]), tg.ones(2))
    with pytest.raises(ShapeError, match=r"gather: index values must lie in \[-2, 2\)"):
        tg.zeros(2).gather(0, tg.tensor([2]))
    with pytest.raises(DTypeError, match="gather: index must hold integers"):
        tg.zeros(2).gather(0, tg.tensor([0.0]))
    with pytest.raises(ShapeError, match="gather: index needs as many dims"):
        tg.zeros(2, 2).gather(0, tg.tensor([0]))


# ----- products and norms at zeros ----------------------------------------------------------
def test_prod_gradient_with_one_and_two_zeros():
    x = tg.tensor([[2.0, 0.0, 3.0], [0.0, 4.0, 0.0], [1.0, 2.0, 5.0]], requires_grad=True)
    x.prod(dim=1).sum().backward()
    # one zero: it gets the product of the others, the rest 0; two zeros: all 0
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 6, 0], [0, 0, 0], [10, 5, 2]])


def test_cumprod_gradient_with_a_zero():
    x = tg.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    y = x.cumprod(0)
    assert y.tolist() == [2.0, 0.0, 0.0, 0.0]
    y.sum().backward()
    # d/dx0 = 1 + x1 + x1 x2 + ... = 1; d/dx1 = x0 (1 + x2 + x2 x3) = 2 * 16; later: 0
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 32.0, 0.0, 0.0])


def test_norm_of_a_zero_vector_has_zero_gradient_and_orders_match_numpy():
    zero = tg.zeros(3, requires_grad=True)
    tg.norm(zero).backward()
    np.testing.assert_array_equal(zero.grad.numpy(), [0.0, 0.0, 0.0])
    v = np.array([3.0, -4.0, 1.0])
    for order in (1, 2, np.inf, -np.inf, 3):
        np.testing.assert_allclose(tg.norm(tg.tensor(v), order).item(),
                                   np.linalg.norm(v, order), rtol=1e-6)
    m = tg.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert tg.norm(m, 1).item() == 10.0  # every element: a vector norm (torch.norm's reading)
    assert tg.norm(m, "fro").item() == pytest.approx(np.sqrt(30.0))
    with pytest.raises(ArgumentError, match="norm: ord must be"):
        tg.norm(m, "nuc")


def test_std_ddof_correction_and_unbiased_agree():
    x = _x((4, 5))
    ddof1 = np.std(x.numpy(), axis=0, ddof=1)
    for spelled in (x.std(0, ddof=1), x.std(dim=0, correction=1), x.std(0, unbiased=True)):
        np.testing.assert_allclose(spelled.numpy(), ddof1, rtol=1e-6)
    np.testing.assert_allclose(x.std().item(), np.std(x.numpy()), rtol=1e-6)  # NumPy's ddof=0
    with pytest.raises(ArgumentError, match="std: give one of ddof=, correction= and unbiased="):
        x.std(ddof=1, unbiased=True)


# ----- math -------------------------------------------------------------------------------
def test_rounding_has_zero_gradient_and_keeps_integers():
    x = tg.tensor([-1.5, -0.4, 0.5, 2.5], requires_grad=True)
    assert tg.round(x).tolist() == [-2.0, -0.0, 0.0, 2.0]  # halves to even
    (x.floor() + x.ceil() + x.round() + x.trunc() + x.sign()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    integers = tg.tensor([3, -2])
    assert tg.floor(integers) is integers and tg.sign(integers).tolist() == [1, -1]
    assert tg.round(tg.tensor([1.234]), decimals=1).tolist() == pytest.approx([1.2])


def test_clamp_with_tensor_bounds_sends_the_gradient_to_the_bound_that_won():
    x = tg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    low = tg.tensor([-1.0, -1.0, -1.0], requires_grad=True)
    high = tg.tensor(2.0, requires_grad=True)
    y = x.clamp(low, high)
    assert y.tolist() == [-1.0, 0.5, 2.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0] and low.grad.tolist() == [1.0, 0.0, 0.0]
    assert high.grad.item() == 1.0
    assert tg.clamp(x, min=0.0).tolist() == [0.0, 0.5, 3.0]  # number bounds: clip


def test_einsum_accepts_numpy_forms_and_refuses_bad_ones():
    a, b = _x((2, 3)), _x((3, 4), seed=1)
    np.testing.assert_allclose(tg.einsum("ij,jk", [a, b]).numpy(), (a @ b).numpy(), rtol=1e-6)
    np.testing.assert_allclose(tg.einsum("ba", a).numpy(), np.einsum("ba", a.numpy()))
    with pytest.raises(ShapeError, match="einsum: 'ij,jk->ik' names 2 operands, got 1"):
        tg.einsum("ij,jk->ik", a)
    with pytest.raises(ShapeError, match="einsum: letter 'j' .* size 3 in one operand and 2"):
        tg.einsum("ij,jk->ik", a, a)
    with pytest.raises(ShapeError, match="einsum: output letter 'z'"):
        tg.einsum("ij->z", a)


def test_repeat_is_pytorch_tile_and_repeat_interleave_is_numpy_repeat():
    x = tg.tensor([1.0, 2.0])
    assert x.repeat(2).tolist() == [1.0, 2.0, 1.0, 2.0]
    assert x.repeat(2, 1).tolist() == [[1.0, 2.0], [1.0, 2.0]]
    assert x.repeat_interleave(2).tolist() == [1.0, 1.0, 2.0, 2.0]
    assert tg.repeat_interleave(x, tg.tensor([0, 3])).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ShapeError, match="repeat: needs at least 2 sizes"):
        tg.zeros(2, 2).repeat(2)


# ----- constructors and the default generator -----------------------------------------------
def test_constructors_match_numpy():
    np.testing.assert_array_equal(tg.eye(3, 4, 1).numpy(), np.eye(3, 4, 1))
    np.testing.assert_allclose(tg.linspace(0, 1, steps=5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(tg.logspace(0, 2, 3, base=2.0).numpy(), [1.0, 2.0, 4.0])
    steps = tg.arange(0, 1, 0.25)
    assert steps.dtype == np.float32 and steps.tolist() == [0.0, 0.25, 0.5, 0.75]
    x = tg.ones(2, 3, dtype="float64")
    for like in (tg.zeros_like(x), tg.ones_like(x), tg.full_like(x, 7), tg.rand_like(x),
                 tg.randn_like(x)):
        assert like.shape == (2, 3) and like.dtype == np.float64
    assert tg.full_like(x, 7).tolist() == [[7.0] * 3] * 2
    assert tg.zeros_like(x, dtype="int64").dtype == np.int64


def test_randint_reads_numpy_and_pytorch_argument_orders():
    for draw in (tg.randint(5, size=(100,), seed=0), tg.randint(5, (100,), seed=0),
                 tg.randint(0, 5, (100,), seed=0)):
        assert draw.dtype == np.int64 and draw.shape == (100,)
        assert draw.numpy().min() >= 0 and draw.numpy().max() <= 4
    assert set(tg.randint(2, 4, (200,), seed=1).tolist()) == {2, 3}
    with pytest.raises(ArgumentError, match="randint: needs low < high"):
        tg.randint(3, 3, (2,))


def test_manual_seed_makes_sampling_and_initialisation_repeatable():
    def run():
        tg.manual_seed(123)
        layer = nn.Linear(3, 2)
        return layer.weight.numpy().copy(), tg.randn(4).numpy(), tg.rand(2).numpy(), \
            tg.randint(10, (3,)).numpy(), nn.Dropout(0.5)(tg.ones(8)).numpy()

    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(124)
    assert not np.array_equal(tg.randn(4).numpy(), first[1])


def test_explicit_seeds_keep_their_numbers():
    tg.manual_seed(5)
    expected = np.random.default_rng(3).standard_normal((2, 2)).astype(np.float32)
    np.testing.assert_array_equal(tg.randn(2, 2, seed=3).numpy(), expected)
    before = tg.random.default_generator().bit_generator.state
    tg.randn(2, seed=3)
    nn.Linear(2, 2, seed=1)
    assert tg.random.default_generator().bit_generator.state == before  # untouched
    with pytest.raises(ArgumentError, match="manual_seed: seed must be a non-negative int"):
        tg.manual_seed(-1)


# ----- tg.save / tg.load --------------------------------------------------------------------
def test_save_and_load_a_tensor_and_a_state_dict(tmp_path):
    x = tg.tensor(np.arange(6.0).reshape(2, 3), dtype="float64")
    tg.save(x, tmp_path / "x.npz")
    loaded = tg.load(tmp_path / "x.npz")
    assert isinstance(loaded, tg.Tensor) and loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.numpy(), x.numpy())

    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    tg.save(model.state_dict(), tmp_path / "w.npz")
    state = tg.load(tmp_path / "w.npz")
    assert list(state) == list(model.state_dict())
    other = nn.Sequential(nn.Linear(3, 4, seed=5), nn.ReLU(), nn.Linear(4, 2, seed=6))
    other.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], value)

    mixed = {"t": tg.ones(2), "a": np.zeros(3, dtype=np.int64)}
    tg.save(mixed, tmp_path / "m.npz")
    back = tg.load(tmp_path / "m.npz", device="strict")
    assert isinstance(back["t"], tg.Tensor) and back["t"].device == "strict"
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == np.int64
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:  # plain npz, no pickle
        assert "entries/t" in archive.files


def test_save_refuses_what_it_cannot_store_and_load_names_a_bad_file(tmp_path):
    with pytest.raises(DTypeError, match="save: the entry 'state' is a dict"):
        tg.save({"state": {"step": 1}}, tmp_path / "o.npz")
    with pytest.raises(DTypeError, match="save: the object is a list"):
        tg.save([1.0, 2.0], tmp_path / "l.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="load: cannot read"):
        tg.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(CheckpointError, match="load: cannot read"):
        tg.load(tmp_path / "plain.npz")
