"""A sigmoid with temperature tau is a soft step: it approaches the step function as tau -> 0.

Lecture 2: the step function has no useful derivative, so it cannot be trained by gradient
descent; sigma(a / tau) = 1 / (1 + exp(-a / tau)) can, and a small tau makes it as close to
the step as we like. Away from the jump (|a| >= delta) the largest gap to the step is

    max_{|a| >= delta} |sigma(a / tau) - step(a)| = sigma(-delta / tau)     -> 0 as tau -> 0

(no tau makes the gap small AT the jump: sigma(0) = 1/2 always). The price is in the
gradient: d sigma(a / tau) / da = sigma (1 - sigma) / tau is 1 / (4 tau) at a = 0 and vanishes
elsewhere, so a sharp soft step passes gradient only through a thin band around the jump.
We measure both on a grid of a, the values with F.sigmoid and the slopes with backward.
"""

import argparse

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import functional as F


def measure(a_values, tau, delta):
    """Gap to the step outside +-delta, slope at 0, and the share of [-1, 1] where the slope
    is above 1% of its peak (the band that still passes gradient)."""
    a = tg.tensor(a_values, dtype=np.float64, requires_grad=True)
    soft = F.sigmoid(a, temperature=tau)
    soft.sum().backward()                  # d/da_i of sum = the slope at each a_i
    values, slopes = soft.numpy(), a.grad.numpy()
    step = (a_values > 0).astype(np.float64)
    outside = np.abs(a_values) >= delta
    gap = float(np.abs(values - step)[outside].max())
    closest = np.abs(a_values[outside]).min()  # the grid point nearest the band's edge
    return {"gap": gap, "closed_form": 1.0 / (1.0 + np.exp(closest / tau)),
            "slope_at_0": float(slopes[np.argmin(np.abs(a_values))]),
            "band": float((slopes > 0.01 * slopes.max()).mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    points = 2_001 if args.quick else 2_000_001
    taus = [2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
    delta = 0.1
    a_values = np.linspace(-1.0, 1.0, points)

    print(f"a on [-1, 1] ({points} points); gap = max |sigmoid(a / tau) - step(a)| over "
          f"|a| >= {delta}")
    print(f"{'tau':>6} {'gap':>11} {'sigma(-delta/tau)':>18} {'slope at 0':>11} "
          f"{'1/(4 tau)':>10} {'slope band':>11}")
    rows = []
    for tau in taus:
        row = measure(a_values, tau, delta)
        rows.append(row)
        print(f"{tau:6.2f} {row['gap']:11.3e} {row['closed_form']:18.3e} "
              f"{row['slope_at_0']:11.3f} {1 / (4 * tau):10.3f} {row['band']:11.3f}")
    gaps = [row["gap"] for row in rows]
    shrinks = all(later < earlier for earlier, later in zip(gaps, gaps[1:]))
    print(f"the gap shrinks at every smaller tau: {shrinks}; at tau = {taus[-1]} it is "
          f"{gaps[-1]:.1e}, and the slope is above 1% of its peak on only "
          f"{100 * rows[-1]['band']:.1f}% of [-1, 1]")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        curve = np.linspace(-1, 1, 801)
        for tau in [1.0, 0.2, 0.05, 0.01]:
            left.plot(curve, 1 / (1 + np.exp(-curve / tau)), label=f"tau = {tau}")
        left.step(curve, (curve > 0).astype(float), "k--", where="mid", label="step")
        left.axvspan(-delta, delta, color="grey", alpha=0.15)
        left.set_xlabel("a")
        left.legend()
        right.loglog(taus, gaps, "o-", label="measured gap")
        right.loglog(taus, [row["closed_form"] for row in rows], "x--",
                     label="sigma(-delta / tau)")
        right.set_xlabel("tau")
        right.set_ylabel(f"max gap to the step, |a| >= {delta}")
        right.legend()
        print("figure:", _plotting.save(fig, "sigmoid_temperature"))

    return {"gap_tau_1": rows[taus.index(1.0)]["gap"], "gap_tau_0.01": gaps[-1],
            "gap_shrinks_monotonically": shrinks,
            "max_gap_vs_closed_form": max(abs(r["gap"] - r["closed_form"]) for r in rows),
            "slope_at_0_tau_0.01": rows[-1]["slope_at_0"], "slope_band_tau_0.01": rows[-1]["band"]}


if __name__ == "__main__":
    main()
