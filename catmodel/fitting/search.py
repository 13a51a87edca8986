"""Quasi-random search over the parameter box: the global stage of a multi-start fit."""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

#: the search evaluates whole learners, about this many learner-candidates per batched call
ROLLOUTS_PER_CALL = 65536
#: local refinements start at least this far apart: a quarter of the box width in at least one
#: searched coordinate (max-norm in unit-box coordinates), so that starts that agree on the
#: best NLL come from different regions of the box rather than from one basin's neighbours
START_SEPARATION = 0.25


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


def separated_starts(
    values: np.ndarray, unit: np.ndarray, k: int, separation: float = START_SEPARATION
) -> np.ndarray:
    """Up to ``k`` starts per row, in separated regions of the box.

    Candidates are taken greedily in order of value (best first): a candidate is accepted only
    if it differs from every start already accepted by at least ``separation`` of the box width
    in at least one coordinate (max-norm distance in unit-box coordinates), so two starts never
    sit in the same neighbourhood. The best candidate is always the first start; later ones
    must also have a finite value.

    Parameters
    ----------
    values
        (P, C) value (NLL) of every candidate for every row (participant).
    unit
        (C, n) the candidates in unit-box coordinates (the same for every row).
    k
        Starts wanted per row.
    separation
        Least max-norm distance between two starts, as a share of the box width.

    Returns
    -------
    numpy.ndarray
        (P, k) column indices of the starts, best first; ``-1`` after the last start of a row
        with fewer than ``k`` separated candidates.
    """
    n_rows, n_cand = values.shape
    # which candidates lie too close to which: (C, C), the same for every row
    close = np.ones((n_cand, n_cand), dtype=bool)
    for column in np.asarray(unit, dtype=float).T:  # one coordinate at a time: (C, C) memory
        close &= np.abs(column[:, None] - column[None, :]) < separation
    values = np.where(np.isnan(values), np.inf, values)
    eligible = np.ones((n_rows, n_cand), dtype=bool)
    picks = np.full((n_rows, k), -1, dtype=np.int64)
    rows = np.arange(n_rows)
    for s in range(min(k, n_cand)):
        pick = np.argmin(np.where(eligible, values, np.inf), axis=1)
        ok = eligible[rows, pick] & (np.isfinite(values[rows, pick]) | (s == 0))
        picks[ok, s] = pick[ok]
        eligible[ok] &= ~close[pick[ok]]
    return picks


def learners_per_call(n_candidates: int) -> int:
    """Learners whose ``n_candidates`` candidates the search evaluates in one batched call."""
    return max(1, ROLLOUTS_PER_CALL // max(1, n_candidates))
