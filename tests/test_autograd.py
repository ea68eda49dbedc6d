"""The engine: graph building, backward, accumulation, no_grad, tg.grad, second derivatives,
and user-written Functions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_course as tg
from tinygrad_course import functional as F
from tinygrad_course.errors import BackwardError, ShapeError


def leaf(values):
    return tg.tensor(values, dtype=np.float64, requires_grad=True)


# ----- backward walks the graph -------------------------------------------------------------
def test_a_5000_step_chain_backpropagates_without_recursion():
    """The graph search uses an explicit stack, so depth is not limited by Python's
    recursion limit (1000 by default)."""
    x = leaf(0.5)
    y = x
    for _ in range(2500):
        y = (y * 1.0001).tanh() * 1.0  # 3 ops a step: 7,500 nodes deep
    y.backward()
    # reference: the same chain rule, step by step, in plain floats
    value, derivative = 0.5, 1.0
    for _ in range(2500):
        value = np.tanh(value * 1.0001)
        derivative *= 1.0001 * (1 - value ** 2)
    np.testing.assert_allclose(y.item(), value, rtol=1e-12)
    np.testing.assert_allclose(x.grad.item(), derivative, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_graphs_put_every_tensor_after_its_inputs_and_get_exact_gradients(data):
    """topological_order sorts by the number each op got when applied; on random graphs
    (tensors reused any number of times, ops applied in any order) every tensor must come
    after its inputs, and the gradients must match finite differences."""
    from tinygrad_course.autograd import topological_order

    n_leaves = data.draw(st.integers(1, 3))
    values = data.draw(st.lists(st.floats(0.5, 1.5), min_size=n_leaves, max_size=n_leaves))
    steps = data.draw(st.lists(st.tuples(st.sampled_from(["add", "mul", "tanh"]),
                                         st.integers(0, 10**6), st.integers(0, 10**6)),
                               min_size=1, max_size=12))

    def build(*leaves):
        pool = list(leaves)
        for op, i, j in steps:
            a, b = pool[i % len(pool)], pool[j % len(pool)]
            pool.append(a + b if op == "add" else a * b if op == "mul" else a.tanh())
        return pool[-1] * 1.0 + sum(pool[len(leaves):], pool[0] * 0.0)

    leaves = [leaf(v) for v in values]
    root = build(*leaves)
    order = topological_order(root)
    position = {id(t): k for k, t in enumerate(order)}
    for t in order:
        for parent in t._ctx.inputs:
            if parent._ctx is not None:
                assert position[id(parent)] < position[id(t)]
    assert order[-1] is root
    assert tg.gradcheck(build, *[leaf(v) for v in values])


def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * x.numpy()))


def test_a_second_backward_through_a_freed_graph_raises_and_retain_graph_allows_it():
    x = leaf([1.0, -2.0, 3.0])
    y = (x * x).exp().sum()
    y.backward()
    with pytest.raises(BackwardError, match=r"graph through (Exp|Sum|Mul).*freed by an earlier "
                                            r"backward\(\); pass retain_graph=True"):
        y.backward()
    x.grad = None
    z = (x * x).exp().sum()
    z.backward(retain_graph=True)
    z.backward()  # the graph was kept for this one
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * x.numpy() * np.exp(x.numpy() ** 2))
    with pytest.raises(BackwardError, match="freed by an earlier backward"):
        z.backward()


def test_backward_frees_what_the_ops_saved_before_it_returns():
    import weakref

    x = leaf(np.linspace(-1, 1, 6))
    hidden = (x * 3.0).tanh()  # Tanh keeps its output for the backward
    kept = weakref.ref(hidden.data)
    loss = (hidden * hidden).sum()
    del hidden
    assert kept() is not None  # held by the graph
    loss.backward()
    assert kept() is None  # released by the backward, not when the loss is dropped
    assert loss.item() > 0  # the result itself is untouched


def test_create_graph_keeps_the_graph_by_default_as_in_pytorch():
    x = leaf([0.5, 1.5])
    y = (x ** 3).sum()
    (g,) = tg.grad(y, [x], create_graph=True)
    (h,) = tg.grad(g.sum(), [x])  # back through y's graph again: it was retained
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


def test_a_tensor_used_several_times_gets_the_sum_of_its_gradients():
    x = leaf([0.5, -1.5])
    (x * x + x * 3.0 + x).sum().backward()  # d/dx = 2x + 3 + 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 4)


def test_an_intermediate_used_twice_passes_on_the_sum_of_its_gradients():
    x = leaf([0.3, -0.7, 1.1])
    a = x.exp().retain_grad()
    b = x.tanh()
    (a * a + a * b).sum().backward()  # a is used three times, x twice (through a and b)
    ax, bx = np.exp(x.numpy()), np.tanh(x.numpy())
    np.testing.assert_allclose(a.grad.numpy(), 2 * ax + bx)
    np.testing.assert_allclose(x.grad.numpy(), (2 * ax + bx) * ax + ax * (1 - bx ** 2))


def test_only_leaves_and_retain_grad_tensors_keep_grad():
    x = leaf([1.0, 2.0])
    hidden = x * 2.0
    kept = (hidden + 1.0).retain_grad()
    constant = tg.tensor([3.0, 4.0], dtype=np.float64)
    loss = (kept * constant).sum()
    loss.backward()
    assert hidden.grad is None and constant.grad is None and loss.grad is None
    np.testing.assert_allclose(kept.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 8.0])
    loss = (x * 3.0).sum().retain_grad()  # the root too keeps its gradient when asked
    loss.backward()
    assert loss.grad.item() == 1.0


def test_detach_cuts_the_graph():
    x = leaf([2.0, 3.0])
    (x.detach() * x).sum().backward()  # the detached factor is a constant
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 3.0])


def test_backward_with_an_upstream_gradient_on_a_non_scalar():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    v = np.array([[1.0, 0.5, -1.0], [2.0, 0.0, 3.0]])
    (x * x).backward(tg.tensor(v, dtype=np.float64))
    np.testing.assert_allclose(x.grad.numpy(), v * 2 * x.numpy())
    x.grad = None
    (x * 3.0).backward(v.tolist())  # a nested list works too
    np.testing.assert_allclose(x.grad.numpy(), 3 * v)


def test_backward_on_a_non_scalar_without_grad_is_an_error():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(BackwardError, match=r"shape \(2, 3\) without a gradient"):
        (x * 2.0).backward()


def test_backward_with_a_grad_of_the_wrong_shape_is_an_error():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"grad has shape \(3,\), expected .* \(2, 3\)"):
        (x * 2.0).backward(tg.ones(3, dtype=np.float64))


@pytest.mark.parametrize("make_loss, shown", [
    (lambda x: (x - x.min()).log().sum(), "-inf"),  # log(0)
    (lambda x: (x * np.inf).sum(), "inf"),
    (lambda x: ((x - x) / (x - x)).sum(), "nan"),  # 0 / 0
])
def test_a_nan_or_inf_loss_is_an_error(make_loss, shown):
    x = leaf([1.0, 2.0])
    with np.errstate(all="ignore"):
        loss = make_loss(x)
    with pytest.raises(BackwardError, match=f"the loss is {shown}"):
        loss.backward()


def test_backward_of_a_tensor_that_needs_no_gradient_is_an_error():
    with pytest.raises(BackwardError, match="does not require grad"):
        (tg.tensor([1.0, 2.0]) * 2).sum().backward()


# ----- no_grad ------------------------------------------------------------------------------
def test_no_grad_records_no_graph_and_restores_the_mode():
    x = leaf([1.0, 2.0])
    assert tg.is_grad_enabled()
    with tg.no_grad():
        y = (x * 2.0).exp()
        assert not tg.is_grad_enabled()
        with tg.no_grad():
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert (x * 2.0).requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(RuntimeError):
        with tg.no_grad():
            raise RuntimeError("inside")
    assert tg.is_grad_enabled()


def test_set_grad_enabled_switches_both_ways():
    x = leaf([1.0])
    with tg.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
        with tg.set_grad_enabled(True):
            assert (x * 2.0).requires_grad


# ----- tg.grad and second derivatives -------------------------------------------------------
def test_grad_returns_gradients_without_touching_dot_grad():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    gx, gu = tg.grad((x ** 3).sum(), [x, unused])
    np.testing.assert_allclose(gx.numpy(), 3 * x.numpy() ** 2)
    assert gu is None and x.grad is None and not gx.requires_grad


def test_grad_with_create_graph_gives_the_second_derivative():
    x = leaf([0.5, -1.0, 2.0])
    (first,) = tg.grad((x ** 3).sum(), [x], create_graph=True)
    assert first.requires_grad
    (second,) = tg.grad(first.sum(), [x])
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy())


def _f(x, a):
    """f(x) = sum(tanh(A x) * x) + sum(exp(x)) / 2: a Hessian with off-diagonal terms."""
    return ((a @ x).tanh() * x).sum() + x.exp().sum() * 0.5


def test_create_graph_gives_hessian_vector_products_that_match_finite_differences():
    rng = np.random.default_rng(0)
    a = tg.tensor(rng.standard_normal((4, 4)), dtype=np.float64)
    x0, v = rng.standard_normal(4), rng.standard_normal(4)
    x = leaf(x0)
    (gradient,) = tg.grad(_f(x, a), [x], create_graph=True)
    (hvp,) = tg.grad((gradient * tg.tensor(v, dtype=np.float64)).sum(), [x])

    def gradient_at(point):
        p = leaf(point)
        _f(p, a).backward()
        return p.grad.numpy()

    h = 1e-5
    numeric = (gradient_at(x0 + h * v) - gradient_at(x0 - h * v)) / (2 * h)
    np.testing.assert_allclose(hvp.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf([1.5, -0.5])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (second,) = tg.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy())


# ----- a user-written Function --------------------------------------------------------------
class ScaledCube(tg.Function):
    """y = scale * x^3 + b (b broadcast);  dL/dx = dL/dy * 3 scale x^2,  dL/db = sum dL/dy."""

    def forward(self, x, b, scale):
        self.scale = scale
        return scale * x * x * x + b

    def backward(self, grad):
        x, b = self.inputs
        grad_x = grad * x * x * (3.0 * self.scale) if self.needs_input_grad[0] else None
        grad_b = grad.sum(axis=0) if self.needs_input_grad[1] else None
        return grad_x, grad_b


def test_a_user_written_function_passes_gradcheck_and_gradgradcheck():
    x = tg.randn(3, 2, seed=0, dtype=np.float64, requires_grad=True)
    b = tg.randn(2, seed=1, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, b: ScaledCube.apply(x, b, scale=0.7), x, b)
    assert tg.gradgradcheck(lambda x, b: ScaledCube.apply(x, b, scale=0.7), x, b)


def test_a_user_written_function_learns_which_inputs_need_a_gradient():
    x = tg.randn(3, 2, seed=0, requires_grad=True)
    b = tg.zeros(2)
    y = ScaledCube.apply(x, b, scale=2.0)
    assert y._ctx.needs_input_grad == (True, False) and y._ctx.output is y
    (y * 1.0).sum().backward()  # works inside a bigger graph too
    np.testing.assert_allclose(x.grad.numpy(), 6.0 * x.numpy() ** 2, rtol=1e-6)
    assert b.grad is None


def test_a_function_returning_a_wrong_shape_is_told_about_broadcasting():
    class Broken(tg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            return grad, grad

    a, b = leaf(np.ones((2, 3))), leaf(np.ones(3))
    with pytest.raises(BackwardError, match=r"Broken.backward: gradient of shape \(2, 3\) for "
                                            r"an input of shape \(3,\).*broadcast"):
        Broken.apply(a, b).sum().backward()


# ----- in-place ops and version counters -----------------------------------------------------
def test_inplace_relu_gives_the_same_values_and_gradients_and_reuses_the_array():
    rng = np.random.default_rng(0)
    w = leaf(rng.standard_normal((3, 4)))
    x = tg.tensor(rng.standard_normal((5, 4)), dtype=np.float64)
    plain = (x @ w.T).relu()
    (plain * plain).sum().backward()
    expected = w.grad.numpy().copy()
    w.grad = None
    hidden = x @ w.T
    out = F.relu(hidden, inplace=True)
    np.testing.assert_array_equal(hidden.numpy(), out.numpy())  # the matmul's array was overwritten
    np.testing.assert_array_equal(out.numpy(), plain.numpy())
    (out * out).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)


def test_inplace_relu_module_passes_gradcheck():
    rng = np.random.default_rng(1)
    w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    x = rng.standard_normal((5, 3))

    def net(a, b):
        return tg.nn.ReLU(inplace=True)(tg.tensor(x, dtype=np.float64) @ a.T) @ b.T

    assert tg.gradcheck(net, w1, w2)


def test_inplace_op_on_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(BackwardError, match="relu: inplace=True on a leaf tensor that requires "
                                            "grad"):
        F.relu(leaf([1.0, -1.0]), inplace=True)


def test_inplace_add_writes_into_the_first_operand_and_keeps_gradients():
    from tinygrad_course.ops.elementwise import add

    rng = np.random.default_rng(2)
    w = leaf(rng.standard_normal((3, 4)))
    x = tg.tensor(rng.standard_normal((5, 4)), dtype=np.float64, requires_grad=True)
    bias = leaf(rng.standard_normal(3))
    plain = x @ w.T + bias
    (plain * plain).sum().backward()
    expected = [t.grad.numpy().copy() for t in (w, x, bias)]
    for t in (w, x, bias):
        t.grad = None
    product = x @ w.T
    out = add(product, bias, inplace=True)  # bias broadcasts into the product's shape
    np.testing.assert_array_equal(product.numpy(), out.numpy())  # the product was overwritten
    np.testing.assert_allclose(out.numpy(), plain.numpy(), rtol=1e-12)
    (out * out).sum().backward()
    for t, e in zip((w, x, bias), expected):
        np.testing.assert_allclose(t.grad.numpy(), e, rtol=1e-12)


def test_inplace_add_falls_back_when_the_sum_does_not_fit_the_first_operand():
    from tinygrad_course.ops.elementwise import add

    small = tg.tensor([1.0, 2.0])
    out = add(small, tg.ones(3, 2), inplace=True)  # the sum is (3, 2): a new array
    assert out.shape == (3, 2)
    np.testing.assert_array_equal(small.numpy(), [1.0, 2.0])
    ints = tg.tensor(np.array([1, 2]))
    assert add(ints, tg.tensor([0.5, 0.5]), inplace=True).dtype == np.float32  # int + float
    np.testing.assert_array_equal(ints.numpy(), [1, 2])
    with pytest.raises(BackwardError, match="add: inplace=True on a leaf tensor"):
        add(leaf([1.0]), tg.tensor([1.0]), inplace=True)


def test_backward_refuses_an_output_overwritten_by_inplace_add():
    from tinygrad_course.ops.elementwise import add

    x = leaf([0.5, -1.0, 2.0])
    e = x.exp()  # Exp's backward reads its output
    add(e, 1.0, inplace=True)
    with pytest.raises(BackwardError, match=r"Exp needs its output"):
        e.sum().backward()


def test_backward_refuses_values_overwritten_in_place():
    x = leaf([0.5, -1.0, 2.0])
    saved_output = (x * 1.0).tanh()  # Tanh's backward reads its output
    F.relu(saved_output, inplace=True)
    with pytest.raises(BackwardError, match=r"Tanh needs its output \(shape \(3,\)\), but an "
                                            r"in-place op overwrote it"):
        saved_output.sum().backward()
    y = x * 1.0
    product = y * x  # Mul keeps y as an input
    F.relu(y, inplace=True)
    with pytest.raises(BackwardError, match="Mul needs an input"):
        product.sum().backward()


def test_inplace_op_on_an_unweighted_layer_norm_output_is_caught():
    # without weight and bias, LayerNorm's output IS x_hat, which its backward needs
    x = leaf(np.random.default_rng(3).standard_normal((2, 4)))
    from tinygrad_course.ops.normalization import layer_norm

    y = layer_norm(x * 1.0, (4,))
    F.relu(y, inplace=True)
    with pytest.raises(BackwardError, match=r"LayerNorm needs its output"):
        y.sum().backward()
