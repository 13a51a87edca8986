"""Compiled CPU rollout of the prototype learner (:mod:`catmodel.models.prototype`).

Same operations in the same order as :meth:`Prototype.step`, one learner per ``prange``
iteration with its prototypes in a small local array. Also home of the small helpers the
similarity kernels share (the rule for categories without a representation).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import batch_arrays

_FASTMATH = {"contract", "reassoc", "nsz", "arcp"}

# exp(x) = 2^k exp(r), x = k ln 2 + r, |r| <= ln 2 / 2 (Cody-Waite: ln 2 in two parts)
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
#: below this argument exp(x) < 2^-1021 is returned as ~2^-1021 * exp(r) (never 0 or subnormal)
_EXP_FLOOR = -708.0


@nb.njit(cache=True, fastmath={"contract"})
def exp_nonpositive(x, out, bits, n):  # pragma: no cover - compiled
    """``out[j] = exp(x[j])`` for ``j < n`` and ``x[j] <= 0``, in two vectorisable loops.

    The similarity kernels spend half their time in ``exp``, which without Intel's SVML the
    compiler calls element by element (about 4 ns each). Written out (range reduction, a
    degree-13 Taylor polynomial, then the power of two built in the exponent bits of ``bits``,
    an int64 scratch array of at least ``n``), the loops vectorise: about 1 ns per element,
    within 1 ulp of the libm result. Compiled without reassociation, which would fold the
    two-part ln 2 and lose accuracy. Arguments below -708 (results under 3e-308) are clamped,
    so such results are about 2^-1021 instead of a subnormal or 0: nothing the models compute
    with them can tell the difference.
    """
    for j in range(n):
        v = max(x[j], _EXP_FLOOR)
        k = math.floor(v * _LOG2E + 0.5)
        r = (v - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        out[j] = p
        bits[j] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for j in range(n):
        out[j] = out[j] * scale[j]


@nb.njit(cache=True, inline="always")
def fill_missing(logits, has, n_cat):  # pragma: no cover - compiled
    """In place: categories without a representation get the mean logit of those with one;
    with none, every logit is 0 (as :func:`catmodel.models.similarity.fill_missing`)."""
    total = 0.0
    n_has = 0
    for k in range(n_cat):
        if has[k]:
            total += logits[k]
            n_has += 1
    mean = total / max(n_has, 1)
    for k in range(n_cat):
        if not has[k]:
            logits[k] = mean


@nb.njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _rollout(x, feedback, n_trials, index, w, lr, r, delta, n_cat, out):  # pragma: no cover
    n_learners = index.shape[0]
    t_max = x.shape[1]
    d_feat = x.shape[2]
    for l in nb.prange(n_learners):
        row = index[l]
        proto = np.zeros((n_cat, d_feat))
        count = np.zeros(n_cat)
        has = np.zeros(n_cat, dtype=np.bool_)
        logits = np.zeros(n_cat)
        for t in range(min(n_trials[row], t_max)):
            for k in range(n_cat):
                has[k] = count[k] > 0.0
                acc = 0.0
                for d in range(d_feat):
                    diff = abs(x[row, t, d] - proto[k, d])
                    if r == 1:
                        acc += w[l, d] * diff
                    else:
                        acc += w[l, d] * diff * diff
                if r == 1:
                    logits[k] = -acc
                else:
                    logits[k] = -math.sqrt(acc)
            fill_missing(logits, has, n_cat)
            for k in range(n_cat):
                out[l, t, k] = logits[k]
            fb = feedback[row, t]
            if fb < 0:
                continue
            if delta:
                rate = lr[l] if has[fb] else 1.0
            else:
                rate = 1.0 / (count[fb] + 1.0)
            for d in range(d_feat):
                proto[fb, d] = proto[fb, d] + rate * (x[row, t, d] - proto[fb, d])
            count[fb] += 1.0


def prototype_logits(
    batch, index: np.ndarray, w: np.ndarray, lr: np.ndarray, *, r: int, delta: bool
) -> np.ndarray:
    """Logits (L, T, K) of the prototype learner; zero on padded trials.

    Parameters
    ----------
    batch
        The :class:`~catmodel.data.TrialBatch`.
    index
        (L,) batch row of each learner.
    w
        (L, D) attention weights.
    lr
        (L,) delta-rule rates (ignored unless ``delta``).
    r
        Minkowski exponent (1 or 2).
    delta
        Delta-rule instead of count-based prototypes.
    """
    x, feedback, n_trials = batch_arrays(batch)
    out = np.zeros((len(index), x.shape[1], batch.n_categories))
    _rollout(x, feedback, n_trials, np.ascontiguousarray(index, dtype=np.int64),
             np.ascontiguousarray(w, dtype=np.float64), np.ascontiguousarray(lr, np.float64),
             int(r), bool(delta), int(batch.n_categories), out)
    return out
