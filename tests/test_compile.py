"""tg.compile: a compiled step gives the eager step's numbers, bit for bit where the same
NumPy calls run in the same order; guards re-trace on new shapes; value branches are caught.

The compiler generates NumPy code, so it runs on the "cpu" device only: on the strict pass
(TINYGRAD_DEVICE=strict) these tests are skipped, and one test checks that compiling a step
on another device raises DeviceError."""

import os
import re

import numpy
import pytest

import tinygrad_course as tg
from tinygrad_course import nn, optim
from tinygrad_course.compile import TraceError, ValueDependentError
from tinygrad_course.errors import DeviceError

ON_STRICT = os.environ.get("TINYGRAD_DEVICE", "cpu").lower().startswith("strict")
cpu_only = pytest.mark.skipif(ON_STRICT, reason="tg.compile generates NumPy code: cpu only")


def mlp(seed=0, sizes=(12, 16, 16, 5)):
    tg.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, device="cpu"))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def data(batch, seed=1, features=12, classes=5):
    rng = numpy.random.default_rng(seed)
    x = tg.tensor(rng.standard_normal((batch, features)).astype(numpy.float32), device="cpu")
    y = tg.tensor(rng.integers(0, classes, size=batch), device="cpu")
    return x, y


def make_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = tg.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def run_pair(make_optimizer, steps=5, batch=8, **compile_options):
    """Train two identical MLPs, one eagerly and one compiled; return both histories.
    (numexpr off unless asked: its kernels round differently, see compile/kernels.py)"""
    compile_options.setdefault("use_numexpr", False)
    eager_model, compiled_model = mlp(), mlp()
    eager = make_step(eager_model, make_optimizer(eager_model.parameters()))
    compiled = tg.compile(make_step(compiled_model,
                                    make_optimizer(compiled_model.parameters())),
                          **compile_options)
    x, y = data(batch)
    eager_losses = [eager(x, y) for _ in range(steps)]
    compiled_losses = [compiled(x, y) for _ in range(steps)]
    return eager_losses, compiled_losses, eager_model, compiled_model, compiled


def assert_same_parameters(a, b):
    """Parameters and their gradients equal bit for bit (state stays one)."""
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert numpy.array_equal(p.data, q.data), name
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            assert numpy.array_equal(p.grad.data, q.grad.data), f"{name}.grad"


@cpu_only
@pytest.mark.parametrize("passes", [(), ("simplify",), ("simplify", "dce"), ("dce", "fuse"),
                                    ("simplify", "dce", "fuse", "plan")])
def test_mlp_sgd_matches_eager_bitwise(passes):
    eager_losses, compiled_losses, a, b, step = run_pair(
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9), passes=passes)
    assert compiled_losses == eager_losses
    assert_same_parameters(a, b)
    assert step.traces == 2  # the first call had no momentum buffers yet: a second trace


@cpu_only
def test_mlp_adam_matches_eager_bitwise():
    """Adam's step count t is traced: the bias corrections change on every replay."""
    eager_losses, compiled_losses, a, b, step = run_pair(lambda p: optim.Adam(p, lr=0.01),
                                                         steps=6)
    assert compiled_losses == eager_losses
    assert_same_parameters(a, b)
    assert step.stats["fused_kernels"] > 0


@cpu_only
def test_new_batch_size_traces_again():
    model = mlp()
    step = tg.compile(make_step(model, optim.SGD(model.parameters(), lr=0.1)),
                      use_numexpr=False)
    x8, y8 = data(8)
    x3, y3 = data(3, seed=2)
    for _ in range(3):
        step(x8, y8)
    assert step.traces == 2  # the first call found no gradients yet, the second did
    step(x3, y3)
    assert step.traces == 3
    eager_model = mlp()
    eager = make_step(eager_model, optim.SGD(eager_model.parameters(), lr=0.1))
    for _ in range(3):
        eager(x8, y8)
    eager(x3, y3)
    assert step(x8, y8) == eager(x8, y8)  # the batch-8 program is still there
    assert step.traces == 3


