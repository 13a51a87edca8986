"""Compiled CPU rollout of the ideal observer (:mod:`catmodel.models.ideal_observer`).

The operations of :meth:`IdealObserver.step`, one learner per ``prange`` iteration with every
category's normal-inverse-Wishart posterior in small local arrays (coordinates centred on the
prior mean, as in the step function).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import batch_arrays

_LOG_PI = math.log(math.pi)


@nb.njit(cache=True)
def _student_t(xc, kappa, nu, mean, psi, chol, z, d_feat):  # pragma: no cover - compiled
    """Log posterior-predictive density of ``xc`` under one category (model docstring)."""
    dof = nu - d_feat + 1.0
    factor = (kappa + 1.0) / (kappa * dof)
    # Cholesky factor of psi (lower), then z = L^-1 (x - mean)
    log_det = 0.0
    for i in range(d_feat):
        for j in range(i + 1):
            acc = psi[i, j]
            for m in range(j):
                acc -= chol[i, m] * chol[j, m]
            if i == j:
                if acc <= 0.0:
                    return math.nan
                chol[i, i] = math.sqrt(acc)
                log_det += 2.0 * math.log(chol[i, i])
            else:
                chol[i, j] = acc / chol[j, j]
    maha = 0.0
    for i in range(d_feat):
        acc = xc[i] - mean[i]
        for m in range(i):
            acc -= chol[i, m] * z[m]
        z[i] = acc / chol[i, i]
        maha += z[i] * z[i]
    maha /= factor
    log_det += d_feat * math.log(factor)
    return (
        math.lgamma(0.5 * (dof + d_feat))
        - math.lgamma(0.5 * dof)
        - 0.5 * d_feat * (math.log(dof) + _LOG_PI)
        - 0.5 * log_det
        - 0.5 * (dof + d_feat) * math.log1p(maha / dof)
    )


@nb.njit(parallel=True, cache=True)
def _rollout(
    x, feedback, n_trials, index, m0, prior, psi0, keep, alpha, n_cat, out
):  # pragma: no cover
    n_learners = index.shape[0]
    t_max = x.shape[1]
    d_feat = x.shape[2]
    for l in nb.prange(n_learners):
        row = index[l]
        kappa0, nu0 = prior[l, 0], prior[l, 1]
        kappa = np.full(n_cat, kappa0)
        nu = np.full(n_cat, nu0)
        mean = np.zeros((n_cat, d_feat))
        psi = np.zeros((n_cat, d_feat, d_feat))
        for k in range(n_cat):
            psi[k] = psi0[l]
        counts = np.zeros(n_cat)
        xc = np.zeros(d_feat)
        chol = np.zeros((d_feat, d_feat))
        z = np.zeros(d_feat)
        a = keep[l]
        for t in range(min(n_trials[row], t_max)):
            for i in range(d_feat):
                xc[i] = x[row, t, i] - m0[i]
            total = 0.0
            for k in range(n_cat):
                total += counts[k] + alpha
            for k in range(n_cat):
                out[l, t, k] = _student_t(xc, kappa[k], nu[k], mean[k], psi[k], chol, z, d_feat)
                out[l, t, k] += math.log((counts[k] + alpha) / total)
            fb = feedback[row, t]
            if fb < 0:
                continue
            if a != 1.0:  # forgetting: natural parameters eta0 + a (eta - eta0)
                for k in range(n_cat):
                    kappa_new = kappa0 + a * (kappa[k] - kappa0)
                    for i in range(d_feat):
                        z[i] = a * kappa[k] * mean[k, i] / kappa_new
                    for i in range(d_feat):
                        for j in range(d_feat):
                            psi[k, i, j] = (
                                psi0[l, i, j]
                                + a
                                * (
                                    psi[k, i, j]
                                    - psi0[l, i, j]
                                    + kappa[k] * mean[k, i] * mean[k, j]
                                )
                                - kappa_new * z[i] * z[j]
                            )
                    for i in range(d_feat):
                        mean[k, i] = z[i]
                    kappa[k] = kappa_new
                    nu[k] = nu0 + a * (nu[k] - nu0)
                    counts[k] = a * counts[k]
            gain = kappa[fb] / (kappa[fb] + 1.0)
            for i in range(d_feat):
                z[i] = xc[i] - mean[fb, i]
            for i in range(d_feat):
                for j in range(d_feat):
                    psi[fb, i, j] += gain * z[i] * z[j]
            for i in range(d_feat):
                mean[fb, i] = (kappa[fb] * mean[fb, i] + xc[i]) / (kappa[fb] + 1.0)
            kappa[fb] += 1.0
            nu[fb] += 1.0
            counts[fb] += 1.0


def ideal_observer_logits(
    batch,
    index: np.ndarray,
    *,
    prior_mean: np.ndarray,
    kappa0: np.ndarray,
    nu0: np.ndarray,
    psi0: np.ndarray,
    keep: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """Logits (L, T, K) of the ideal observer; zero on padded trials.

    Parameters
    ----------
    batch
        The :class:`~catmodel.data.TrialBatch`.
    index
        (L,) batch row of each learner.
    prior_mean
        (D,) the prior mean m0.
    kappa0, nu0
        (L,) prior pseudo-observations and degrees of freedom.
    psi0
        (L, D, D) prior scale matrices.
    keep
        (L,) share of the evidence kept on each feedback trial (1 without forgetting).
    alpha
        Dirichlet pseudo-count of the category probabilities.
    """
    x, feedback, n_trials = batch_arrays(batch)
    out = np.zeros((len(index), x.shape[1], batch.n_categories))
    _rollout(
        x,
        feedback,
        n_trials,
        np.ascontiguousarray(index, dtype=np.int64),
        np.ascontiguousarray(prior_mean, dtype=np.float64),
        np.ascontiguousarray(np.stack([kappa0, nu0], 1), dtype=np.float64),
        np.ascontiguousarray(psi0, dtype=np.float64),
        np.ascontiguousarray(keep, dtype=np.float64),
        float(alpha),
        int(batch.n_categories),
        out,
    )
    return out
