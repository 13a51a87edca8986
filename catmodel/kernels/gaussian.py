"""Compiled CPU rollout of the Gaussian learner (spectral covariance), for forward-only use.

It computes exactly what :meth:`catmodel.models.gaussian.Gaussian.step` computes, in the same
order of operations, for all learners in parallel (numba ``prange``) with each learner's state
kept in small local arrays. The contract tests check it against the step function to 1e-10.
Eager PyTorch pays per-operation overhead on tensors of a few elements per learner; fused here,
one learner-trial costs a few hundred floating-point operations.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import batch_arrays


@nb.njit(parallel=True, cache=True, fastmath={'contract', 'reassoc', 'nsz', 'arcp'})
def _rollout(
    x, feedback, n_trials, index, lr_mu, lr_cov, lr_w, means0, eta0, lo, hi, gain, box_lo, box_hi,
    momentum, generative, m_units, n_cat, plane_p, plane_q, out,
):  # pragma: no cover - compiled
    n_learners = index.shape[0]
    t_max = x.shape[1]
    d_feat = x.shape[2]
    n_units = means0.shape[0]
    n_planes = plane_p.shape[0]
    span = hi - lo
    eta_limit = 10.0 / gain
    dlog = span * gain
    log2pi = math.log(2.0 * math.pi)
    two_pi = 2.0 * math.pi
    for l in nb.prange(n_learners):
        row = index[l]
        mu = means0.copy()
        eta = np.full((n_units, d_feat), eta0)
        theta = np.zeros((n_units, max(n_planes, 1)))
        w = np.zeros((n_cat, n_units))
        b_mu = np.zeros((n_units, d_feat))
        b_eta = np.zeros((n_units, d_feat))
        b_theta = np.zeros((n_units, max(n_planes, 1)))
        b_w = np.zeros((n_cat, n_units))
        u = np.zeros((n_units, d_feat))
        inv_var = np.zeros((n_units, d_feat))
        sig = np.zeros((n_units, d_feat))
        cs = np.zeros((n_units, max(n_planes, 1)))
        sn = np.zeros((n_units, max(n_planes, 1)))
        log_a = np.zeros(n_units)
        a = np.zeros(n_units)
        logits = np.zeros(n_cat)
        delta = np.zeros(n_cat)
        g = np.zeros(d_feat)
        outv = np.zeros(d_feat)
        for t in range(min(n_trials[row], t_max)):
            # densities of the stimulus under every unit
            for j in range(n_units):
                for d in range(d_feat):
                    u[j, d] = x[row, t, d] - mu[j, d]
                for r in range(n_planes):
                    c = math.cos(theta[j, r])
                    s = math.sin(theta[j, r])
                    cs[j, r] = c
                    sn[j, r] = s
                    p = plane_p[r]
                    q = plane_q[r]
                    up = u[j, p]
                    uq = u[j, q]
                    u[j, p] = c * up + s * uq
                    u[j, q] = -s * up + c * uq
                maha = 0.0
                logdet = 0.0
                for d in range(d_feat):
                    sg = 1.0 / (1.0 + math.exp(-gain * eta[j, d]))
                    sig[j, d] = sg
                    lv = lo + span * sg
                    iv = math.exp(-lv)
                    inv_var[j, d] = iv
                    maha += u[j, d] * u[j, d] * iv
                    logdet += lv
                log_a[j] = -0.5 * (maha + logdet + d_feat * log2pi)
                a[j] = math.exp(log_a[j])
            for k in range(n_cat):
                acc = 0.0
                for j in range(n_units):
                    acc += w[k, j] * a[j]
                logits[k] = acc
                out[l, t, k] = acc
            fb = feedback[row, t]
            if fb < 0:
                continue
            # learner's own softmax and cross-entropy gradient
            mx = logits[0]
            for k in range(1, n_cat):
                mx = max(mx, logits[k])
            z = 0.0
            for k in range(n_cat):
                delta[k] = math.exp(logits[k] - mx)
                z += delta[k]
            for k in range(n_cat):
                delta[k] = delta[k] / z - (1.0 if k == fb else 0.0)
            # responsibilities of the feedback category's units (generative term)
            own_lo = fb * m_units
            own_max = log_a[own_lo]
            for j in range(own_lo, own_lo + m_units):
                own_max = max(own_max, log_a[j])
            own_z = 0.0
            for j in range(own_lo, own_lo + m_units):
                own_z += math.exp(log_a[j] - own_max)
            for j in range(n_units):
                e = 0.0
                for k in range(n_cat):
                    e += w[k, j] * delta[k]
                e *= a[j]
                if generative > 0.0 and own_lo <= j < own_lo + m_units:
                    e -= generative * (math.exp(log_a[j] - own_max) / own_z)
                for d in range(d_feat):
                    ud = u[j, d]
                    iv = inv_var[j, d]
                    sg = sig[j, d]
                    g_eta = -0.5 * e * (1.0 - ud * ud * iv) * (dlog * sg * (1.0 - sg))
                    b_eta[j, d] = momentum * b_eta[j, d] + g_eta
                    g[d] = -e * ud * iv
                    outv[d] = ud
                for r in range(n_planes - 1, -1, -1):
                    p = plane_p[r]
                    q = plane_q[r]
                    c = cs[j, r]
                    s = sn[j, r]
                    g_th = g[p] * outv[q] - g[q] * outv[p]
                    b_theta[j, r] = momentum * b_theta[j, r] + g_th
                    gp = g[p]
                    gq = g[q]
                    g[p] = c * gp - s * gq
                    g[q] = s * gp + c * gq
                    op = outv[p]
                    oq = outv[q]
                    outv[p] = c * op - s * oq
                    outv[q] = s * op + c * oq
                for d in range(d_feat):
                    b_mu[j, d] = momentum * b_mu[j, d] - g[d]
                    v = mu[j, d] - lr_mu[l] * b_mu[j, d]
                    mu[j, d] = min(max(v, box_lo[d]), box_hi[d])
                    v = eta[j, d] - lr_cov[l] * b_eta[j, d]
                    eta[j, d] = min(max(v, -eta_limit), eta_limit)
                for r in range(n_planes):
                    v = theta[j, r] - lr_cov[l] * b_theta[j, r]
                    theta[j, r] = ((v + math.pi) % two_pi) - math.pi
            for k in range(n_cat):
                for j in range(n_units):
                    b_w[k, j] = momentum * b_w[k, j] + delta[k] * a[j]
                    w[k, j] = w[k, j] - lr_w[l] * b_w[k, j]


def gaussian_logits(
    batch,
    index: np.ndarray,
    values,
    *,
    means: np.ndarray,
    eta0: float,
    log_var_bounds: tuple[float, float],
    gain: float,
    mean_box: tuple[np.ndarray, np.ndarray],
    momentum: float,
    generative: float,
    units_per_category: int,
) -> np.ndarray:
    """Logits (L, T, K) of the Gaussian learner for learners ``index`` with ``values``."""
    x, feedback, n_trials = batch_arrays(batch)
    d = x.shape[2]
    plane_p = np.array([p for p in range(d) for _ in range(p + 1, d)], dtype=np.int64)
    plane_q = np.array([q for p in range(d) for q in range(p + 1, d)], dtype=np.int64)
    out = np.zeros((len(index), x.shape[1], batch.n_categories))
    _rollout(
        x, feedback, n_trials, np.ascontiguousarray(index, dtype=np.int64),
        np.ascontiguousarray(values["lr_mu"]), np.ascontiguousarray(values["lr_cov"]),
        np.ascontiguousarray(values["lr_w"]), np.ascontiguousarray(means, dtype=np.float64),
        float(eta0), float(log_var_bounds[0]), float(log_var_bounds[1]), float(gain),
        np.ascontiguousarray(mean_box[0], dtype=np.float64),
        np.ascontiguousarray(mean_box[1], dtype=np.float64),
        float(momentum), float(generative), int(units_per_category), int(batch.n_categories),
        plane_p, plane_q, out,
    )
    return out
