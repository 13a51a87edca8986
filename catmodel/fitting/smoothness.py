"""Is a likelihood smooth where it is evaluated? A second difference on a tiny scale.

A learner whose trajectory is chaotic in its parameters (an update that overshoots and
amplifies a change in the ninth digit of a rate into a different sequence of states) has an NLL
that is not a smooth function of the parameters: maximum likelihood then fits noise, and
standard errors from its curvature mean nothing. The check: with u a random unit direction in
scale coordinates and δ = ``relative_step`` · max(|θ|, 1) · u,

    |NLL(θ + δ) + NLL(θ − δ) − 2 NLL(θ)| ≤ ``limit``,

a second difference, so a steep but smooth surface passes (its second difference is of order
|δ|², about 1e-18 at the default step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: relative size of the perturbation
RELATIVE_STEP = 1e-9
#: largest second difference that counts as smooth
LIMIT = 1e-6


@dataclass
class SmoothnessCheck:
    """Per evaluated vector: the NLL and its second difference, and whether it is smooth."""

    theta: np.ndarray
    rows: np.ndarray
    nll: np.ndarray
    second_difference: np.ndarray

    @property
    def smooth(self) -> np.ndarray:
        return self.second_difference <= LIMIT

    @property
    def share_smooth(self) -> float:
        return float(np.mean(self.smooth))


def check_smoothness(nll_at, rows: np.ndarray, theta: np.ndarray, seed: int = 0) -> SmoothnessCheck:
    """Second differences of ``nll_at(rows, points)`` at ``theta`` (n, F), batched in one call.

    Parameters
    ----------
    nll_at
        ``nll_at(rows, points)``, e.g. :meth:`catmodel.fitting.likelihood.Objective.nll_at`.
    rows
        (n,) the participant (batch row) of each vector.
    theta
        (n, F) parameter vectors in scale coordinates.
    seed
        Seed of the random directions.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    rng = np.random.default_rng(seed)
    u = rng.normal(size=theta.shape)
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300)
    delta = RELATIVE_STEP * np.maximum(np.linalg.norm(theta, axis=1, keepdims=True), 1.0) * u
    n = len(theta)
    f = nll_at(np.tile(rows, 3), np.concatenate([theta, theta + delta, theta - delta]))
    f = np.asarray(f, dtype=float).reshape(3, n)
    second = np.abs(f[1] + f[2] - 2.0 * f[0])
    return SmoothnessCheck(theta=theta, rows=np.asarray(rows), nll=f[0], second_difference=second)


def box_vectors(lower, upper, n: int, n_rows: int, seed: int = 0):
    """``n`` vectors uniform over the box (scale coordinates) and a participant row for each."""
    rng = np.random.default_rng(seed)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    theta = lower + (upper - lower) * rng.random((n, len(lower)))
    return theta, rng.integers(0, n_rows, n)