@cpu_only
def test_same_objects_with_a_new_shape_or_dtype_trace_again():
    """The guard's fast path (equal to the last call's guard) must still see a closure
    tensor whose array was replaced by one of another shape or dtype, and go back to the
    first program when the first shape returns."""
    x = tg.tensor(numpy.arange(6, dtype=numpy.float32).reshape(2, 3), device="cpu")
    step = tg.compile(lambda: (x * 2.0).sum().item())
    assert [step(), step()] == [30.0, 30.0] and step.traces == 1
    x.data = numpy.ones((4, 3), numpy.float32)  # same tensor object, new shape
    assert step() == 24.0 and step.traces == 2
    x.data = numpy.ones((4, 3), numpy.float64)  # same shape, new dtype
    assert step() == 24.0 and step.traces == 3
    assert step.last.program.values[step.last.program.nodes[0].var].dtype == numpy.float64
    x.data = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    assert step() == 30.0 and step.traces == 3  # the first program, from the cache


@cpu_only
def test_reductions_run_as_ufunc_reduce_and_match_eager_bitwise():
    """The code calls add.reduce, maximum.reduce, ... where the engine called x.sum(...),
    numpy.max(...): the same computation, so the results are equal bit for bit, also after
    the input changed in place."""
    rng = numpy.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((5, 7)).astype(numpy.float32), device="cpu")

    def reductions():
        return [(x.sum(axis=1) * x.max(axis=0).sum()).numpy().copy(), x.min().item(),
                x.prod(axis=0).numpy().copy(), x.mean(axis=1).numpy().copy()]

    step = tg.compile(reductions)
    step()
    for name in ("add.reduce(", "maximum.reduce(", "minimum.reduce(", "multiply.reduce("):
        assert name in step.code, name
    for _ in range(3):
        x.data *= rng.standard_normal((5, 7)).astype(numpy.float32)
        compiled, eager = step(), reductions()
        assert step.traces == 1
        assert compiled[1] == eager[1]
        for c, e in zip(compiled[:1] + compiled[2:], eager[:1] + eager[2:]):
            assert c.dtype == e.dtype and numpy.array_equal(c, e)


def test_one_hot_row_sum_equals_the_gather_plus_zero_bit_for_bit():
    """The identity passes.gather_one_hot rests on: for one-hot rows H of labels y and ANY
    float L (signed zeros, inf, NaN included), (H * where(H != 0, L, 0)).sum(axis=1) is
    L[rows, y] + 0.0 bit for bit."""
    rng = numpy.random.default_rng(5)
    specials = numpy.array([0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan, 1e-45, -3.0],
                           numpy.float32)
    for classes in (2, 3, 10, 17):
        labels = rng.integers(0, classes, size=64)
        table = rng.standard_normal((64, classes)).astype(numpy.float32)
        table[rng.random(table.shape) < 0.3] = rng.choice(specials, size=1)[0]
        table[numpy.arange(64), labels] = numpy.resize(specials, 64)  # specials at the labels
        hits = (labels.reshape(64, 1) == numpy.arange(classes)).astype(numpy.float32)
        row_sum = (hits * numpy.where(hits != 0, table, 0)).sum(axis=1)
        gathered = table[numpy.arange(64), labels] + 0.0
        assert row_sum.tobytes() == gathered.tobytes()


@cpu_only
def test_cross_entropy_of_labels_gathers_and_checks_the_labels_on_every_replay():
    """The compiled MLP step reads the labels' log-probabilities with one gather (no
    where/multiply/sum over the one-hot rows), equals eager bit for bit, and a label out of
    range still fails the range check the gather's proof rests on."""
    eager_losses, compiled_losses, eager_model, model, step = run_pair(
        lambda params: optim.SGD(params, lr=0.1), batch=8)
    assert compiled_losses == eager_losses
    assert_same_parameters(eager_model, model)
    assert "where(" not in step.code
    assert re.search(r"v\d+ = v\d+\[k(_\d+)?, v\d+\]\n", step.code)  # L[rows, y]
    x, _ = data(8)
    with pytest.raises(tg.TensorError):
        step(x, tg.tensor(numpy.full(8, 5), device="cpu"))  # class 5 of 5
    assert step.fallbacks == 1


@cpu_only
def test_branch_on_a_loss_value_is_refused_while_tracing():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = tg.functional.cross_entropy(model(x), y)
        if loss.item() > 100.0:  # a decision on a value
            return None
        loss.backward()
        opt.step()
        return loss.item()

    with pytest.raises(ValueDependentError, match="comparing"):
        tg.compile(step)(*data(8))


