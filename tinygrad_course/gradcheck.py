"""Check a backward against finite differences.

For a function y = f(x_1, ..., x_k) and a random upstream gradient v (not all ones: ones would
hide a backward that forgets to multiply by the upstream gradient), the analytic gradient of
L = sum(v * y) with respect to each element of each x_i must match the central difference

    dL/dx_i[j]  ~  (L(x_i[j] + eps) - L(x_i[j] - eps)) / (2 eps)

whose error is O(eps^2). Everything runs in float64 so eps = 1e-6 leaves ~10 good digits.

Before the numbers, gradcheck checks the structure, because a structural bug explains a
wall of mismatches in one line: a gradient that is missing, of the wrong shape ("did you
forget to sum over broadcast axes?"), inputs changed by fn, a backward that gives different
answers on two identical runs.

Two backward paths. The fused ops (linear, layer_norm, the losses, attention, ...) compute
their backward twice over: as Tensor ops when a graph of the backward is wanted
(create_graph=True, ``is_grad_enabled()`` is True inside backward) and straight on the arrays
otherwise. Finite differences see only the plain path, and gradgradcheck differentiates only
the Tensor path; so gradcheck first requires the two to agree: the gradients of backward()
and of grad(..., create_graph=True), same inputs and upstream gradient, must be equal to
~1e-7 (the same formulas, up to the order of float64 roundings). An op whose backward is
first-order only raises DoubleBackwardError under create_graph; then there is one path and
nothing to compare.

Kinks. Where fn is not differentiable (relu or abs at 0, clip at a bound, a tie in max or
maximum), the central difference is the average of the two one-sided slopes and matches no
gradient. For each mismatching element gradcheck also compares the one-sided differences
(L(x + eps) - L(x)) / eps and (L(x) - L(x - eps)) / eps: if they disagree, the report says
the input sits on a kink (with both slopes), not that backward is wrong.
"""

import numpy

from . import autograd, backend
from .errors import BackwardError, DoubleBackwardError, GradcheckError
from .tensor import Tensor


def _float64_inputs(inputs):
    """Copies of the inputs in float64. Floating arrays and tensors with requires_grad are checked;
    tensors with requires_grad=False and integer data are passed through as constants."""
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor):
            if x.dtype.kind == "f":
                prepared.append((x.data.astype(numpy.float64), x.device, x.requires_grad))
            else:
                prepared.append((x.data, x.device, False))
        else:
            host = numpy.asarray(x)
            checked = host.dtype.kind == "f"
            device = backend.normalize_device(None)  # the default device, as tensor(host) uses
            prepared.append((host.astype(numpy.float64) if checked else host, device, checked))
    return prepared


def _make(prepared, replace=None):
    """Fresh leaf tensors from prepared (data, device, checked); ``replace`` = {i: new data}."""
    tensors = []
    for i, (data, device, checked) in enumerate(prepared):
        data = replace.get(i, data) if replace else data
        tensors.append(Tensor(data.copy(), requires_grad=checked, dtype=data.dtype, device=device))
    return tensors


def _objective(fn, tensors, upstream):
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise GradcheckError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != numpy.float64:
        raise GradcheckError(
            f"gradcheck: fn returned {out.dtype}, expected float64 all the way through "
            "(float32 constants or parameters inside fn ruin the finite differences)"
        )
    return out, (out * upstream).sum()


def _analytic(fn, prepared, upstream_host, seed):
    tensors = _make(prepared)
    out, _ = _objective(fn, tensors, 0.0)
    if upstream_host is None:
        upstream_host = numpy.random.default_rng(seed).standard_normal(out.shape)
    upstream = Tensor(upstream_host, dtype=numpy.float64, device=out.device)
    if out.requires_grad:
        try:
            out.backward(upstream)
        except BackwardError as err:
            raise GradcheckError(f"gradcheck: backward failed structurally: {err}") from err
    grads = []
    for i, t in enumerate(tensors):
        if prepared[i][2]:
            grads.append(None if t.grad is None else backend.to_numpy(t.grad.data))
        else:
            grads.append(None)
    return tensors, grads, upstream_host


# The two backward paths must agree to this relative tolerance, and for elements near 0 to
# PATH_RTOL times the largest gradient element plus PATH_ATOL_FRACTION times gradcheck's
# atol (a gradient that is 0 in truth comes out as roundoff, ~1e-16, of either sign): the
# same formulas in float64 differ only by the order of their roundings (~1e-15 relative), a
# wrong formula by far more. Both are 1,000 to 10,000 times tighter than the finite
# differences can check.
PATH_RTOL = 1e-7
PATH_ATOL_FRACTION = 1e-3


