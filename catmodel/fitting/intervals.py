"""Confidence intervals of fitted parameters: Wald (from the Hessian) and profile likelihood.

Both work on the scale coordinates a parameter is searched on (log10 for rates and temperatures,
logit for probabilities) and are reported on the natural scale.

* **Wald**: ``theta_hat ± z se`` with the standard error from the inverse Hessian. Cheap; exact
  when the log-likelihood is quadratic in the scale coordinate.
* **Profile likelihood**: the values of one parameter at which the NLL, minimised over all the
  other free parameters, rises ``chi2_1(level) / 2`` (1.92 for 95 %) above its minimum — the
  likelihood-ratio test inverted. It follows a skewed or flat likelihood where Wald does not.
  A side on which the profile stays below the threshold up to the edge of the fitting box ends
  at that edge (the interval is then the part of the box the test does not reject) and is
  flagged.

A parameter whose estimate lies at a bound of the box gets no interval (NaN): the likelihood's
curvature there says nothing about the parameter's uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from catmodel.fitting.neldermead import batched_nelder_mead

#: interval methods ``fit`` knows
METHODS = ("wald", "profile")


@dataclass
class Intervals:
    """Lower and upper ends (P, F) in scale coordinates, and where a side hit the box."""

    low: np.ndarray
    high: np.ndarray
    low_at_edge: np.ndarray
    high_at_edge: np.ndarray


def wald_intervals(scale: np.ndarray, se: np.ndarray, level: float = 0.95) -> Intervals:
    """``scale ± z se`` (P, F); NaN where the standard error is."""
    z = stats.norm.ppf(0.5 + level / 2.0)
    edge = np.zeros(scale.shape, dtype=bool)
    return Intervals(scale - z * se, scale + z * se, edge, edge.copy())


def profile_threshold(level: float = 0.95) -> float:
    """The rise of the NLL above its minimum at the ends of a profile interval."""
    return 0.5 * float(stats.chi2.ppf(level, 1))


def profile_intervals(
    nll_at,
    rows: np.ndarray,
    best: np.ndarray,
    best_nll: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    first_step: np.ndarray,
    level: float = 0.95,
    tolerance: float = 0.01,
    max_bisections: int = 12,
) -> Intervals:
    """Profile-likelihood intervals of every free parameter of every problem, batched.

    Parameters
    ----------
    nll_at
        ``nll_at(rows, points)``: NLL of problem ``rows[i]`` at free scale coordinates
        ``points[i]`` (e.g. :meth:`catmodel.fitting.likelihood.Objective.nll_at`).
    rows
        (P,) the problem (batch row) of each fit.
    best, best_nll
        (P, F) maximum-likelihood estimates (scale coordinates) and (P,) their NLL.
    lower, upper
        (F,) the fitting box in scale coordinates.
    first_step
        (P, F) first distance from the estimate at which to look for the threshold (e.g. two
        Wald standard errors; any positive guess works).
    level
        Confidence level.
    tolerance
        Width (scale coordinates) to which each end is located.
    max_bisections
        Bisection steps per end after the threshold has been bracketed.
    """
    p, f = best.shape
    threshold = profile_threshold(level)
    low = np.full((p, f), np.nan)
    high = np.full((p, f), np.nan)
    low_edge = np.zeros((p, f), dtype=bool)
    high_edge = np.zeros((p, f), dtype=bool)
    if f == 0:
        return Intervals(low, high, low_edge, high_edge)
    # one problem per (fit, parameter, side)
    fit_idx = np.repeat(np.arange(p), 2 * f)
    param = np.tile(np.repeat(np.arange(f), 2), p)
    side = np.tile([-1.0, 1.0], p * f)
    target = best_nll[fit_idx] + threshold
    edge = np.where(side < 0, lower[param], upper[param])
    centre = best[fit_idx, param]
    step = np.abs(first_step[fit_idx, param])
    step = np.where(np.isfinite(step) & (step > 0), step, 0.1 * (upper - lower)[param])
    warm = best[fit_idx].copy()

    def profile(values: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Minimised NLL of the active problems with their parameter held at ``values``."""
        idx = np.flatnonzero(active)
        out = np.full(len(values), np.nan)
        if len(idx) == 0:
            return out
        out[idx], warm[idx] = _minimise_others(
            nll_at, rows[fit_idx[idx]], warm[idx], param[idx], values[idx], lower, upper
        )
        return out

    # bracket: walk outward, doubling the step, until the profile crosses or the box ends
    inside = centre.copy()
    outside = np.full(len(centre), np.nan)
    active = np.ones(len(centre), dtype=bool)
    while active.any():
        trial = np.clip(inside + side * step, np.minimum(edge, centre), np.maximum(edge, centre))
        value = profile(trial, active)
        crossed = active & (value >= target)
        outside[crossed] = trial[crossed]
        at_edge = active & ~crossed & np.isclose(trial, edge)
        inside[active & ~crossed] = trial[active & ~crossed]
        step = np.where(active, 2.0 * step, step)
        active &= ~crossed & ~at_edge
    reached = np.isfinite(outside)
    # bisect between the last point below and the first above the threshold
    for _ in range(max_bisections):
        active = reached & (np.abs(outside - inside) > tolerance)
        if not active.any():
            break
        mid = 0.5 * (inside + outside)
        value = profile(mid, active)
        up = active & (value >= target)
        outside[up] = mid[up]
        down = active & ~up
        inside[down] = mid[down]
    end = np.where(reached, 0.5 * (inside + outside), edge)
    for s, out, flag in ((-1.0, low, low_edge), (1.0, high, high_edge)):
        sel = side == s
        out[fit_idx[sel], param[sel]] = end[sel]
        flag[fit_idx[sel], param[sel]] = ~reached[sel]
    return Intervals(low, high, low_edge, high_edge)


def _minimise_others(nll_at, rows, start, held, values, lower, upper):
    """min over the other free parameters of the NLL with parameter ``held[i]`` at
    ``values[i]``; returns the minima and the full minimising points."""
    n, f = start.shape
    if f == 1:
        points = start.copy()
        points[:, 0] = values
        return nll_at(rows, points), points
    keep = np.ones((n, f), dtype=bool)
    keep[np.arange(n), held] = False
    width = upper - lower
    # the others in unconstrained coordinates (logit of the position in the box), as in fitting
    unit = np.clip((start - lower) / width, 1e-9, 1 - 1e-9)
    z0 = np.log(unit) - np.log1p(-unit)
    z0 = z0[keep].reshape(n, f - 1)

    def points_of(idx, z):
        pts = _expand(z, idx, keep, lower, width)
        pts[np.arange(len(idx)), held[idx]] = values[idx]
        return pts

    def fun(idx, z):
        pts = points_of(idx, z)
        return nll_at(rows[idx], pts), pts

    result = batched_nelder_mead(fun, z0, step=0.2, fatol=1e-4, xatol=1e-3)
    return result.fun, result.aux


def _expand(z, idx, keep, lower, width):
    """Scale coordinates (m, F) whose free entries come from ``z`` (m, F - 1)."""
    m, f = len(idx), keep.shape[1]
    full = np.zeros((m, f))
    full[keep[idx]] = z.reshape(-1)
    return lower + width / (1.0 + np.exp(-full))
