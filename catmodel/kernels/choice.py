"""Compiled choice-rule likelihoods: the NLL of responses given logits, and the NLL minimised over
the choice temperature (a one-dimensional profile, solved by safeguarded Newton steps).

The temperature enters only the choice rule, never the learner's update, so a rollout's logits
can be reused for every temperature. Profiling it out makes the search over the learning
parameters one dimension smaller at the cost of a few passes over the logits.

Both functions compute exactly :func:`catmodel.models.choice.response_log_likelihood`, which the
tests check.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _trial_terms(logits_t, r, beta, lapse, n_cat):  # pragma: no cover - compiled
    """log P(r), dP/dbeta / P and d2P/dbeta2 / P for one trial (P with lapse)."""
    if n_cat == 2:
        return _two_choice_terms(logits_t[r] - logits_t[1 - r], beta, lapse)
    mx = beta * logits_t[0]
    for k in range(1, n_cat):
        mx = max(mx, beta * logits_t[k])
    z = 0.0
    mean = 0.0
    second = 0.0
    e_r = 0.0
    for k in range(n_cat):
        e = math.exp(beta * logits_t[k] - mx)
        if k == r:
            e_r = e
        z += e
        mean += e * logits_t[k]
        second += e * logits_t[k] * logits_t[k]
    mean /= z
    var = second / z - mean * mean
    dev = logits_t[r] - mean
    if lapse == 0.0:
        # P may underflow to 0: its log from the log-sum-exp, and P'/P without dividing
        return beta * logits_t[r] - mx - math.log(z), dev, dev * dev - var
    p = e_r / z
    big_p = (1.0 - lapse) * p + lapse / n_cat
    w = (1.0 - lapse) * p / big_p
    return math.log(big_p), w * dev, w * (dev * dev - var)


@nb.njit(cache=True, inline="always")
def _two_choice_terms(delta, beta, lapse):  # pragma: no cover - compiled
    """:func:`_trial_terms` for two categories, ``delta`` the chosen logit less the other:
    a logistic with one exponential and no normalising sum (a choice pass 27% faster)."""
    z = beta * delta
    e = math.exp(-abs(z))
    p = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
    q = 1.0 - p
    dev = q * delta  # the chosen logit less the mean logit under the choice probabilities
    var = p * q * delta * delta
    if lapse == 0.0:
        # P may underflow to 0: its log directly, and P'/P without dividing
        return min(z, 0.0) - math.log1p(e), dev, dev * dev - var
    big_p = (1.0 - lapse) * p + 0.5 * lapse
    w = (1.0 - lapse) * p / big_p
    return math.log(big_p), w * dev, w * (dev * dev - var)


@nb.njit(parallel=True, cache=True)
def choice_nll(logits, response, index, beta, lapse):  # pragma: no cover - compiled
    """NLL (L,) of responses ``response[index[l]]`` under logits (L, T, K) at 1/temperature."""
    n, t_max, n_cat = logits.shape
    out = np.zeros(n)
    for l in nb.prange(n):
        row = index[l]
        acc = 0.0
        for t in range(t_max):
            r = response[row, t]
            if r < 0:
                continue
            lp, _, _ = _trial_terms(logits[l, t], r, beta[l], lapse[l], n_cat)
            acc -= lp
        out[l] = acc
    return out


@nb.njit(cache=True)
def _nll_and_derivatives(logits_l, response_row, beta, lapse):  # pragma: no cover - compiled
    t_max, n_cat = logits_l.shape
    f = 0.0
    g = 0.0
    h = 0.0
    for t in range(t_max):
        r = response_row[t]
        if r < 0:
            continue
        lp, d1, d2 = _trial_terms(logits_l[t], r, beta, lapse, n_cat)
        f -= lp
        g -= d1
        h -= d2 - d1 * d1
    return f, g, h


@nb.njit(cache=True)
def _newton_in_log_beta(logits_l, resp, lapse, lo, hi, s, tol, max_iter):  # pragma: no cover
    """Safeguarded Newton steps in s = log beta from ``s`` inside [lo, hi]: the best NLL seen,
    where, and the last point."""
    f_best = np.inf
    s_best = s
    for _ in range(max_iter):
        beta = math.exp(s)
        f, g, h = _nll_and_derivatives(logits_l, resp, beta, lapse)
        if f < f_best:
            f_best = f
            s_best = s
        gs = g * beta  # derivative in s
        hs = h * beta * beta + g * beta
        # a derivative of exactly 0 with no curvature is a saturated choice rule (every
        # chosen probability 0 or 1 in floating point), which says nothing of the side the
        # minimum lies on: keep the bracket and look at its middle
        if gs > 0.0:
            hi = s
        elif gs < 0.0:
            lo = s
        if hi - lo < tol:
            break
        if hs > 0.0:
            step = gs / hs
            new_s = s - step
            if abs(step) < tol:
                break
        else:
            new_s = 0.5 * (lo + hi)
        if not (lo < new_s < hi):
            new_s = 0.5 * (lo + hi)
        if new_s == s:
            break
        s = new_s
    return f_best, s_best, s


@nb.njit(parallel=True, cache=True)
def profile_temperature(
    logits, response, index, lapse, log_beta_lo, log_beta_hi, log_beta_start, tol, max_iter
):  # pragma: no cover - compiled
    """Minimise the NLL over log(1/temperature) in [lo, hi] for every learner.

    Newton steps in s = log beta (scale-free), kept inside a bracket that shrinks with the sign
    of the derivative, falling back to bisection when a step leaves it or the curvature is not
    positive; a result at the largest beta, where a lapse makes the NLL flat, is checked
    against a second search from the smallest. Returns (nll (L,), log_beta (L,)).
    """
    n = logits.shape[0]
    nll = np.zeros(n)
    best_s = np.zeros(n)
    lo = log_beta_lo
    hi = log_beta_hi
    for l in nb.prange(n):
        logits_l = logits[l]
        resp = response[index[l]]
        start = min(max(log_beta_start[l], lo), hi)
        f_best, s_best, s = _newton_in_log_beta(
            logits_l, resp, lapse[l], lo, hi, start, tol, max_iter
        )
        # with a lapse the NLL need not have one minimum: where every choice saturates (the
        # largest 1/temperature) it is flat and falls slowly toward the box's end, so Newton
        # steps that end there may have missed a minimum inside. When near-uniform choices
        # (the other end) explain the responses better than that end, start again from there.
        if abs(s_best - hi) < 1e-3:
            f_lo, _, _ = _nll_and_derivatives(logits_l, resp, math.exp(lo), lapse[l])
            if f_lo < f_best:
                f2, s2, last2 = _newton_in_log_beta(
                    logits_l, resp, lapse[l], lo, hi, lo, tol, max_iter
                )
                if f2 < f_best:
                    f_best, s_best, s = f2, s2, last2
        # the profile can be monotone: check the bracket's ends it converged towards
        for edge in (lo, hi):
            if abs(s_best - edge) < 1e-3 or abs(s - edge) < 1e-3:
                f, _, _ = _nll_and_derivatives(logits_l, resp, math.exp(edge), lapse[l])
                if f < f_best:
                    f_best = f
                    s_best = edge
        nll[l] = f_best
        best_s[l] = s_best
    return nll, best_s
