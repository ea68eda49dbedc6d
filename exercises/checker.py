"""The checker: runs an exercise's named checks on a student's file and explains what failed.

Each exercise has a list of ``Check``s (in ``exercises/checks/``), run in order. A check is
one question about the student's code, answered by the project's own tools:

    forward ...        the student's forward against a reference, elementwise
    gradcheck ...      tinygrad_course.gradcheck: the backward against central finite
                       differences, in float64, with a random upstream gradient
    property ...       the same, on inputs hypothesis draws (shapes with broadcasting and
                       size-1 axes, negative values, ties, repeated indices); a failure
                       reports the smallest failing input hypothesis found
    gradgradcheck ...  the backward itself differentiated, where the exercise asks for a
                       differentiable backward

The first check that fails stops the run (later checks assume the earlier ones pass, and
one clear message beats a cascade). A stub that still raises NotImplementedError makes the
exercise "not started"; so does a file identical to its pristine stub (exercise 13 ships
working but buggy code, not NotImplementedError). Status is always the result of a run.
"""

import dataclasses
import importlib.util
import itertools
import os
import pathlib
import traceback

import numpy

import tinygrad_course as tg
from tinygrad_course import backend
from tinygrad_course.errors import GradcheckError, TensorError

from . import catalog

PASSED, FAILED, NOT_STARTED, NOT_RUN = "passed", "failed", "not started", "not run"
DEFAULT_MAX_EXAMPLES = 30  # hypothesis examples per property for students; the tests use fewer
_module_numbers = itertools.count()


class CheckFailed(AssertionError):
    """A check's readable verdict: what was tried, what was expected, what came out."""


@dataclasses.dataclass
class Check:
    """One named question about the student's code.

    name     short and stable ("gradcheck: tanh"); the tests and the statements refer to it
    run      run(solution, max_examples): raises on failure, returns None on success
    catches  one line: the kind of mistake this check exists for
    """

    name: str
    run: object
    catches: str


@dataclasses.dataclass
class CheckResult:
    name: str
    outcome: str  # PASSED, FAILED, NOT_STARTED or NOT_RUN
    message: str = ""


@dataclasses.dataclass
class Report:
    exercise: catalog.Exercise
    path: pathlib.Path
    results: list

    @property
    def status(self):
        """'passed', 'not started' or 'failing' (see the module docstring)."""
        if all(r.outcome == PASSED for r in self.results):
            return "passed"
        if any(r.outcome == NOT_STARTED for r in self.results):
            return "not started"
        return "failing"

    @property
    def passed(self):
        return sum(r.outcome == PASSED for r in self.results)

    def first_failure(self):
        return next((r for r in self.results if r.outcome in (FAILED, NOT_STARTED)), None)

    def format(self):
        lines = [f"exercise {self.exercise.number}: {self.exercise.name} ({self.path})"]
        for r in self.results:
            mark = {PASSED: "pass", FAILED: "FAIL", NOT_STARTED: "TODO", NOT_RUN: "    "}[r.outcome]
            lines.append(f"  [{mark}] {r.name}" + ("  (not run)" if r.outcome == NOT_RUN else ""))
            if r.outcome in (FAILED, NOT_STARTED):
                lines.extend("         " + line for line in r.message.splitlines())
        lines.append(f"status: {self.status} ({self.passed} of {len(self.results)} checks "
                     "passed)")
        return "\n".join(lines)


# ----- loading the student's file -----------------------------------------------------------
def solutions_dir(override=None):
    """Where the student's files are: ``override``, else $TINYGRAD_EXERCISES_DIR, else the
    exercises/ folder itself."""
    chosen = override or os.environ.get("TINYGRAD_EXERCISES_DIR")
    return pathlib.Path(chosen) if chosen else catalog.HERE


def load(path):
    """Execute the file at ``path`` as a fresh module and return it (the ``__main__`` cell at
    the end does not run). Files are loaded by path: their names start with ex01_..."""
    path = pathlib.Path(path)
    name = f"_exercise_{path.stem}_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Namespace:
    """A notebook's or a script's globals seen as a module (``check(name, globals())``)."""

    def __init__(self, names):
        self.__dict__.update(names)