@cpu_only
def test_float_of_a_traced_value_is_refused():
    t = tg.tensor(numpy.ones(3, numpy.float32))
    with pytest.raises(ValueDependentError, match="float"):
        tg.compile(lambda: float(t.sum()))()


@cpu_only
def test_array_checks_are_repeated_and_fall_back_to_eager():
    """An op that checks its input's values (labels in range) is recorded as a check: a
    replay whose labels fail it runs eagerly, which raises the op's own error."""
    model = mlp()
    step = tg.compile(make_step(model, optim.SGD(model.parameters(), lr=0.1)))
    x, y = data(8)
    step(x, y)
    step(x, y)
    bad = tg.tensor(numpy.full(8, 7), device="cpu")  # class 7 of 5
    with pytest.raises(tg.TensorError):
        step(x, bad)
    assert step.fallbacks == 1


@cpu_only
def test_dropout_draws_afresh_on_each_replay():
    tg.manual_seed(3)
    w = tg.tensor(numpy.ones((4, 6), numpy.float32), requires_grad=True)

    def forward():
        return (tg.functional.dropout(w, p=0.5) * 2.0).sum().item()

    eager = [forward() for _ in range(4)]
    tg.manual_seed(3)
    step = tg.compile(forward)
    compiled = [step() for _ in range(4)]
    assert compiled == eager
    assert len(set(compiled)) > 1  # not one frozen mask


@cpu_only
def test_code_and_graph_are_readable():
    model = mlp()
    step = tg.compile(make_step(model, optim.Adam(model.parameters(), lr=0.01)))
    x, y = data(8)
    step(x, y)
    step(x, y)
    assert step.code.startswith("def compiled_step(args, kwargs):")
    assert "matmul(" in step.code
    assert "# after the passes" in step.graph
    assert step.dot().startswith('digraph "traced"')
    stats = step.stats
    assert stats["nodes_after_simplify_and_dce"] <= stats["nodes_traced"]
    assert stats["kernels"] < stats["nodes_after_simplify_and_dce"]
    assert stats["pool_bytes"] < stats["intermediate_bytes_before"]


def test_step_on_another_device_is_refused():
    t = tg.tensor(numpy.ones(3, numpy.float32), device="strict")
    with pytest.raises(DeviceError, match="cpu"):
        tg.compile(lambda: t.sum())()


def test_bad_arguments_are_refused():
    with pytest.raises(tg.TensorError, match="function"):
        tg.compile(3)
    with pytest.raises(tg.TensorError, match="unknown passes"):
        tg.compile(lambda: None, passes=("inline",))
    with pytest.raises(TraceError, match="not been called"):
        tg.compile(lambda: None).code


# ----- the benchmark workloads, small: compiled == eager, bit for bit -------------------------
def compare_training(build, steps=4):
    """build() -> (step function, module); run one eager and one compiled copy ``steps``
    times from the same seed and check losses, parameters and gradients are identical
    (the same NumPy calls run in the same order)."""
    tg.manual_seed(5)
    eager_step, eager_model = build()
    tg.manual_seed(5)
    compiled_fn, compiled_model = build()
    compiled = tg.compile(compiled_fn, use_numexpr=False)  # NumPy path: bit for bit
    tg.manual_seed(6)
    eager_losses = [eager_step() for _ in range(steps)]
    tg.manual_seed(6)
    compiled_losses = [compiled() for _ in range(steps)]
    assert compiled_losses == eager_losses
    assert_same_parameters(eager_model, compiled_model)
    return compiled


def regression_step(model, make_optimizer, x, target, forward=None):
    opt = make_optimizer(model.parameters())
    forward = forward or (lambda: model(x)[0])

    def step():
        opt.zero_grad()
        loss = tg.functional.mse_loss(forward(), target)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def sequence_data(length=6, batch=3, inputs=5, hidden=7):
    rng = numpy.random.default_rng(2)
    x = tg.tensor(rng.standard_normal((length, batch, inputs)).astype(numpy.float32))
    target = tg.tensor(rng.standard_normal((length, batch, hidden)).astype(numpy.float32))
    return x, target


