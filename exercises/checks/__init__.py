"""One module per exercise, each with CHECKS: the named checks run in order (see checker.py)."""
