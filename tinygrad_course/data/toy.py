"""Seeded 2-D toy classification sets: small enough to plot, hard enough to need a hidden layer.

Each function returns (X, y): X float32 (n_samples, 2), y int64 (n_samples,), in a shuffled
order, and the same arrays for the same seed.

    make_xor      four Gaussian clusters at (+-1, +-1); class = sign(x1) != sign(x2).
                  No line separates the classes: the perceptron's famous failure.
    make_moons    two interleaving half circles (class 0 on top, class 1 below).
    make_spirals  n_classes spiral arms winding around the origin.
    make_blobs    Gaussian clusters around given or random centres, one class per cluster.
"""

import numpy


def _counts(name, n_samples, n_classes):
    """Examples per class: as equal as possible, the first classes getting the remainder."""
    if n_samples < n_classes:
        raise ValueError(f"{name}: n_samples={n_samples} is fewer than the {n_classes} classes")
    return [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order].astype(numpy.float32), y[order].astype(numpy.int64)


def make_xor(n_samples=200, noise=0.3, seed=0):
    """XOR: the four corners (+-1, +-1), a quarter of the points each, plus N(0, noise^2)
    noise; label 1 where the corner's two signs differ."""
    rng = numpy.random.default_rng(seed)
    square = numpy.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    corners = square[numpy.repeat(numpy.arange(4), _counts("make_xor", n_samples, 4))]
    X = corners + noise * rng.standard_normal((n_samples, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(numpy.int64)
    return _shuffled(X, y, rng)


def make_moons(n_samples=200, noise=0.1, seed=0):
    """Two half circles of radius 1: (cos t, sin t) for class 0 and (1 - cos t, 0.5 - sin t)
    for class 1, t evenly spaced in [0, pi], plus N(0, noise^2) noise."""
    rng = numpy.random.default_rng(seed)
    n0, n1 = _counts("make_moons", n_samples, 2)
    t0, t1 = numpy.linspace(0, numpy.pi, n0), numpy.linspace(0, numpy.pi, n1)
    upper = numpy.stack([numpy.cos(t0), numpy.sin(t0)], axis=1)
    lower = numpy.stack([1 - numpy.cos(t1), 0.5 - numpy.sin(t1)], axis=1)
    X = numpy.concatenate([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = numpy.repeat([0, 1], [n0, n1])
    return _shuffled(X, y, rng)


def make_spirals(n_samples=300, n_classes=3, turns=1.0, noise=0.2, seed=0):
    """Arm k: radius r from 0 to 1, angle 2 pi (k / n_classes + turns * r) + N(0, noise^2);
    the point is r (cos angle, sin angle)."""
    rng = numpy.random.default_rng(seed)
    counts = _counts("make_spirals", n_samples, n_classes)
    y = numpy.repeat(numpy.arange(n_classes), counts)
    r = numpy.concatenate([numpy.linspace(0.0, 1.0, c) for c in counts])
    angle = 2 * numpy.pi * (y / n_classes + turns * r) + noise * rng.standard_normal(n_samples)
    X = r[:, None] * numpy.stack([numpy.cos(angle), numpy.sin(angle)], axis=1)
    return _shuffled(X, y, rng)


def make_blobs(n_samples=200, centers=3, cluster_std=1.0, box=(-10.0, 10.0), seed=0):
    """Isotropic Gaussian clusters; ``centers`` is a count (drawn uniformly in ``box``) or a
    (k, 2) array of centres. Class k = the cluster the point was drawn from."""
    rng = numpy.random.default_rng(seed)
    if numpy.ndim(centers) == 0:
        centers = rng.uniform(box[0], box[1], size=(int(centers), 2))
    centers = numpy.asarray(centers, dtype=numpy.float64)
    if centers.ndim != 2 or centers.shape[1] != 2:
        raise ValueError(f"make_blobs: centers must be a count or a (k, 2) array, got shape "
                         f"{centers.shape}")
    y = numpy.repeat(numpy.arange(len(centers)), _counts("make_blobs", n_samples, len(centers)))
    X = centers[y] + cluster_std * rng.standard_normal((n_samples, 2))
    return _shuffled(X, y, rng)