def _analytic_create_graph(fn, prepared, upstream_host):
    """The gradients of the Tensor path: grad(..., create_graph=True) with the same inputs and
    upstream gradient as _analytic. Returns (gradients as host arrays or None, the names of
    the ops in fn's graph), or (None, names) when an op is first-order only."""
    tensors = _make(prepared)
    out, _ = _objective(fn, tensors, 0.0)
    wanted = [t for t, (_, _, checked) in zip(tensors, prepared) if checked]
    if not out.requires_grad:
        return [None] * len(wanted), []
    op_names = [] if out._ctx is None else sorted(
        {type(t._ctx).__name__ for t in autograd.topological_order(out)})
    upstream = Tensor(upstream_host, dtype=numpy.float64, device=out.device)
    try:
        grads = autograd.grad(out, wanted, grad_output=upstream, create_graph=True)
    except DoubleBackwardError:
        return None, op_names  # one path only: nothing to compare
    except BackwardError as err:
        raise GradcheckError(f"gradcheck: backward with create_graph=True failed "
                             f"structurally: {err}") from err
    return [None if g is None else backend.to_numpy(g.data) for g in grads], op_names


def _check_paths_agree(fn, prepared, plain, upstream_host, atol):
    """Raise GradcheckError where the create_graph gradients differ from the plain ones
    (``plain``: the plain backward's gradient of each input, None where unchecked)."""
    checked = [i for i, (_, _, c) in enumerate(prepared) if c]
    tensor_path, op_names = _analytic_create_graph(fn, prepared, upstream_host)
    if tensor_path is None:
        return
    for i, graph_grad in zip(checked, tensor_path):
        shape = prepared[i][0].shape
        a = numpy.zeros(shape) if plain[i] is None else plain[i]  # None: a zero gradient
        b = numpy.zeros(shape) if graph_grad is None else graph_grad
        scale = max(float(numpy.abs(a).max(initial=0.0)), float(numpy.abs(b).max(initial=0.0)))
        if numpy.allclose(b, a, rtol=PATH_RTOL, atol=PATH_RTOL * scale + PATH_ATOL_FRACTION * atol):
            continue
        j = numpy.unravel_index(numpy.argmax(numpy.abs(a - b)), a.shape)
        j = tuple(int(k) for k in j)
        lines = [f"gradcheck: the create_graph backward gives a different gradient than the "
                 f"plain backward for input {i} (shape {shape}): at index {j} plain "
                 f"{a[j]:.6g}, create_graph {b[j]:.6g} (max |difference| "
                 f"{abs(a[j] - b[j]):.3g})"]
        nonzero = a != 0
        if nonzero.any():
            ratio = b[nonzero] / a[nonzero]
            if numpy.allclose(ratio, ratio[0], rtol=1e-6) and numpy.allclose(b[~nonzero], 0):
                lines.append(f"  create_graph = {ratio[0]:.4g} x plain everywhere")
        lines.append("  an op with two backward paths (is_grad_enabled() in its backward: "
                     "Tensor ops under create_graph=True, arrays otherwise) computes a "
                     "different formula on one of them; ops in fn: " + ", ".join(op_names))
        raise GradcheckError("\n".join(lines))


def _numeric(fn, prepared, i, upstream_host, eps):
    """Central differences of L = sum(v * fn) in each element of input i, and the one-sided
    slopes (L(x) - L(x - eps)) / eps, (L(x + eps) - L(x)) / eps (they differ at a kink)."""
    data, device, _ = prepared[i]
    host = backend.to_numpy(data)

    def objective(moved):
        tensors = _make(prepared, {i: backend.from_numpy(moved, device)})
        out = fn(*tensors)
        return float(numpy.sum(backend.to_numpy(out.data) * upstream_host))

    # Not under no_grad: fn may itself differentiate (gradgradcheck's first derivatives).
    at_x = objective(host.copy())
    left, right = numpy.zeros(host.shape), numpy.zeros(host.shape)
    for j in numpy.ndindex(*host.shape):
        values = []
        for step in (eps, -eps):
            moved = host.copy()
            moved[j] += step
            values.append(objective(moved))
        right[j], left[j] = (values[0] - at_x) / eps, (at_x - values[1]) / eps
    return (left + right) / 2, left, right