@cpu_only
@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
def test_recurrent_sequence_op_step_matches_eager(layer):
    x, target = sequence_data()

    def build():
        model = getattr(nn, layer)(5, 7, device="cpu")
        return regression_step(model, lambda p: optim.SGD(p, lr=0.1), x, target), model

    step = compare_training(build)
    assert step.stats["fused_kernels"] > 0


@cpu_only
def test_lstm_cell_loop_step_matches_eager():
    x, target = sequence_data()

    def build():
        cell = nn.LSTMCell(5, 7, device="cpu")

        def unrolled():
            h = c = None
            outputs = []
            for t in range(x.shape[0]):
                h, c = cell(x[t]) if h is None else cell(x[t], (h, c))
                outputs.append(h)
            return tg.stack(outputs)

        return regression_step(cell, lambda p: optim.Adam(p, lr=0.01), x, target,
                               forward=unrolled), cell

    compare_training(build)


@cpu_only
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_transformer_block_step_matches_eager(dropout):
    rng = numpy.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((2, 5, 16)).astype(numpy.float32))
    y = tg.tensor(rng.standard_normal((2, 5, 16)).astype(numpy.float32))

    def build():
        block = nn.TransformerEncoderLayer(16, 2, 32, dropout=dropout, batch_first=True,
                                           norm_first=True, device="cpu")
        return regression_step(block, lambda p: optim.AdamW(p, lr=0.01), x, y,
                               forward=lambda: block(x)), block

    step = compare_training(build)
    assert ("random" in step.code) == (dropout > 0)  # dropout masks drawn on every replay


@cpu_only
def test_clip_step_matches_eager():
    from benchmarks import bench_clip

    def build():
        model, tokenizer = bench_clip.build_model()
        images, ids = bench_clip.batch(tokenizer, n=2)
        return bench_clip.make_tinygrad(model, images, ids), model

    compare_training(build, steps=3)


@cpu_only
def test_word2vec_step_matches_eager():
    from benchmarks import bench_word2vec
    from tinygrad_course.models.word2vec import Word2Vec

    vocab = bench_word2vec._zipf_vocab(size=300)

    def build():
        model = Word2Vec(vocab, 16, seed=0)
        tg.nn.init.normal_(model.out_embed.weight, 0.0, 0.1, seed=2)
        inputs, targets = bench_word2vec._minibatch(model)
        return regression_free_step(model, inputs, targets), model

    compare_training(build, steps=3)


def regression_free_step(model, inputs, targets):
    opt = optim.SGD(model.parameters(), lr=0.025)

    def step():
        opt.zero_grad()
        loss = model.loss(inputs, targets)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- memory planning: a replay allocates (almost) nothing --------------------------------
@cpu_only
@pytest.mark.parametrize("plan", [True, False])
def test_planned_replay_allocates_no_arrays(plan):
    """With planning, every intermediate of the MLP step lives in a pool buffer made once and
    the gradients in buffers of their own, so a replay never holds even one new (256, 512)
    activation (512 KiB): what tracemalloc still sees at the peak are NumPy's small casting
    buffers and a few scalars. Without planning every intermediate is allocated anew."""
    import tracemalloc

    model = mlp(sizes=(64, 512, 512, 5))
    passes = ("dce", "fuse", "plan") if plan else ("dce", "fuse")
    step = tg.compile(make_step(model, optim.SGD(model.parameters(), lr=0.1)), passes=passes)
    x, y = data(256, features=64)
    for _ in range(3):
        step(x, y)
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    step(x, y)
    peak = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    one_activation = 256 * 512 * 4
    if plan:
        assert peak < one_activation
        assert step.stats["allocated_bytes_per_step_after"] < one_activation
    else:
        assert peak >= one_activation


# ----- random elementwise expressions: compiled == eager (NumPy path), close (numexpr) ------
UNARY = {"tanh": lambda t: t.tanh(), "exp": lambda t: (t * 0.5).exp(), "relu": lambda t: t.relu(),
         "neg": lambda t: -t, "sigmoid": lambda t: t.sigmoid(), "abs": lambda t: t.abs(),
         "square": lambda t: t * t}
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / (b * b + 1.0), "maximum": lambda a, b: tg.maximum(a, b)}


