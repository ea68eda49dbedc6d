"""Gradient-checking exercises: derive a backward, write it, and prove it.

Each exercises/exNN_name.py is a script and a notebook (jupytext "percent" cells): the
statement, the stub(s) to fill in, and a last cell that runs the checks. From the repository
root:

    python -m exercises list              every exercise and its status
    python -m exercises check sigmoid_tanh
    python -m exercises hint sigmoid_tanh 2
    python -m exercises reset sigmoid_tanh

The checks of each exercise are in exercises/checks/; the checker in checker.py.
"""

from .checker import check

__all__ = ["check"]
