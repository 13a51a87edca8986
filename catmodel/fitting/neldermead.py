"""Nelder-Mead on many independent problems at once.

Every problem (participant x start) keeps its own simplex, but the points that all problems need
in a phase of an iteration — reflections, then expansions or contractions, then shrinks — are
evaluated in one batched call, so a compiled rollout runs over thousands of learners at a time
instead of one. Coefficients are the dimension-adaptive ones of Gao & Han (2012), as in SciPy's
``adaptive=True``; the stopping rule is SciPy's (spread of values below ``fatol`` and of
vertices below ``xatol``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: default iteration cap per problem (at 400, a few of the Gaussian learner's starts on real
#: data were still crawling toward an optimum at the edge of the box when stopped)
MAX_ITER = 1000

# fun(problem_indices (m,), points (m, n)) -> (values (m,), aux (m, a))
BatchFunction = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class NelderMeadResult:
    """Per problem: best point, its value and auxiliary output, convergence and iterations."""

    x: np.ndarray
    fun: np.ndarray
    aux: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    evaluations: int


def batched_nelder_mead(
    fun: BatchFunction,
    x0: np.ndarray,
    step: float = 0.3,
    fatol: float = 1e-3,
    xatol: float = 1e-2,
    max_iter: int = MAX_ITER,
) -> NelderMeadResult:
    """Minimise ``fun`` from each row of ``x0`` (P, n) independently.

    Parameters
    ----------
    fun
        Batched objective; must return ``inf`` (not NaN) for invalid points.
    x0
        Starting points, one row per problem.
    step
        Size of the initial simplex along each axis.
    fatol, xatol
        Stop a problem when the values of its simplex differ by less than ``fatol`` and its
        vertices by less than ``xatol`` (max-norm) from the best.
    max_iter
        Iteration cap per problem; a problem stopped by it is reported as not converged.
    """
    x0 = np.atleast_2d(np.asarray(x0, dtype=float))
    n_prob, n = x0.shape
    alpha, gamma = 1.0, 1.0 + 2.0 / n
    rho, sigma = 0.75 - 1.0 / (2.0 * n), 1.0 - 1.0 / n
    all_idx = np.arange(n_prob)
    evaluations = 0

    def evaluate(idx: np.ndarray, pts: np.ndarray):
        nonlocal evaluations
        evaluations += len(idx)
        f, aux = fun(idx, pts)
        f = np.where(np.isnan(f), np.inf, f)
        return f, np.asarray(aux).reshape(len(idx), -1)

    simplex = np.repeat(x0[:, None, :], n + 1, axis=1)
    simplex[:, 1:, :] += step * np.eye(n)[None]
    f0, aux0 = evaluate(np.repeat(all_idx, n + 1), simplex.reshape(-1, n))
    fvals = f0.reshape(n_prob, n + 1)
    aux = aux0.reshape(n_prob, n + 1, -1)
    active = np.ones(n_prob, dtype=bool)
    converged = np.zeros(n_prob, dtype=bool)
    iterations = np.zeros(n_prob, dtype=np.int64)

    for _ in range(max_iter):
        order = np.argsort(fvals, axis=1, kind="stable")
        simplex = np.take_along_axis(simplex, order[:, :, None], axis=1)
        fvals = np.take_along_axis(fvals, order, axis=1)
        aux = np.take_along_axis(aux, order[:, :, None], axis=1)
        spread_f = fvals[:, -1] - fvals[:, 0]
        spread_x = np.abs(simplex[:, 1:] - simplex[:, :1]).max(axis=(1, 2))
        done = np.isfinite(fvals[:, 0]) & (spread_f <= fatol) & (spread_x <= xatol)
        converged |= active & done
        active &= ~done
        if not active.any():
            break
        idx = all_idx[active]
        iterations[idx] += 1
        s, f = simplex[idx], fvals[idx]
        centroid = s[:, :-1].mean(axis=1)
        worst = s[:, -1]
        xr = centroid + alpha * (centroid - worst)
        fr, ar = evaluate(idx, xr)

        expand = fr < f[:, 0]
        accept_r = (fr >= f[:, 0]) & (fr < f[:, -2])
        contract = fr >= f[:, -2]
        outside = contract & (fr < f[:, -1])
        second = np.where(
            expand[:, None],
            centroid + gamma * (xr - centroid),
            np.where(
                outside[:, None],
                centroid + rho * (xr - centroid),
                centroid + rho * (worst - centroid),
            ),
        )
        need = expand | contract
        f2 = np.full(len(idx), np.inf)
        a2 = np.zeros_like(ar)
        if need.any():
            f2[need], a2[need] = evaluate(idx[need], second[need])

        new_point = xr.copy()
        new_f = fr.copy()
        new_a = ar.copy()
        take_e = expand & (f2 < fr)
        new_point[take_e], new_f[take_e], new_a[take_e] = second[take_e], f2[take_e], a2[take_e]
        ok_c = contract & np.where(outside, f2 <= fr, f2 < f[:, -1])
        new_point[ok_c], new_f[ok_c], new_a[ok_c] = second[ok_c], f2[ok_c], a2[ok_c]
        replace = expand | accept_r | ok_c
        rows = idx[replace]
        simplex[rows, -1] = new_point[replace]
        fvals[rows, -1] = new_f[replace]
        aux[rows, -1] = new_a[replace]

        shrink = contract & ~ok_c
        if shrink.any():
            rows = idx[shrink]
            best = simplex[rows, :1]
            pts = best + sigma * (simplex[rows, 1:] - best)
            fs, as_ = evaluate(np.repeat(rows, n), pts.reshape(-1, n))
            simplex[rows, 1:] = pts
            fvals[rows, 1:] = fs.reshape(len(rows), n)
            aux[rows, 1:] = as_.reshape(len(rows), n, -1)

    order = np.argmin(fvals, axis=1)
    return NelderMeadResult(
        x=simplex[all_idx, order],
        fun=fvals[all_idx, order],
        aux=aux[all_idx, order],
        converged=converged,
        iterations=iterations,
        evaluations=evaluations,
    )