# ----- running ------------------------------------------------------------------------------
def run_checks(exercise, solution, max_examples=None, pristine=False):
    """Run ``exercise``'s checks on ``solution`` (a module) and return their results.

    ``pristine``: the file is the stub as shipped, so a failure means "not started".
    """
    max_examples = max_examples or int(os.environ.get("EXERCISES_MAX_EXAMPLES",
                                                      DEFAULT_MAX_EXAMPLES))
    results, stopped = [], False
    for check in exercise.checks():
        if stopped:
            results.append(CheckResult(check.name, NOT_RUN))
            continue
        try:
            check.run(solution, max_examples)
        except NotImplementedError as err:
            results.append(CheckResult(check.name, NOT_STARTED,
                                       f"not written yet: NotImplementedError: {err}"))
            stopped = True
        except (CheckFailed, GradcheckError) as err:
            outcome = NOT_STARTED if pristine else FAILED
            results.append(CheckResult(check.name, outcome, f"{err}\ncatches: {check.catches}"))
            stopped = True
        except Exception as err:  # the student's code crashed: show where, in their file
            outcome = NOT_STARTED if pristine else FAILED
            results.append(CheckResult(check.name, outcome,
                                       f"{_crash(err)}\ncatches: {check.catches}"))
            stopped = True
        else:
            results.append(CheckResult(check.name, PASSED))
    return results


def _crash(err):
    frames = traceback.extract_tb(err.__traceback__)
    own = [f for f in frames if "exercises" + os.sep + "checker" not in f.filename
           and os.sep + "tinygrad_course" + os.sep not in f.filename
           and "hypothesis" not in f.filename]
    where = f" (at {own[-1].filename}:{own[-1].lineno}: {own[-1].line})" if own else ""
    kind = "the code raised" if not isinstance(err, TensorError) else "the library refused"
    return f"{kind} {type(err).__name__}: {err}{where}"


def check_file(exercise, path, max_examples=None):
    """Load the file at ``path`` and run the exercise's checks on it; a Report."""
    path = pathlib.Path(path)
    pristine = _is_pristine(exercise, path)
    try:
        solution = load(path)
    except FileNotFoundError:
        return Report(exercise, path, [CheckResult("load", NOT_STARTED,
                                                   f"no file {path}; run `python -m exercises "
                                                   f"reset {exercise.name}` to get the stub")])
    except Exception as err:  # a syntax error, a crash at import
        return Report(exercise, path, [CheckResult("load", FAILED, _crash(err))])
    return Report(exercise, path, run_checks(exercise, solution, max_examples, pristine))


def _is_pristine(exercise, path):
    try:
        return path.read_bytes() == exercise.stub_path.read_bytes()
    except OSError:
        return False


def check(name, namespace=None, max_examples=None):
    """Check exercise ``name``: on ``namespace`` (a notebook's globals()) when given, else on
    the student's file. Prints the report; returns True when every check passes."""
    exercise = catalog.find(name)
    if namespace is None:
        report = check_file(exercise, solutions_dir() / exercise.filename, max_examples)
    else:
        results = run_checks(exercise, Namespace(namespace), max_examples)
        where = pathlib.Path("<the definitions run in this notebook or script>")
        report = Report(exercise, where, results)
    print(report.format())
    return report.status == "passed"


# ----- helpers the checks share -------------------------------------------------------------
def need(solution, *names):
    """The objects ``names`` from the student's file, or a CheckFailed naming what is missing."""
    missing = [n for n in names if not hasattr(solution, n)]
    if missing:
        raise CheckFailed(f"the file defines no {', '.join(missing)}; keep the names of the stub")
    found = [getattr(solution, n) for n in names]
    return found[0] if len(found) == 1 else found


def leaf(array):
    """A float64 tensor that requires grad, on the default device, from host data."""
    return tg.tensor(numpy.asarray(array, dtype=numpy.float64), dtype=numpy.float64,
                     requires_grad=True)


