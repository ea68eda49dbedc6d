"""Saving a demo's figure when matplotlib is installed (it is optional: pip install -e '.[demos]').

    plt = pyplot()                    # matplotlib.pyplot with a file-only backend, or None
    path = save(fig, "perceptron")    # demos/output/perceptron.png

Every saved figure's path is also appended to ``SAVED``: the tour reads it to put the
figures of a full run on the gallery page (demos/GALLERY.md, see demos/results.py).
"""

import os

OUTPUT_DIR = os.path.join(os.path.dirname(__file__), "output")
SAVED = []  # the path of every figure saved in this process, in order


def pyplot():
    """matplotlib.pyplot drawing to files only (no window), or None if matplotlib is absent."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, name):
    """Write ``fig`` to demos/output/<name>.png, close it, and return the path."""
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    path = os.path.join(OUTPUT_DIR, f"{name}.png")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    fig.clf()
    import matplotlib.pyplot as plt
    plt.close(fig)
    SAVED.append(path)
    return path
