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
    p = e_r / z
    dev = logits_t[r] - mean
    big_p = (1.0 - lapse) * p + lapse / n_cat
    d1 = (1.0 - lapse) * p * dev / big_p
    d2 = (1.0 - lapse) * p * (dev * dev - var) / big_p
    return math.log(big_p), d1, d2


@nb.njit(cache=True, inline="always")
def _two_choice_terms(delta, beta, lapse):  # pragma: no cover - compiled
    """:func:`_trial_terms` for two categories, ``delta`` the chosen logit less the other:
    a logistic with one exponential and no normalising sum (a choice pass 27% faster)."""
    z = beta * delta
    if z >= 0.0:
        p = 1.0 / (1.0 + math.exp(-z))
    else:
        e = math.exp(z)
        p = e / (1.0 + e)
    q = 1.0 - p
    dev = q * delta  # the chosen logit less the mean logit under the choice probabilities
    var = p * q * delta * delta
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


@nb.njit(parallel=True, cache=True)
def profile_temperature(
    logits, response, index, lapse, log_beta_lo, log_beta_hi, log_beta_start, tol, max_iter
):  # pragma: no cover - compiled
    """Minimise the NLL over log(1/temperature) in [lo, hi] for every learner.

    Newton steps in s = log beta (scale-free), kept inside a bracket that shrinks with the sign
    of the derivative, falling back to bisection when a step leaves it or the curvature is not
    positive. Returns (nll (L,), log_beta (L,)).
    """
    n = logits.shape[0]
    nll = np.zeros(n)
    best_s = np.zeros(n)
    for l in nb.prange(n):
        row = index[l]
        resp = response[row]
        lo = log_beta_lo
        hi = log_beta_hi
        s = min(max(log_beta_start[l], lo), hi)
        f_best = np.inf
        s_best = s
        for _ in range(max_iter):
            beta = math.exp(s)
            f, g, h = _nll_and_derivatives(logits[l], resp, beta, lapse[l])
            if f < f_best:
                f_best = f
                s_best = s
            gs = g * beta  # derivative in s
            hs = h * beta * beta + g * beta
            if gs > 0.0:
                hi = s
            else:
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
            s = new_s
        # the profile can be monotone: check the bracket's ends it converged towards
        for edge in (log_beta_lo, log_beta_hi):
            if abs(s_best - edge) < 1e-3 or abs(s - edge) < 1e-3:
                f, _, _ = _nll_and_derivatives(logits[l], resp, math.exp(edge), lapse[l])
                if f < f_best:
                    f_best = f
                    s_best = edge
        nll[l] = f_best
        best_s[l] = s_best
    return nll, best_s