def const(array, dtype=None):
    """A constant tensor (no gradient) from host data, e.g. integer ids."""
    host = numpy.asarray(array)
    return tg.tensor(host, dtype=dtype or host.dtype)


def host(value):
    """A Tensor's (or device array's) values as a NumPy array."""
    data = value.data if isinstance(value, tg.Tensor) else value
    return numpy.asarray(backend.to_numpy(data)) if backend.is_device_array(data) \
        else numpy.asarray(data)


def expect_close(what, got, expected, atol=1e-8, rtol=1e-6, max_rows=6):
    """Raise CheckFailed unless ``got`` matches ``expected`` (shapes first, then values)."""
    got, expected = host(got), numpy.asarray(expected)
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: got shape {got.shape}, expected {expected.shape}")
    if not numpy.all(numpy.isfinite(got)) and numpy.all(numpy.isfinite(expected)):
        raise CheckFailed(f"{what}: got {int((~numpy.isfinite(got)).sum())} non-finite values "
                          f"(nan or inf) where every expected value is finite (overflow?)")
    bad = ~numpy.isclose(got, expected, atol=atol, rtol=rtol)
    if bad.any():
        lines = [f"{what}: {int(bad.sum())} of {bad.size} elements differ (atol={atol}, "
                 f"rtol={rtol})", f"  {'index':<14}{'got':>14}{'expected':>14}"]
        for j in list(zip(*numpy.nonzero(bad)))[:max_rows]:
            j = tuple(int(k) for k in j)
            lines.append(f"  {str(j):<14}{got[j]:>14.6g}{expected[j]:>14.6g}")
        raise CheckFailed("\n".join(lines))


def gradcheck(what, fn, *inputs, **options):
    """tinygrad_course.gradcheck with the failing case named in the report."""
    try:
        tg.gradcheck(fn, *inputs, **options)
    except GradcheckError as err:
        raise CheckFailed(f"{what}:\n{err}") from None


def gradgradcheck(what, fn, *inputs, **options):
    try:
        tg.gradgradcheck(fn, *inputs, **options)
    except GradcheckError as err:
        raise CheckFailed(f"{what} (second derivatives: is the backward made of Tensor ops, "
                          f"so that it can be differentiated again?):\n{err}") from None


def describe(example):
    """The inputs of a property example, one line per name, arrays short and rounded."""
    lines = []
    for name, value in example.items():
        if isinstance(value, numpy.ndarray):
            text = numpy.array2string(value, precision=3, separator=", ", threshold=40)
            text = text.replace("\n", "\n" + " " * (len(name) + 5))
            lines.append(f"  {name} = {text}   (shape {value.shape})")
        else:
            lines.append(f"  {name} = {value!r}")
    return "\n".join(lines)


def holds_for_all(what, strategy, body, max_examples):
    """Run ``body(**example)`` on examples drawn from ``strategy`` (dicts of named inputs).

    On failure, raise CheckFailed with the smallest failing example hypothesis found (it
    replays that one last, so it is the last failure recorded) and that example's error.
    NotImplementedError goes straight through (the exercise is not started).
    """
    try:
        from hypothesis import HealthCheck, Phase, given, settings
    except ImportError:  # pragma: no cover - hypothesis comes with the exercises extra
        raise CheckFailed(f"{what}: needs hypothesis (pip install -e '.[exercises]')") from None
    failures = []

    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @given(strategy)
    def property_(example):
        try:
            body(**example)
        except NotImplementedError:
            raise
        except Exception as err:
            failures.append((example, err))
            raise

    try:
        with _quiet_hypothesis():
            property_()
    except NotImplementedError:
        raise
    except Exception as err:
        if not failures:
            raise
        example, error = failures[-1]
        message = str(error) if isinstance(error, (CheckFailed, GradcheckError)) \
            else _crash(error)
        raise CheckFailed(f"property failed: {what}\nsmallest failing input hypothesis found:\n"
                          f"{describe(example)}\n{message}") from err


def _quiet_hypothesis():
    """Hypothesis prints 'Falsifying example' itself; the report above says it better."""
    from hypothesis.reporting import with_reporter

    return with_reporter(lambda _message: None)
