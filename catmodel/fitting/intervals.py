"""Confidence intervals of fitted parameters: Wald (from the Hessian) and profile likelihood.

Both work on the scale coordinates a parameter is searched on (log10 for rates and temperatures,
logit for probabilities) and are reported on the natural scale.

* **Wald**: ``theta_hat ± z se`` with the standard error from the inverse Hessian. Cheap; exact
  when the log-likelihood is quadratic in the scale coordinate. Its ends are not clipped to
  the fitting box.
* **Profile likelihood**: the values of one parameter at which the NLL, minimised over all the
  other free parameters, rises ``chi2_1(level) / 2`` (1.92 for 95 %) above its minimum — the
  likelihood-ratio test inverted. It follows a skewed or flat likelihood where Wald does not.
  A side on which the profile stays below the threshold up to the edge of the fitting box ends
  at that edge (the interval is then the part of the box the test does not reject) and is
  flagged. The profile is followed outward from the estimate, each minimisation starting
  where the previous one ended: on a likelihood with several basins it is the profile of the
  estimate's basin. A parameter that the objective can minimise exactly (the choice
  temperature, profiled in closed form by the fit's objective) is left to it in the profiles
  of the others, which then search one dimension fewer.

A parameter whose estimate lies at a bound of the box gets no interval (NaN): the likelihood's
curvature there says nothing about the parameter's uncertainty, and the test's chi-squared
reference does not hold at a boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from catmodel.fitting.neldermead import batched_nelder_mead

#: interval methods ``fit`` knows
METHODS = ("wald", "profile")
#: the minimisation over the other parameters at each point of a profile (unit-box
#: coordinates): it starts where the previous point's ended, close by, so a first simplex of
#: 5% of the box suffices; NLL to 1e-3 (a fiftieth of the tolerance on the profile's rise at
#: an end) and points to 1e-2 of the box. Against 1e-4 and 1e-3, on 100 simulated Gaussian
#: learners this took 36% fewer evaluations and moved 99% of the interval ends by less than
#: 0.002 log10 units.
PROFILE_NELDER_MEAD = {"step": 0.05, "fatol": 1e-3, "xatol": 1e-2}
#: NLL added per unit-box width a point of that minimisation lies outside the box
OUTSIDE_PENALTY = 100.0

# nll_min(rows (n,), points (n, F)) -> (NLL minimised over one column (n,), the points with
# that column at its minimiser (n, F))
InnerMinimum = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


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
    nll_tolerance: float = 0.05,
    max_steps: int = 30,
    skip: np.ndarray | None = None,
    inner: tuple[int, InnerMinimum] | None = None,
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
        (P, F) first distance from the estimate at which to look for the threshold (e.g. a
        Wald half-width; NaN or 0: a tenth of the box).
    level
        Confidence level.
    tolerance
        An end is located when the bracket around it is narrower than this (scale
        coordinates) ...
    nll_tolerance
        ... or when the profile at a point lies within this of the threshold. Where the
        profile is quadratic its slope at an end is ``2 threshold / half-width``, so the
        default 0.05 places an end within 1.3% of the interval's half-width.
    max_steps
        Steps (bracketing and refining together) at most per end.
    skip
        (P, F) parameters that get no interval (NaN), e.g. those at a bound of the box; they
        cost nothing.
    inner
        ``(k, nll_min)``: free parameter ``k`` is minimised exactly by
        ``nll_min(rows, points)``, which returns the NLL minimised over column ``k`` of
        ``points`` and the points with that column at its minimiser (e.g.
        :meth:`catmodel.fitting.likelihood.Objective.__call__` with a profiled temperature).
        The profiles of the other parameters leave ``k`` to it and search one dimension fewer
        (on 100 simulated Gaussian learners, 41% fewer evaluations, each dearer by the
        temperature's Newton steps); ``k``'s own profile uses ``nll_at``.

    Each step — one outward step of the bracket, one refinement of it — minimises the NLL of
    every (fit, parameter, side) problem still open in one batched Nelder-Mead call, as the
    fit refines every participant's starts together. Near its minimum the profile is about
    quadratic, so its signed root ``sqrt(2 (profile - best_nll))`` is about linear in the
    parameter. Walking out, the next point is where the line through the estimate and the
    last point reaches the threshold's root; once the end is bracketed, where the parameter,
    interpolated as a quadratic function of the root through the estimate and both ends of
    the bracket, reaches it (kept a twentieth of the bracket inside it; an end approached
    from one side twice in a row is bisected instead). Most ends are found in three or four
    steps.
    """
    p, f = best.shape
    low = np.full((p, f), np.nan)
    high = np.full((p, f), np.nan)
    low_edge = np.zeros((p, f), dtype=bool)
    high_edge = np.zeros((p, f), dtype=bool)
    if f == 0:
        return Intervals(low, high, low_edge, high_edge)
    problems = _Problems.of(best, best_nll, lower, upper, first_step, skip)
    search = _EndSearch(problems, profile_threshold(level), tolerance, nll_tolerance)
    warm = best[problems.fit].copy()

    def profile(values: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Minimised NLL of the active problems with their parameter held at ``values``."""
        idx = np.flatnonzero(active)
        out = np.full(len(values), np.nan)
        out[idx], warm[idx] = _minimise_others(
            nll_at,
            rows[problems.fit[idx]],
            warm[idx],
            problems.param[idx],
            values[idx],
            lower,
            upper,
            inner=inner,
        )
        return out

    for _ in range(max_steps):
        active = search.open()
        if not active.any():
            break
        trial = search.next_points()
        search.record(trial, profile(trial, active), active)
    end, at_edge = search.ends()
    for s, out, flag in ((-1.0, low, low_edge), (1.0, high, high_edge)):
        sel = problems.side == s
        out[problems.fit[sel], problems.param[sel]] = end[sel]
        flag[problems.fit[sel], problems.param[sel]] = at_edge[sel]
    return Intervals(low, high, low_edge, high_edge)


@dataclass
class _Problems:
    """One problem per (fit, free parameter, side) that gets an interval end."""

    fit: np.ndarray
    param: np.ndarray
    side: np.ndarray  #: -1 (lower end) or +1 (upper end)
    centre: np.ndarray  #: the estimate
    best_nll: np.ndarray
    edge: np.ndarray  #: the box edge on the problem's side
    step: np.ndarray  #: first distance to try

    @classmethod
    def of(cls, best, best_nll, lower, upper, first_step, skip) -> _Problems:
        p, f = best.shape
        fit = np.repeat(np.arange(p), 2 * f)
        param = np.tile(np.repeat(np.arange(f), 2), p)
        side = np.tile([-1.0, 1.0], p * f)
        wanted = np.isfinite(best_nll[fit])
        if skip is not None:
            wanted &= ~np.asarray(skip, dtype=bool)[fit, param]
        fit, param, side = fit[wanted], param[wanted], side[wanted]
        step = np.abs(first_step[fit, param])
        step = np.where(np.isfinite(step) & (step > 0), step, 0.1 * (upper - lower)[param])
        return cls(
            fit=fit,
            param=param,
            side=side,
            centre=best[fit, param],
            best_nll=best_nll[fit],
            edge=np.where(side < 0, lower[param], upper[param]),
            step=step,
        )


class _EndSearch:
    """Where each problem's end lies: a bracket [inside, outside] around the threshold,
    first walked outward from the estimate, then narrowed."""

    def __init__(self, problems: _Problems, threshold: float, tolerance: float, nll_tol: float):
        self.pr = problems
        self.threshold = threshold
        self.tolerance = tolerance
        self.nll_tol = nll_tol
        n = len(problems.fit)
        self.inside = problems.centre.copy()  # last point below the threshold
        self.inside_rise = np.zeros(n)  # the profile's rise above best_nll there
        self.outside = np.full(n, np.nan)  # first point at or above it
        self.outside_rise = np.full(n, np.nan)
        self.hit = np.full(n, np.nan)  # a point within nll_tolerance of the threshold
        self.edge = np.zeros(n, dtype=bool)  # below the threshold up to the box edge
        self.last_side = np.zeros(n)  # which end of the bracket the last point replaced
        self.same_side = np.zeros(n, dtype=np.int64)  # ... and how often in a row

    def open(self) -> np.ndarray:
        """Problems whose end is not located yet."""
        bracketed = np.isfinite(self.outside)
        narrow = bracketed & (np.abs(self.outside - self.inside) <= self.tolerance)
        return ~self.edge & np.isnan(self.hit) & ~narrow

    def next_points(self) -> np.ndarray:
        """The next point of every problem (meaningful for open ones)."""
        pr = self.pr
        root = np.sqrt(2.0 * self.threshold)
        r_in = np.sqrt(2.0 * np.maximum(self.inside_rise, 0.0))
        dist_in = np.abs(self.inside - pr.centre)
        # walking out: where the root's line through the estimate and the last point below
        # reaches the threshold's root, a little beyond, and at least half as far again
        with np.errstate(divide="ignore", invalid="ignore"):
            guess = np.where(r_in > 0, 1.2 * dist_in * root / r_in, np.inf)
        walk = np.where(dist_in > 0, np.clip(guess, 1.5 * dist_in, 4.0 * dist_in), pr.step)
        out_point = pr.centre + pr.side * walk
        lo, hi = np.minimum(pr.edge, pr.centre), np.maximum(pr.edge, pr.centre)
        out_point = np.clip(out_point, lo, hi)
        # bracketed: where the root reaches the threshold's, interpolated (the parameter as a
        # quadratic function of the root through the estimate, where the root is 0, and the
        # bracket's ends; a line when the inside end is the estimate), kept a twentieth of
        # the bracket inside it
        r_out = np.sqrt(2.0 * np.maximum(self.outside_rise, 0.0))
        dist_out = np.abs(self.outside - pr.centre)
        with np.errstate(divide="ignore", invalid="ignore"):
            line = dist_in + (root - r_in) * (dist_out - dist_in) / (r_out - r_in)
            # Newton's divided differences through (0, 0), (r_in, dist_in), (r_out, dist_out)
            slope_in = dist_in / r_in
            curve = ((dist_out - dist_in) / (r_out - r_in) - slope_in) / r_out
            quadratic = slope_in * root + curve * root * (root - r_in)
        guess = np.where(r_in > 0, quadratic, line)
        share = (guess - dist_in) / (dist_out - dist_in)
        share = np.clip(np.where(np.isfinite(share), share, 0.5), 0.05, 0.95)
        # an end that the interpolation keeps approaching from one side: bisect
        share = np.where(self.same_side >= 2, 0.5, share)
        between = self.inside + share * (self.outside - self.inside)
        return np.where(np.isfinite(self.outside), between, out_point)

    def record(self, points: np.ndarray, values: np.ndarray, active: np.ndarray) -> None:
        """The profile's ``values`` at ``points`` for the ``active`` problems."""
        rise = values - self.pr.best_nll
        narrowing = np.isfinite(self.outside)
        near = active & (np.abs(rise - self.threshold) <= self.nll_tol)
        self.hit[near] = points[near]
        above = active & ~near & ~(rise < self.threshold)  # NaN or inf (a failure) is above
        self.outside[above], self.outside_rise[above] = points[above], rise[above]
        below = active & ~near & (rise < self.threshold)
        self.inside[below], self.inside_rise[below] = points[below], rise[below]
        side = np.where(above, 1.0, -1.0)
        moved = (above | below) & narrowing
        repeat = moved & (side == self.last_side)
        self.same_side[moved] = np.where(repeat[moved], self.same_side[moved] + 1, 1)
        self.last_side[moved] = side[moved]
        self.edge |= below & ~np.isfinite(self.outside) & (points == self.pr.edge)

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Each problem's end and whether it is the box edge."""
        middle = 0.5 * (self.inside + self.outside)
        end = np.where(np.isfinite(self.hit), self.hit, middle)
        end = np.where(self.edge, self.pr.edge, end)
        # never located (max_steps ran out before a bracket): no end
        return end, self.edge


def _minimise_others(nll_at, rows, start, held, values, lower, upper, inner=None):
    """min over the other free parameters of the NLL with parameter ``held[i]`` at
    ``values[i]``; returns the minima and the full minimising points.

    With ``inner = (k, nll_min)`` the problems that do not hold ``k`` leave it to
    ``nll_min``; the others, and every problem without ``inner``, search all the rest.
    """
    n, f = start.shape
    moving = np.ones((n, f), dtype=bool)
    moving[np.arange(n), held] = False
    exact = np.zeros(n, dtype=bool)  # problems whose parameter k the objective minimises
    nll_min = None
    if inner is not None:
        k, nll_min = inner
        exact = held != k
        moving[exact, k] = False
    nll = np.empty(n)
    points = start.copy()
    for sel, evaluate in ((~exact, _plain(nll_at)), (exact, nll_min)):
        if sel.any():
            idx = np.flatnonzero(sel)
            nll[idx], points[idx] = _minimise(
                evaluate, rows[idx], start[idx], moving[idx], held[idx], values[idx], lower, upper
            )
    return nll, points


def _plain(nll_at):
    """``nll_at`` as an evaluation that returns its points unchanged."""
    return lambda rows, points: (nll_at(rows, points), points)


def _minimise(evaluate, rows, start, moving, held, values, lower, upper):
    """Minimise ``evaluate`` over the ``moving`` coordinates (the same number in every row)
    with ``held`` at ``values``.

    They move in unit-box coordinates, clipped to the box, with a penalty that grows with the
    distance outside it (so the simplex turns back). The fit's unconstrained (logit)
    coordinates would not do here: a parameter whose estimate lies at an edge sits where the
    logit is flat, and a profile often has to pull it far inside.
    """
    n, f = start.shape
    base = start.copy()
    base[np.arange(n), held] = values
    m = int(moving[0].sum())
    if m == 0:
        return evaluate(rows, base)
    width = upper - lower
    u0 = ((start - lower) / width)[moving].reshape(n, m)

    def fun(idx, u):
        inside = np.clip(u, 0.0, 1.0)
        unit = np.zeros((len(idx), f))
        unit[moving[idx]] = inside.reshape(-1)
        pts = np.where(moving[idx], lower + width * unit, base[idx])
        outside = np.abs(u - inside).sum(axis=1)
        value, full = evaluate(rows[idx], pts)
        return value + OUTSIDE_PENALTY * outside, full

    result = batched_nelder_mead(fun, u0, **PROFILE_NELDER_MEAD)
    return result.fun, result.aux