def expressions():
    from hypothesis import strategies as st

    leaves = st.sampled_from(["x", "y", "z", 1.5])
    return st.recursive(leaves, lambda inner: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), inner),
        st.tuples(st.sampled_from(sorted(BINARY)), inner, inner)), max_leaves=10)


def evaluate(tree, env):
    if isinstance(tree, str):
        return env[tree]
    if isinstance(tree, float):
        return tree
    if len(tree) == 2:
        operand = evaluate(tree[1], env)
        return UNARY[tree[0]](operand if isinstance(operand, tg.Tensor) else tg.tensor(operand))
    return BINARY[tree[0]](evaluate(tree[1], env), evaluate(tree[2], env))


def expression_step(tree):
    """The expression's value and the gradient of sum(value^2) with respect to x, y, z."""
    def step(x, y, z):
        out = evaluate(tree, {"x": x, "y": y, "z": z}) + x * 0.0  # (always a tensor)
        grads = tg.grad((out * out).sum(), [x, y, z])
        return [out] + [g if g is not None else tg.zeros(1) for g in grads]
    return step


def expression_inputs(seed):
    rng = numpy.random.default_rng(seed)
    shapes = {"x": (3, 40), "y": (40,), "z": (3, 1)}  # broadcasting in every kernel
    return [tg.tensor(rng.standard_normal(shape).astype(numpy.float32), requires_grad=True)
            for shape in shapes.values()]


def check_expression(tree, seed, use_numexpr):
    from hypothesis import assume

    inputs = expression_inputs(seed)
    eager = [t.numpy() for t in expression_step(tree)(*inputs)]
    assume(all(numpy.isfinite(e).all() for e in eager))
    step = tg.compile(expression_step(tree), use_numexpr=use_numexpr)
    step(*inputs)  # the trace
    compiled = [t.numpy() for t in step(*inputs)]  # a replay
    for e, c in zip(eager, compiled):
        if use_numexpr:  # numexpr's exp/tanh may differ from NumPy's in the last bits
            scale = float(numpy.abs(e).max()) if e.size else 0.0
            numpy.testing.assert_allclose(c, e, rtol=1e-5, atol=1e-6 * scale)
        else:
            assert numpy.array_equal(c, e)


@cpu_only
def test_random_elementwise_expressions_match_eager():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None)
    @given(expressions(), st.integers(0, 2**16))
    def check(tree, seed):
        check_expression(tree, seed, use_numexpr=False)

    check()


@cpu_only
def test_random_elementwise_expressions_with_numexpr_match_eager():
    pytest.importorskip("numexpr")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None)
    @given(expressions(), st.integers(0, 2**16))
    def check(tree, seed):
        check_expression(tree, seed, use_numexpr=True)

    check()


@cpu_only
def test_mlp_adam_with_numexpr_matches_eager_to_float32_rounding():
    """With numexpr the Adam updates are single-pass kernels: equal to eager up to float32
    rounding (rtol 1e-5 on losses and parameters after 6 steps)."""
    pytest.importorskip("numexpr")
    eager_losses, compiled_losses, a, b, step = run_pair(lambda p: optim.Adam(p, lr=0.01),
                                                         steps=6, use_numexpr=True)
    assert step.stats["numexpr_kernels"] > 0
    assert "# numexpr: " in step.code
    numpy.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-5)
    for p, q in zip(a.parameters(), b.parameters()):
        numpy.testing.assert_allclose(q.data, p.data, rtol=1e-5, atol=1e-6)


# ----- state stays one; guards on hyper-parameters; in-place writes through views ----------
@cpu_only
def test_eager_and_compiled_calls_can_alternate():
    """The compiled program reads the live parameters and optimiser state at every call and
    writes them back, so eager and compiled steps can take turns on one model."""
    reference, mixed = mlp(), mlp()
    ref_step = make_step(reference, optim.Adam(reference.parameters(), lr=0.01))
    mixed_fn = make_step(mixed, optim.Adam(mixed.parameters(), lr=0.01))
    compiled = tg.compile(mixed_fn, use_numexpr=False)
    x, y = data(8)
    takes = [compiled, compiled, mixed_fn, compiled, mixed_fn, mixed_fn, compiled]
    assert [step(x, y) for step in takes] == [ref_step(x, y) for _ in takes]
    assert_same_parameters(reference, mixed)


