"""Compiled CPU rollout of the prototype learner (:mod:`catmodel.models.prototype`).

Same operations in the same order as :meth:`Prototype.step`, one learner per ``prange``
iteration with its prototypes in a small local array.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import SIMILARITY_FASTMATH, batch_arrays, fill_missing


@nb.njit(parallel=True, cache=True, fastmath=SIMILARITY_FASTMATH)
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
    _rollout(
        x,
        feedback,
        n_trials,
        np.ascontiguousarray(index, dtype=np.int64),
        np.ascontiguousarray(w, dtype=np.float64),
        np.ascontiguousarray(lr, np.float64),
        int(r),
        bool(delta),
        int(batch.n_categories),
        out,
    )
    return out
