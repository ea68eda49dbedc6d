"""Reference solutions of the exercises (exNN_name.py, the same names as the stubs), and in
wrong/exNN_name/ plausible wrong ones, each declaring the check that must catch it:

    CAUGHT_BY = "gradcheck: tanh"            the first check that fails
    SLIPS_PAST = ("forward: tanh", ...)      optional: checks the bug passes (it is subtle)

tests/test_exercises.py runs the checker on all of them. They live here, not in exercises/,
so that a student does not stumble on them.
"""