def _report(i, analytic, numeric, slopes, atol, rtol, eps, max_rows=10):
    """The table of mismatching elements, and a hint: a kink, or a missing constant factor."""
    left, right = slopes
    bad = ~numpy.isclose(analytic, numeric, atol=atol, rtol=rtol)
    # At a kink the one-sided slopes differ by about as much as analytic and numeric do;
    # where fn is smooth they differ by only ~eps * (second derivative).
    kink = bad & (numpy.abs(right - left) > numpy.maximum(0.5 * numpy.abs(analytic - numeric),
                                                          atol))
    lines = [f"gradcheck: input {i} (shape {analytic.shape}): {int(bad.sum())} of {bad.size} "
             f"gradient elements differ (atol={atol}, rtol={rtol})",
             f"  {'index':<14}{'analytic':>14}{'numeric':>14}{'difference':>14}"]
    for j in numpy.argwhere(bad)[:max_rows]:  # (argwhere: 0-d inputs give one row, j = ())
        j = tuple(int(k) for k in j)
        row = (f"  {str(j):<14}{analytic[j]:>14.6g}{numeric[j]:>14.6g}"
               f"{analytic[j] - numeric[j]:>14.3g}")
        lines.append(row + (f"   kink: slopes {left[j]:.4g} | {right[j]:.4g}" if kink[j] else ""))
    if kink.any():
        j = tuple(int(k) for k in numpy.argwhere(kink)[0])
        lines.append(
            f"  hint: the function is not differentiable at this input ({int(kink.sum())} "
            f"element(s); a kink: at index {j} the left slope is {left[j]:.4g}, the right "
            f"slope {right[j]:.4g}), so the numeric value is their average and no gradient; "
            f"move the input more than eps = {eps:g} away from it (relu/abs at 0, clip at a "
            "bound, a tie in max/min/maximum/minimum)")
    smooth = bad & ~kink
    ratio = numeric[smooth] / numpy.where(analytic[smooth] == 0, numpy.nan, analytic[smooth])
    if smooth.sum() > 1 and numpy.allclose(ratio, ratio[0], rtol=1e-3):
        lines.append(f"  hint: numeric = {ratio[0]:.4g} x analytic everywhere: a constant factor "
                     "is missing in backward")
    return "\n".join(lines)


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, upstream=None,
              check_repeatable=True):
    """Compare fn's backward with central finite differences; return True or raise GradcheckError.

    fn        a function of tensors returning one Tensor
    inputs    tensors (checked if requires_grad=True), floating arrays (checked), or constants
    upstream  the upstream gradient v; by default seeded standard normal of fn's output shape
    """
    prepared = _float64_inputs(inputs)
    checked = [i for i, (_, _, c) in enumerate(prepared) if c]
    if not checked:
        raise GradcheckError("gradcheck: no input to check; pass floating arrays or tensors "
                             "with requires_grad=True")
    before = [backend.to_numpy(d).copy() for d, _, _ in prepared]
    tensors, grads, upstream = _analytic(fn, prepared, upstream, seed)
    for i, t in enumerate(tensors):
        if not numpy.array_equal(backend.to_numpy(t.data), before[i]):
            raise GradcheckError(f"gradcheck: fn changed input {i} in place; ops must not mutate "
                                 "their inputs")
    if check_repeatable:
        _, again, _ = _analytic(fn, prepared, upstream, seed)
        for i in checked:
            same = (grads[i] is None and again[i] is None) or (
                grads[i] is not None and again[i] is not None
                and numpy.allclose(grads[i], again[i], rtol=1e-10, atol=1e-12))
            if not same:
                raise GradcheckError(f"gradcheck: backward is not repeatable: input {i} got a "
                                     "different gradient on a second identical run")
    _check_paths_agree(fn, prepared, grads, upstream, atol)
    failures = []
    for i in checked:
        numeric, *slopes = _numeric(fn, prepared, i, upstream, eps)
        analytic = grads[i]
        if analytic is None:
            if numpy.allclose(numeric, 0, atol=atol):
                continue
            failures.append(f"gradcheck: input {i} got no gradient (.grad is None) but the "
                            f"numeric gradient is not zero (max |numeric| = "
                            f"{numpy.abs(numeric).max():.3g}); does backward return None for it?")
            continue
        if not numpy.allclose(analytic, numeric, atol=atol, rtol=rtol):
            failures.append(_report(i, analytic, numeric, slopes, atol, rtol, eps))
    if failures:
        raise GradcheckError("\n".join(failures))
    return True


def gradgradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck the map x -> d sum(v * fn(x)) / dx (built with
    create_graph=True), for a fixed random v. Passing means the backward of every op used is
    itself correctly differentiable (so Hessian-vector products are right).

    First, as gradcheck does, the first derivatives of the plain backward must equal those of
    the create_graph one that the rest differentiates (an op whose backward is first-order
    only raises DoubleBackwardError there)."""
    prepared = _float64_inputs(inputs)
    probe_out = fn(*_make(prepared))
    v_host = numpy.random.default_rng(seed + 1).standard_normal(probe_out.shape)
    if probe_out.requires_grad:
        _, plain, _ = _analytic(fn, prepared, v_host, seed)
        _check_paths_agree(fn, prepared, plain, v_host, atol)

    def first_derivatives(*tensors):
        out = fn(*tensors)
        v = Tensor(v_host, dtype=numpy.float64, device=out.device)
        wanted = [t for t in tensors if t.requires_grad]
        grads = autograd.grad(out, wanted, grad_output=v, create_graph=True)
        flat = [(g if g is not None else t * 0.0).reshape(-1) for g, t in zip(grads, wanted)]
        return flat[0] if len(flat) == 1 else _concat(flat)

    return gradcheck(first_derivatives, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)


def _concat(tensors):
    from .ops.movement import concatenate

    return concatenate(tensors, axis=0)
