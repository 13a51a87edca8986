"""Compiled CPU rollout of the Gaussian learner's default rule (``update="natural"``,
``activation="responsibility"``), for forward-only use.

It computes what the step function of :mod:`catmodel.models.gaussian_natural` computes, one
learner at a time per ``prange`` iteration, in the phases of a trial: the units' log densities
(Cholesky factors), their responsibilities and the category probabilities (the logits are their
logs), then, on trials with feedback, each unit's error signal and its bounded steps (mean,
covariance, association weights), and the projection of the covariance's eigenvalues into the
band. The contract tests hold the two to 1e-10.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import batch_arrays
from catmodel.kernels.linalg import cholesky, forward_solve, jacobi_eigh, shifted_is_positive

_LOG_2PI = math.log(2.0 * math.pi)
#: floor of a category probability before its log (the choice rule's lapse keeps likelihoods
#: finite; this keeps the arithmetic finite)
TINY = 1e-300
#: a covariance counts as inside the band when its eigenvalues lie within this relative margin
#: of the edges, so a matrix just projected is not projected again
BAND_SLACK = 1e-12
#: the largest away step of a covariance (the fraction s < 1; binds only without the
#: generative term, at learning rates near 1)
MAX_AWAY = 0.99
#: the uniform starting weights count as this many observations (the running average's prior)
PRIOR_COUNT = 1.0


@nb.njit(cache=True, inline="always")
def _log_densities(xt, mu, sigma, chol, z, log_a, n_units, d_feat):  # pragma: no cover
    """log N(x; mu_j, Sigma_j) of every unit; returns False if a covariance is not PD."""
    for j in range(n_units):
        if not cholesky(sigma[j], chol[j], d_feat):
            return False
        for d in range(d_feat):
            z[j, d] = xt[d] - mu[j, d]
        forward_solve(chol[j], z[j], z[j], d_feat)
        m = 0.0
        log_det = 0.0
        for d in range(d_feat):
            m += z[j, d] * z[j, d]
            log_det += math.log(chol[j, d, d])
        log_a[j] = -0.5 * (m + 2.0 * log_det + d_feat * _LOG_2PI)
    return True


@nb.njit(cache=True, inline="always")
def _softmax(values, out, n, mask_cat, m_units):  # pragma: no cover - compiled
    """Softmax of ``values[:n]`` into ``out``; with ``mask_cat >= 0`` only over the units of
    that category (``out`` is 0 for the others)."""
    top = -np.inf
    for j in range(n):
        if mask_cat < 0 or j // m_units == mask_cat:
            top = max(top, values[j])
    total = 0.0
    for j in range(n):
        if mask_cat < 0 or j // m_units == mask_cat:
            # exp(0) is exactly 1: the largest term (the only one of a category with one unit)
            # needs no exp, which saves a third of a two-unit trial's exps
            gap = values[j] - top
            out[j] = 1.0 if gap == 0.0 else math.exp(gap)
            total += out[j]
        else:
            out[j] = 0.0
    for j in range(n):
        out[j] /= total


@nb.njit(cache=True, inline="always")
def _step_covariance(sigma, dvec, m, s, d_feat):  # pragma: no cover - compiled
    """One bounded step of a unit's covariance along the stimulus's outer product.

    ``s < 0`` (toward): Sigma <- (1 - |s|) Sigma + |s| d d^T, a convex combination.
    ``s > 0`` (away): the precision moves the fraction s toward its rank-one part along d,
    Sigma <- (Sigma - c d d^T) / (1 - s) with c = s / (1 - s + s m), positive definite for any
    s < 1 (m = d^T Sigma^-1 d).
    """
    if s < 0.0:
        a = -s
        for i in range(d_feat):
            for k in range(d_feat):
                sigma[i, k] = (1.0 - a) * sigma[i, k] + a * dvec[i] * dvec[k]
    elif s > 0.0:
        c = s / (1.0 - s + s * m)
        scale = 1.0 / (1.0 - s)
        for i in range(d_feat):
            for k in range(d_feat):
                sigma[i, k] = (sigma[i, k] - c * dvec[i] * dvec[k]) * scale


@nb.njit(cache=True, inline="always")
def _project_band(sigma, lo, hi, scratch, values, vectors, d_feat):  # pragma: no cover
    """Clamp the eigenvalues of ``sigma`` into [lo, hi] (only when one lies outside)."""
    inside = shifted_is_positive(sigma, lo * (1.0 - BAND_SLACK), 1.0, scratch, d_feat)
    if inside:
        inside = shifted_is_positive(sigma, hi * (1.0 + BAND_SLACK), -1.0, scratch, d_feat)
    if inside:
        return
    for i in range(d_feat):
        for k in range(d_feat):
            scratch[i, k] = 0.5 * (sigma[i, k] + sigma[k, i])
    jacobi_eigh(scratch, values, vectors, d_feat)
    for i in range(d_feat):
        values[i] = min(max(values[i], lo), hi)
    for i in range(d_feat):
        for k in range(d_feat):
            acc = 0.0
            for e in range(d_feat):
                acc += vectors[i, e] * values[e] * vectors[k, e]
            sigma[i, k] = acc


@nb.njit(cache=True, inline="always")
def _write_logits(w, r, p, out_t, n_units, n_cat):  # pragma: no cover - compiled
    """Category probabilities p_k = sum_j r_j w_kj, and their logs as the trial's logits."""
    for k in range(n_cat):
        acc = 0.0
        for j in range(n_units):
            acc += w[k, j] * r[j]
        p[k] = acc
        out_t[k] = acc


