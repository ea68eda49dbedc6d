"""The gradient-checking exercises (exercises/) and their checker.

For every exercise:
  1. the stub as shipped is "not started", and the checker's message says what to write;
  2. the reference solution (tests/exercise_solutions/) passes every check;
  3. each planted wrong solution (tests/exercise_solutions/wrong/<exercise>/) is caught by the
     check it names (CAUGHT_BY is the first check to fail), and passes the checks it names
     in SLIPS_PAST (the bug is one that a single random test would miss).
Then the command line (list, check, hint, reset) and, when jupytext and nbclient are
installed, one solved exercise run as a notebook.
"""

import contextlib
import io
import pathlib
import shutil

import pytest

from exercises import catalog, checker
from exercises.__main__ import main

SOLUTIONS = pathlib.Path(__file__).parent / "exercise_solutions"
WRONG = SOLUTIONS / "wrong"
EXAMPLES = 8  # hypothesis examples per property here (students get checker.DEFAULT_MAX_EXAMPLES)
EXERCISES = catalog.available()
WRONG_SOLUTIONS = [(e, path) for e in EXERCISES
                   for path in sorted((WRONG / e.stem).glob("*.py"))]


def _ids(exercise):
    return exercise.stem


def run_cli(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue()


def test_every_exercise_of_the_catalog_is_shipped():
    assert [e.number for e in EXERCISES] == [e.number for e in catalog.EXERCISES]


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_the_shipped_file_is_the_pristine_stub(exercise):
    shipped = catalog.HERE / exercise.filename
    assert shipped.read_bytes() == exercise.stub_path.read_bytes(), (
        f"{shipped} differs from {exercise.stub_path}; edit both, or run "
        f"`python -m exercises reset {exercise.name}`")


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_the_stub_is_not_started_and_says_what_to_do(exercise):
    report = checker.check_file(exercise, exercise.stub_path, EXAMPLES)
    assert report.status == "not started"
    failure = report.first_failure()
    assert failure.outcome == checker.NOT_STARTED
    assert "Traceback" not in failure.message
    text = report.format()
    assert exercise.name in text and failure.message.splitlines()[0] in text
    if "NotImplementedError" in failure.message:  # every stub but the find-the-bug one
        assert f"{exercise.name}:" in failure.message


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_the_reference_solution_passes(exercise):
    report = checker.check_file(exercise, SOLUTIONS / exercise.filename, EXAMPLES)
    assert report.status == "passed", report.format()


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_each_exercise_has_at_least_two_planted_wrong_solutions(exercise):
    assert len(list((WRONG / exercise.stem).glob("*.py"))) >= 2


@pytest.mark.parametrize("exercise,path", WRONG_SOLUTIONS,
                         ids=[f"{e.stem}/{p.stem}" for e, p in WRONG_SOLUTIONS])
def test_a_planted_wrong_solution_is_caught_by_its_check(exercise, path):
    solution = checker.load(path)
    names = [c.name for c in exercise.checks()]
    assert solution.CAUGHT_BY in names, f"{path.name}: no check named {solution.CAUGHT_BY!r}"
    results = {r.name: r for r in checker.run_checks(exercise, solution, EXAMPLES)}
    caught = results[solution.CAUGHT_BY]
    first = next(r for r in results.values() if r.outcome != checker.PASSED)
    assert first is caught and caught.outcome == checker.FAILED, (
        f"{path.name} should first fail {solution.CAUGHT_BY!r}, but "
        f"{first.name!r} was {first.outcome}:\n{first.message}")
    assert caught.message.strip()
    for name in getattr(solution, "SLIPS_PAST", ()):
        assert results[name].outcome == checker.PASSED, f"{path.name} should pass {name!r}"


# ----- the command line ---------------------------------------------------------------------
def test_list_shows_every_exercise_not_started_on_a_fresh_checkout(tmp_path):
    for exercise in EXERCISES:
        shutil.copyfile(exercise.stub_path, tmp_path / exercise.filename)
    code, out = run_cli("--from", tmp_path, "list")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == len(EXERCISES)
    for row, exercise in zip(rows, EXERCISES):
        assert exercise.name in row and row.endswith("not started")


def test_list_shows_passed_for_the_reference_solutions():
    code, out = run_cli("--from", SOLUTIONS, "list")
    assert code == 0
    assert all(row.endswith("passed") for row in out.splitlines()[1:]), out


def test_check_all_fails_each_stub_and_check_one_passes_a_solution(tmp_path):
    for exercise in EXERCISES:
        shutil.copyfile(exercise.stub_path, tmp_path / exercise.filename)
    code, out = run_cli("--from", tmp_path, "check", "--all", "--max-examples", EXAMPLES)
    assert code == 1
    assert out.count("status: not started") == len(EXERCISES)
    assert f"0 of {len(EXERCISES)} exercises pass" in out
    code, out = run_cli("--from", SOLUTIONS, "check", "1", "--max-examples", EXAMPLES)
    assert code == 0 and "status: passed" in out


def test_check_reports_a_crash_in_the_students_file_with_its_line(tmp_path):
    exercise = EXERCISES[0]
    broken = exercise.stub_path.read_text().replace(
        'raise NotImplementedError("sigmoid_tanh: write Sigmoid.forward (see hint 3)")',
        "return x.no_such_method()")
    (tmp_path / exercise.filename).write_text(broken)
    code, out = run_cli("--from", tmp_path, "check", exercise.name)
    assert code == 1
    assert "status: failing" in out
    assert "AttributeError" in out and "x.no_such_method()" in out


def test_hint_shows_one_hint_at_a_time():
    for exercise in EXERCISES:
        hints = exercise.hints()
        assert 2 <= len(hints) <= 4, exercise.name
        code, out = run_cli("hint", exercise.name)
        assert code == 0 and f"hint 1 of {len(hints)}" in out and hints[0][1] in out
        assert hints[1][1] not in out
    code, out = run_cli("hint", EXERCISES[0].name, 99)
    assert code == 2 and "has hints 1 to" in out


def test_reset_restores_the_stub_and_keeps_the_students_file(tmp_path):
    exercise = EXERCISES[0]
    mine = tmp_path / exercise.filename
    mine.write_text("# my work\n")
    code, out = run_cli("--from", tmp_path, "reset", exercise.name)
    assert code == 0
    assert mine.read_bytes() == exercise.stub_path.read_bytes()
    backups = list(tmp_path.glob(exercise.filename + ".bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == "# my work\n"
    code, out = run_cli("--from", tmp_path, "reset", exercise.name)
    assert "already the stub" in out and len(list(tmp_path.glob("*.bak-*"))) == 1


def test_an_unknown_exercise_is_named_with_the_list_of_names():
    code, out = run_cli("check", "no_such_exercise")
    assert code == 2 and "no exercise 'no_such_exercise'" in out and EXERCISES[0].name in out


# ----- the notebooks ------------------------------------------------------------------------
@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids)
def test_each_exercise_converts_to_a_notebook_statement_first(exercise, tmp_path):
    jupytext = pytest.importorskip("jupytext", reason="the exercises extra is not installed")
    notebook = jupytext.read(exercise.stub_path)
    jupytext.write(notebook, tmp_path / (exercise.stem + ".ipynb"))
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# Exercise {exercise.number}:")
    assert "The real thing" in first.source and "<details><summary>Hint 1" in first.source
    last = notebook.cells[-1]
    assert last.cell_type == "code" and f'check("{exercise.name}", globals())' in last.source


def test_a_solved_exercise_runs_as_a_notebook(tmp_path):
    jupytext = pytest.importorskip("jupytext", reason="the exercises extra is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the exercises extra is not installed")
    exercise = EXERCISES[0]
    notebook = jupytext.read(exercise.stub_path)
    stub_cells = [c for c in notebook.cells if "class Sigmoid(Function)" in c.source]
    assert len(stub_cells) == 1
    stub_cells[0].source = (SOLUTIONS / exercise.filename).read_text()
    jupytext.write(notebook, tmp_path / (exercise.stem + ".ipynb"))
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(catalog.HERE.parent)}})
    client.execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "status: passed" in outputs, outputs
