"""Posterior intervals of empirical-Bayes fits by importance sampling around the Laplace
approximation.

The Laplace approximation gives each participant's posterior as a Gaussian at the MAP. Where
the likelihood is far from quadratic (a rate the data hardly inform, a posterior squeezed
against a region where the model stops learning) its intervals are too narrow: on the
Gaussian learner's recovery study 72-85 % of the true learning rates lay inside nominal 95 %
Laplace intervals. Here every participant's posterior ``exp(-NLL(θ)) N(θ; μ, Σ)`` is sampled
with a multivariate Student-t proposal (4 degrees of freedom, centred on the MAP, scale the
Laplace covariance inflated by 1.5^2, so its tails are heavier than the target's), and the
self-normalised importance weights give the posterior sd and equal-tailed intervals. The
draws are batched across participants like every other evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: proposal: Student-t degrees of freedom and the Laplace covariance's scale factor (in sd)
PROPOSAL_DF = 4.0
PROPOSAL_INFLATE = 1.5
#: draws per participant
N_DRAWS = 512


@dataclass
class SampledPosterior:
    """Importance-sampled posterior summaries of every participant (search scale)."""

    mean: np.ndarray  #: (P, F) posterior means
    sd: np.ndarray  #: (P, F) posterior standard deviations
    cov: np.ndarray  #: (P, F, F) posterior covariances
    low: np.ndarray  #: (P, F) lower ends of the equal-tailed intervals
    high: np.ndarray  #: (P, F) upper ends
    ess: np.ndarray  #: (P,) effective sample sizes (Kish) of the weights


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` of every row of ``values`` (P, S) under row weights (P, S) summing to 1.

    The weighted empirical distribution's quantile, interpolated between the midpoints of
    the sorted draws' weights (so equal weights give the usual midpoint rule).
    """
    order = np.argsort(values, axis=1)
    v = np.take_along_axis(values, order, 1)
    w = np.take_along_axis(weights, order, 1)
    mid = np.cumsum(w, axis=1) - 0.5 * w
    return np.stack([np.interp(q, mid[i], v[i]) for i in range(len(v))])


def sample_posterior(
    log_target,
    maps: np.ndarray,
    cov: np.ndarray,
    level: float = 0.95,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> SampledPosterior:
    """Posterior means, sds and equal-tailed ``level`` intervals by importance sampling.

    Parameters
    ----------
    log_target
        ``log_target(rows, scale)``: the unnormalised log posterior (L,) of learners ``rows``
        (L,) at search-scale points ``scale`` (L, F); ``-inf`` where the model cannot be
        evaluated.
    maps, cov
        (P, F) MAPs and (P, F, F) Laplace covariances: the proposal's centre and shape.
    level
        Interval level.
    n_draws
        Draws per participant.
    seed
        Seed of the draws.
    """
    n_p, n_f = maps.shape
    if n_f == 0:  # every parameter fixed: nothing to sample, the posterior is a point
        empty = np.zeros((n_p, 0))
        return SampledPosterior(empty, empty, np.zeros((n_p, 0, 0)), empty, empty, np.ones(n_p))
    rng = np.random.default_rng(seed)
    scale_cov = PROPOSAL_INFLATE**2 * cov
    chol = np.linalg.cholesky(scale_cov)
    z = rng.standard_normal((n_p, n_draws, n_f))
    u = rng.chisquare(PROPOSAL_DF, (n_p, n_draws)) / PROPOSAL_DF
    step = np.einsum("pij,psj->psi", chol, z) / np.sqrt(u)[..., None]
    theta = maps[:, None, :] + step
    # the proposal's log density up to each participant's constant (it cancels in the
    # self-normalised weights): -(df + F)/2 log(1 + δ/df), δ the squared Mahalanobis distance
    delta = np.sum((z / np.sqrt(u)[..., None]) ** 2, axis=-1)
    log_q = -0.5 * (PROPOSAL_DF + n_f) * np.log1p(delta / PROPOSAL_DF)
    rows = np.repeat(np.arange(n_p), n_draws)
    log_p = log_target(rows, theta.reshape(-1, n_f)).reshape(n_p, n_draws)
    log_w = np.where(np.isfinite(log_p), log_p - log_q, -np.inf)
    log_w -= log_w.max(axis=1, keepdims=True)
    w = np.exp(log_w)
    w /= w.sum(axis=1, keepdims=True)
    mean = np.einsum("ps,psf->pf", w, theta)
    centred = theta - mean[:, None, :]
    cov = np.einsum("ps,psf,psg->pfg", w, centred, centred)
    sd = np.sqrt(np.einsum("pff->pf", cov))
    tail = 0.5 * (1.0 - level)
    low = np.empty((n_p, n_f))
    high = np.empty((n_p, n_f))
    for f in range(n_f):
        ends = weighted_quantiles(theta[..., f], w, np.array([tail, 1.0 - tail]))
        low[:, f], high[:, f] = ends[:, 0], ends[:, 1]
    ess = 1.0 / np.sum(w**2, axis=1)
    return SampledPosterior(mean, sd, cov, low, high, ess)