@nb.njit(cache=True, inline="always")
def _error(r, rho, w, p, fb, j, generative):  # pragma: no cover - compiled
    """Unit j's error e_j in [-1, 1] and its label responsibility q_j (module docstring of
    :mod:`catmodel.models.gaussian_natural`)."""
    q = r[j] * w[fb, j] / max(p[fb], TINY)
    return (r[j] - q - generative * rho[j]) / (1.0 + generative), q


@nb.njit(cache=True, inline="always")
def _step_weights(w, counts, j, fb, q, lr_w, n_cat):  # pragma: no cover - compiled
    """A forgetful running average: the count decays by lr_w q and gains q; the weights move
    q / count of the way (so early steps do not depend on lr_w, and late ones tend to it)."""
    # max(., 0): a rate above 1 (outside the stability condition) forgets everything
    counts[j] = max(1.0 - lr_w * q, 0.0) * counts[j] + q
    rate = q / max(counts[j], TINY)
    for k in range(n_cat):
        target = 1.0 if k == fb else 0.0
        w[k, j] += rate * (target - w[k, j])


@nb.njit(cache=True)
def _learner(x, feedback, n_t, out, rates, start, rule):  # pragma: no cover - compiled
    """One learner's whole rollout, any D (``start``: means0, var0, band, box)."""
    means0, var0, band, box = start
    generative, m_units, n_cat = rule
    lr_mu, lr_cov, lr_w = rates
    lo, hi = band
    d_feat = x.shape[1]
    n_units = means0.shape[0]
    mu = means0.copy()
    sigma = np.zeros((n_units, d_feat, d_feat))
    for j in range(n_units):
        for d in range(d_feat):
            sigma[j, d, d] = var0
    w = np.full((n_cat, n_units), 1.0 / n_cat)
    counts = np.full(n_units, PRIOR_COUNT)
    chol = np.zeros((n_units, d_feat, d_feat))
    z = np.empty((n_units, d_feat))
    log_a = np.empty(n_units)
    r = np.empty(n_units)
    rho = np.empty(n_units)
    p = np.empty(n_cat)
    dvec = np.empty(d_feat)
    scratch = np.empty((d_feat, d_feat))
    values = np.empty(d_feat)
    vectors = np.empty((d_feat, d_feat))
    for t in range(n_t):
        xt = x[t]
        if not _log_densities(xt, mu, sigma, chol, z, log_a, n_units, d_feat):
            for k in range(n_cat):
                out[t, k] = np.nan
            continue
        _softmax(log_a, r, n_units, -1, m_units)
        _write_logits(w, r, p, out[t], n_units, n_cat)
        fb = feedback[t]
        if fb < 0:
            continue
        _softmax(log_a, rho, n_units, fb, m_units)
        for j in range(n_units):
            e, q = _error(r, rho, w, p, fb, j, generative)
            m = 0.0
            for d in range(d_feat):
                dvec[d] = xt[d] - mu[j, d]
                m += z[j, d] * z[j, d]
            for d in range(d_feat):
                mu[j, d] = min(max(mu[j, d] - lr_mu * e * dvec[d], box[0, d]), box[1, d])
            _step_covariance(sigma[j], dvec, m, min(lr_cov * e, MAX_AWAY), d_feat)
            _project_band(sigma[j], lo, hi, scratch, values, vectors, d_feat)
            _step_weights(w, counts, j, fb, q, lr_w, n_cat)


