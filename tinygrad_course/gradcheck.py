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
"""

import numpy

from . import autograd, backend
from .errors import BackwardError, GradcheckError
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


def _numeric(fn, prepared, i, upstream_host, eps):
    data, device, _ = prepared[i]
    host = backend.to_numpy(data)
    numeric = numpy.zeros(host.shape)
    # Not under no_grad: fn may itself differentiate (gradgradcheck's first derivatives).
    for j in numpy.ndindex(*host.shape):
        values = []
        for step in (eps, -eps):
            moved = host.copy()
            moved[j] += step
            tensors = _make(prepared, {i: backend.from_numpy(moved, device)})
            out = fn(*tensors)
            values.append(float(numpy.sum(backend.to_numpy(out.data) * upstream_host)))
        numeric[j] = (values[0] - values[1]) / (2 * eps)
    return numeric


def _report(i, analytic, numeric, atol, rtol, max_rows=10):
    bad = ~numpy.isclose(analytic, numeric, atol=atol, rtol=rtol)
    lines = [f"gradcheck: input {i} (shape {analytic.shape}): {int(bad.sum())} of {bad.size} "
             f"gradient elements differ (atol={atol}, rtol={rtol})",
             f"  {'index':<14}{'analytic':>14}{'numeric':>14}{'difference':>14}"]
    for j in list(zip(*numpy.nonzero(bad)))[:max_rows]:
        j = tuple(int(k) for k in j)
        lines.append(f"  {str(j):<14}{analytic[j]:>14.6g}{numeric[j]:>14.6g}"
                     f"{analytic[j] - numeric[j]:>14.3g}")
    ratio = numeric[bad] / numpy.where(analytic[bad] == 0, numpy.nan, analytic[bad])
    if bad.sum() > 1 and numpy.allclose(ratio, ratio[0], rtol=1e-3):
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
    failures = []
    for i in checked:
        numeric = _numeric(fn, prepared, i, upstream, eps)
        analytic = grads[i]
        if analytic is None:
            if numpy.allclose(numeric, 0, atol=atol):
                continue
            failures.append(f"gradcheck: input {i} got no gradient (.grad is None) but the "
                            f"numeric gradient is not zero (max |numeric| = "
                            f"{numpy.abs(numeric).max():.3g}); does backward return None for it?")
            continue
        if not numpy.allclose(analytic, numeric, atol=atol, rtol=rtol):
            failures.append(_report(i, analytic, numeric, atol, rtol))
    if failures:
        raise GradcheckError("\n".join(failures))
    return True


def gradgradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck the map x -> d sum(v * fn(x)) / dx (built with
    create_graph=True), for a fixed random v. Passing means the backward of every op used is
    itself correctly differentiable (so Hessian-vector products are right)."""
    prepared = _float64_inputs(inputs)
    probe_out = fn(*_make(prepared))
    v_host = numpy.random.default_rng(seed + 1).standard_normal(probe_out.shape)

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
