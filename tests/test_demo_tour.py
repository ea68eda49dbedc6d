import demos
from demos import __main__ as tour
from demos import autograd_basics


def test_autograd_demo_matches_finite_differences():
    results = autograd_basics.main(["--quick"])
    assert results["grad_max_error"] < 1e-7
    assert results["hvp_max_error"] < 1e-6


def test_tour_lists_every_demo(capsys):
    assert tour.main(["--list"]) == 0
    assert capsys.readouterr().out.split() == demos.DEMOS