@nb.njit(cache=True)
def _learner_2d(x, feedback, n_t, out, rates, start, rule):  # pragma: no cover - compiled
    """:func:`_learner` for D = 2 in closed form: the determinant instead of a Cholesky factor,
    the eigenvalues of a 2 x 2 matrix instead of Jacobi sweeps (the same numbers to rounding)."""
    means0, var0, band, box = start
    generative, m_units, n_cat = rule
    lr_mu, lr_cov, lr_w = rates
    lo, hi = band
    n_units = means0.shape[0]
    mu = means0.copy()
    # the covariances as (s00, s01, s11)
    cov = np.zeros((n_units, 3))
    for j in range(n_units):
        cov[j, 0] = var0
        cov[j, 2] = var0
    w = np.full((n_cat, n_units), 1.0 / n_cat)
    counts = np.full(n_units, PRIOR_COUNT)
    log_a = np.empty(n_units)
    maha = np.empty(n_units)
    r = np.empty(n_units)
    rho = np.empty(n_units)
    p = np.empty(n_cat)
    norm = 2.0 * _LOG_2PI
    for t in range(n_t):
        x0 = x[t, 0]
        x1 = x[t, 1]
        for j in range(n_units):
            s00, s01, s11 = cov[j, 0], cov[j, 1], cov[j, 2]
            d0 = x0 - mu[j, 0]
            d1 = x1 - mu[j, 1]
            det = s00 * s11 - s01 * s01
            m = (s11 * d0 * d0 - 2.0 * s01 * d0 * d1 + s00 * d1 * d1) / det
            maha[j] = m
            log_a[j] = -0.5 * (m + math.log(det) + norm)
        _softmax(log_a, r, n_units, -1, m_units)
        _write_logits(w, r, p, out[t], n_units, n_cat)
        fb = feedback[t]
        if fb < 0:
            continue
        _softmax(log_a, rho, n_units, fb, m_units)
        for j in range(n_units):
            e, q = _error(r, rho, w, p, fb, j, generative)
            d0 = x0 - mu[j, 0]
            d1 = x1 - mu[j, 1]
            mu[j, 0] = min(max(mu[j, 0] - lr_mu * e * d0, box[0, 0]), box[1, 0])
            mu[j, 1] = min(max(mu[j, 1] - lr_mu * e * d1, box[0, 1]), box[1, 1])
            s = min(lr_cov * e, MAX_AWAY)
            s00, s01, s11 = cov[j, 0], cov[j, 1], cov[j, 2]
            if s < 0.0:
                a = -s
                s00 = (1.0 - a) * s00 + a * d0 * d0
                s01 = (1.0 - a) * s01 + a * d0 * d1
                s11 = (1.0 - a) * s11 + a * d1 * d1
            elif s > 0.0:
                c = s / (1.0 - s + s * maha[j])
                scale = 1.0 / (1.0 - s)
                s00 = (s00 - c * d0 * d0) * scale
                s01 = (s01 - c * d0 * d1) * scale
                s11 = (s11 - c * d1 * d1) * scale
            cov[j, 0], cov[j, 1], cov[j, 2] = _project_band_2d(s00, s01, s11, lo, hi)
            _step_weights(w, counts, j, fb, q, lr_w, n_cat)


