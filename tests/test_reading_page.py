"""docs/READING.md, the "How to read this code" page, cannot go stale.

Every place the page names as "`file` lines A-B: `symbol`" must still be exactly where that
function, class or method is defined (decorators included); each reading path takes at most
three hops; and the chain-rule loop the page quotes must be, line for line, the loop in
autograd.chain_rule. When code moves, the failure says the new range to write.

    python tests/test_reading_page.py      prints the current range of every named symbol
"""

import ast
import inspect
import pathlib
import re

import pytest

from tinygrad_course import autograd

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "READING.md"
PLACE = re.compile(r"`(tinygrad_course/[\w/]+\.py)`\s+lines\s+(\d+)-(\d+):\s+`([\w.]+)`")


def places(text):
    """(file, first line, last line, symbol) for each place the text names."""
    return [(path, int(first), int(last), symbol)
            for path, first, last, symbol in PLACE.findall(text)]


def definition_lines(path, symbol):
    """(first, last) line of ``symbol`` (``name`` or ``Class.method``) in the file."""
    body = ast.parse((ROOT / path).read_text()).body
    node = None
    for part in symbol.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise LookupError(f"{path} defines no {symbol}")
        body = node.body
    return min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno


def paths(text):
    """{heading: its places} for each '## Path' section."""
    sections = re.split(r"(?m)^## ", text)[1:]
    return {s.splitlines()[0]: places(s) for s in sections if s.startswith("Path")}


def test_the_page_names_the_three_paths_of_the_issue():
    found = paths(PAGE.read_text())
    assert len(found) == 3
    ends = {tuple(p[3] for p in (chain[0], chain[-1])) for chain in found.values()}
    assert ends == {("Tensor.tanh", "Tanh"), ("cross_entropy", "SoftmaxCrossEntropy.backward"),
                    ("LSTM._run_direction", "lstm_cell")}
    for heading, chain in found.items():
        assert 2 <= len(chain) <= 4, f"{heading}: {len(chain) - 1} hops (at most three)"


@pytest.mark.parametrize("place", places(PAGE.read_text()),
                         ids=lambda p: f"{p[0]}:{p[3]}")
def test_each_named_range_is_where_its_symbol_is_defined(place):
    path, first, last, symbol = place
    assert (ROOT / path).is_file(), f"{path} does not exist"
    actual = definition_lines(path, symbol)
    assert (first, last) == actual, (
        f"docs/READING.md says `{path}` lines {first}-{last}: `{symbol}`; it is now at lines "
        f"{actual[0]}-{actual[1]}")


README = ROOT / "README.md"


@pytest.mark.parametrize("page", [PAGE, README], ids=["READING.md", "README.md"])
def test_the_quoted_chain_rule_loop_is_the_code(page):
    text = page.read_text()
    quoted = re.search(r"chain_rule`.*?```python\n(.*?)```", text, re.S).group(1)
    quoted_lines = [line.strip() for line in quoted.splitlines() if line.strip()]
    source = [line.strip() for line in inspect.getsource(autograd.chain_rule).splitlines()
              if line.strip()]
    start = source.index(quoted_lines[0])
    assert source[start:start + len(quoted_lines)] == quoted_lines
    assert len(quoted_lines) <= 25  # "short enough to quote"


def test_a_range_that_no_longer_fits_fails_naming_the_new_one():
    """The checker itself: a range one line off is refused, with the right one named."""
    path, first, last, symbol = places(PAGE.read_text())[0]
    with pytest.raises(AssertionError, match=f"it is now at lines {first}-{last}"):
        test_each_named_range_is_where_its_symbol_is_defined((path, first + 1, last + 1,
                                                              symbol))
    with pytest.raises(LookupError, match="defines no no_such_function"):
        definition_lines(path, "no_such_function")


if __name__ == "__main__":
    for path, first, last, symbol in places(PAGE.read_text()):
        now = definition_lines(path, symbol)
        mark = "" if now == (first, last) else f"   <- page says {first}-{last}"
        print(f"`{path}` lines {now[0]}-{now[1]}: `{symbol}`{mark}")
