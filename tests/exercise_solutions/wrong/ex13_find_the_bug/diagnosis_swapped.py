"""Every backward fixed, two bugs named the wrong way round."""

from exercise_solutions.ex13_find_the_bug import (  # noqa: F401
    AddBias,
    LinearNoBias,
    Softmax,
    Square,
    SquaredDistance,
)

CAUGHT_BY = "diagnosis"
SLIPS_PAST = ("forwards unchanged", "gradcheck: LinearNoBias", "gradcheck: Softmax",
              "property: other sizes")

DIAGNOSIS = {
    "LinearNoBias": "wrong reduction axis",
    "AddBias": "missing broadcast sum",
    "SquaredDistance": "wrong sign",
    "Softmax": "transposed gradient",
    "Square": "mutates input",
}