@cpu_only
def test_a_new_learning_rate_traces_again():
    """Hyper-parameters are constants of the program: a scheduler's change re-traces."""
    reference, model = mlp(), mlp()
    ref_opt = optim.SGD(reference.parameters(), lr=0.1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    ref_step, step = make_step(reference, ref_opt), tg.compile(make_step(model, opt),
                                                                  use_numexpr=False)
    x, y = data(8)
    losses = []
    for lr in (0.1, 0.1, 0.1, 0.05, 0.05):
        ref_opt.param_groups[0]["lr"] = opt.param_groups[0]["lr"] = lr
        losses.append((ref_step(x, y), step(x, y)))
    assert [a for a, _ in losses] == [b for _, b in losses]
    assert step.traces == 3  # no gradients yet, then lr 0.1, then lr 0.05


@cpu_only
def test_in_place_writes_through_views_replay_in_order():
    """A step that writes into a parameter through a view, and reads it before and after:
    the writes are kept in their place (no pass moves a read across them)."""
    def build():
        w = tg.tensor(numpy.linspace(-1, 1, 12, dtype=numpy.float32).reshape(3, 4),
                      requires_grad=True)

        def step():
            before = (w.data * 2.0).sum()
            row = w.data[1]
            row *= 0.5  # in place, through a view
            w.data[:, 0] += before  # and into another view
            after = numpy.exp(w.data).sum()
            return tg.constant(after), tg.constant(before)

        return step, w

    eager_step, eager_w = build()
    compiled_fn, compiled_w = build()
    compiled = tg.compile(compiled_fn)
    for _ in range(3):
        a, b = eager_step(), compiled()
        assert numpy.array_equal(a[0].numpy(), b[0].numpy())
        assert numpy.array_equal(a[1].numpy(), b[1].numpy())
        assert numpy.array_equal(eager_w.data, compiled_w.data)


@cpu_only
def test_writing_into_an_array_the_tracer_does_not_follow_is_refused():
    table = numpy.zeros(4, numpy.float32)  # neither a tensor's data nor made in the step
    t = tg.tensor(numpy.ones(4, numpy.float32))

    def step():
        numpy.add(table, t.data, out=table)
        return t.sum()

    with pytest.raises(TraceError, match="does not follow"):
        tg.compile(step)()


@cpu_only
def test_a_parameter_passed_as_an_argument_is_read_once():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    weight = model[0].weight

    def step(w, x, y):
        opt.zero_grad()
        loss = tg.functional.cross_entropy(model(x), y) + (w * w).sum() * 1e-3
        loss.backward()
        opt.step()
        return loss.item()

    reference = mlp()
    ref_opt = optim.SGD(reference.parameters(), lr=0.1)

    def ref_step(w, x, y):
        ref_opt.zero_grad()
        loss = tg.functional.cross_entropy(reference(x), y) + (w * w).sum() * 1e-3
        loss.backward()
        ref_opt.step()
        return loss.item()

    compiled = tg.compile(step, use_numexpr=False)
    x, y = data(8)
    for _ in range(3):
        assert compiled(weight, x, y) == ref_step(reference[0].weight, x, y)
    assert_same_parameters(reference, model)


@cpu_only
def test_an_error_while_tracing_leaves_plain_arrays_behind():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = tg.functional.cross_entropy(model(x), y)
        loss.backward()
        raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError, match="the step failed"):
        tg.compile(step)(*data(8))
    assert all(type(p.data) is numpy.ndarray for p in model.parameters())
    assert all(type(p.grad.data) is numpy.ndarray for p in model.parameters())
    make_step(model, opt)(*data(8))  # eager training goes on


@cpu_only
def test_the_example_in_docs_compile_md_prints_the_code_shown_there():
    """docs/compile.md shows a step and the step.code it gives: run it, compare."""
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "compile.md").read_text()
    example, shown = (block.split("```")[0].strip("\n") for block in page.split("```python")[1:3])
    namespace = {}
    exec(example.replace("print(step.code)", ""), namespace)  # noqa: S102 - our own docs
    assert shown.startswith("def compiled_step(args, kwargs):")
    assert namespace["step"].code.strip("\n") == shown