@nb.njit(cache=True, inline="always")
def _project_band_2d(s00, s01, s11, lo, hi):  # pragma: no cover - compiled
    """:func:`_project_band` of the 2 x 2 matrix [[s00, s01], [s01, s11]]."""
    half = 0.5 * (s00 - s11)
    rad2 = half * half + s01 * s01
    mid = 0.5 * (s00 + s11)
    # inside the band iff mid - rad >= lo' and mid + rad <= hi' (rad the eigenvalues' half
    # gap): compared squared, so the usual trial, inside the band, takes no square root
    above_lo = mid - lo * (1.0 - BAND_SLACK)
    below_hi = hi * (1.0 + BAND_SLACK) - mid
    if above_lo >= 0.0 and below_hi >= 0.0 and min(above_lo, below_hi) ** 2 >= rad2:
        return s00, s01, s11
    rad = math.sqrt(rad2)
    big, small = mid + rad, mid - rad
    big_c = min(max(big, lo), hi)
    small_c = min(max(small, lo), hi)
    if rad == 0.0:
        return big_c, 0.0, big_c
    # the unit eigenvector of the larger eigenvalue, from whichever column is better scaled
    if half >= 0.0:
        v0, v1 = half + rad, s01
    else:
        v0, v1 = s01, rad - half
    inv = 1.0 / math.sqrt(v0 * v0 + v1 * v1)
    v0 *= inv
    v1 *= inv
    gap = big_c - small_c
    return small_c + gap * v0 * v0, gap * v0 * v1, small_c + gap * v1 * v1


@nb.njit(parallel=True, cache=True)
def _rollout(x, feedback, n_trials, index, rates, means0, box, settings, out):  # pragma: no cover
    """Every learner, one per ``prange`` iteration. ``rates`` (L, 3): lr_mu, lr_cov, lr_w;
    ``settings``: starting variance, band (lo, hi), generative weight, units per category,
    categories. Padded trials get zero logits."""
    t_max, d_feat = x.shape[1], x.shape[2]
    for l in nb.prange(index.shape[0]):
        # tuples are built inside the loop: numba's parallel loops take arrays and scalars
        start = (means0, settings[0], (settings[1], settings[2]), box)
        rule = (settings[3], int(settings[4]), int(settings[5]))
        row = index[l]
        n_t = min(n_trials[row], t_max)
        rate = (rates[l, 0], rates[l, 1], rates[l, 2])
        if d_feat == 2:
            _learner_2d(x[row], feedback[row], n_t, out[l], rate, start, rule)
        else:
            _learner(x[row], feedback[row], n_t, out[l], rate, start, rule)
        for t in range(n_t, t_max):
            for k in range(out.shape[2]):
                out[l, t, k] = 0.0


def gaussian_natural_logits(
    batch,
    index: np.ndarray,
    values,
    *,
    means: np.ndarray,
    variance: float,
    band: tuple[float, float],
    mean_box: tuple[np.ndarray, np.ndarray],
    generative: float,
    units_per_category: int,
) -> np.ndarray:
    """Logits (L, T, K) of the default Gaussian learner; zero on padded trials.

    Parameters
    ----------
    batch
        The :class:`~catmodel.data.TrialBatch`.
    index
        (L,) batch row of each learner.
    values
        ``lr_mu``, ``lr_cov`` and ``lr_w``, each (L,).
    means
        (J, D) starting means, J = K * ``units_per_category``.
    variance
        Starting variance of every unit along every axis (the covariances start isotropic).
    band
        (lo, hi): every covariance's eigenvalues are kept in [lo, hi].
    mean_box
        (low, high), each (D,): the box the means are clamped to.
    generative
        Weight of the generative term in the error signal.
    units_per_category
        Units per category, M.
    """
    x, feedback, n_trials = batch_arrays(batch)
    rates = np.ascontiguousarray(
        np.stack(
            [np.broadcast_to(values[k], (len(index),)) for k in ("lr_mu", "lr_cov", "lr_w")], 1
        ),
        dtype=np.float64,
    )
    out = np.empty((len(index), x.shape[1], batch.n_categories))
    settings = np.array(
        [variance, band[0], band[1], generative, units_per_category, batch.n_categories],
        dtype=np.float64,
    )
    _rollout(
        x,
        feedback,
        n_trials,
        np.ascontiguousarray(index, dtype=np.int64),
        rates,
        np.ascontiguousarray(means, dtype=np.float64),
        np.ascontiguousarray(np.stack(mean_box), dtype=np.float64),
        settings,
        out,
    )
    return out
