"""Quasi-random search over the parameter box: the global stage of a multi-start fit."""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

#: the search evaluates whole learners, about this many learner-candidates per batched call
ROLLOUTS_PER_CALL = 65536


def sobol_candidates(n: int, lower: np.ndarray, upper: np.ndarray, seed: int) -> np.ndarray:
    """``n`` scrambled Sobol points in the box [lower, upper] (scale coordinates).

    The same candidates serve every participant; scrambling with ``seed`` makes runs
    reproducible. ``n`` is rounded up to a power of two, which keeps Sobol's balance
    (:func:`sobol_size`).
    """
    dim = len(lower)
    if dim == 0:
        return np.zeros((1, 0))
    m = int(np.log2(sobol_size(n, dim)))
    unit = qmc.Sobol(d=dim, scramble=True, seed=seed).random_base2(m)
    return lower + (upper - lower) * unit


def sobol_size(n: int, dim: int) -> int:
    """How many candidates :func:`sobol_candidates` returns when asked for ``n`` in ``dim``
    dimensions: ``n`` rounded up to a power of two (one point when nothing is searched)."""
    if dim == 0:
        return 1
    return 2 ** max(0, int(np.ceil(np.log2(max(n, 1)))))


def best_distinct(values: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` lowest values in each row (P, C), best first."""
    k = min(k, values.shape[1])
    part = np.argpartition(values, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(values, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def learners_per_call(n_candidates: int) -> int:
    """Learners whose ``n_candidates`` candidates the search evaluates in one batched call."""
    return max(1, ROLLOUTS_PER_CALL // max(1, n_candidates))
