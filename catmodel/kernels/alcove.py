"""Compiled CPU rollout of ALCOVE (:mod:`catmodel.models.alcove`).

One learner per ``prange`` iteration. Node positions are laid out (dimension, node) so that the
per-trial loops over the nodes (distances, activations, outputs, weight and attention updates)
run over contiguous memory. With ``nodes="seen"`` only the nodes recruited so far (a prefix,
since nodes are ordered by first presentation) are visited. The operations per node are those
of :meth:`Alcove.step` in the same order, so the two agree to rounding (held to 1e-10 by the
contract tests). With two categories the outputs and the activations' power take one pass over
the nodes, and the back-propagated error and the weight update another (each node's
arithmetic unchanged, so the logits are those of separate passes to the bit; 13-24% less time
on 80 learners x 300 trials of ``ii``). Cost: O(T J (D + K)) per learner for J nodes;
measured on 2 cores before that fusion, 1000 learners x 400 trials of a 2-D continuous task
(J = 400 nodes): 0.43 µs per learner-trial (wall), 0.17 ms per learner; about 0.24 µs with
``nodes="seen"``, 0.6 µs Euclidean. The activations' exp is the vectorised
:func:`catmodel.kernels.common.exp_array`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import SIMILARITY_FASTMATH, batch_arrays, exp_array


@nb.njit(parallel=True, cache=True, fastmath=SIMILARITY_FASTMATH)
def _rollout(
    x,
    feedback,
    n_trials,
    index,
    nodes,
    first,
    n_nodes,
    c,
    lr_w,
    lr_attn,
    r,
    seen,
    weight_limit,
    attention_limit,
    n_cat,
    out,
):  # pragma: no cover - compiled
    n_learners = index.shape[0]
    t_max = x.shape[1]
    d_feat = x.shape[2]
    j_max = nodes.shape[2]
    for l in nb.prange(n_learners):
        row = index[l]
        n = min(n_trials[row], t_max)
        n_row = n_nodes[row]
        h = nodes[row]  # (D, J)
        w = np.zeros((n_cat, j_max))
        attention = np.full(d_feat, 1.0 / d_feat)
        dist = np.zeros(j_max)
        half_inv = np.zeros(j_max)
        a = np.zeros(j_max)
        back = np.zeros(j_max)
        arg = np.zeros(j_max)
        o = np.zeros(n_cat)
        err = np.zeros(n_cat)
        c_l = c[l]
        rate_w = lr_w[l]
        rate_attn = lr_attn[l] * c_l
        n_act = 0 if seen else n_row
        for t in range(n):
            while seen and n_act < n_row and first[row, n_act] <= t:
                n_act += 1
            # distances (attention-weighted, Minkowski r), then activations exp(-c dist)
            for j in range(n_act):
                dist[j] = 0.0
            for d in range(d_feat):
                xd = x[row, t, d]
                ad = attention[d]
                if r == 1:
                    for j in range(n_act):
                        dist[j] += ad * abs(h[d, j] - xd)
                else:
                    for j in range(n_act):
                        diff = abs(h[d, j] - xd)
                        dist[j] += ad * (diff * diff)
            if r == 2:
                for j in range(n_act):
                    root = math.sqrt(dist[j])
                    dist[j] = root
                    # d dist / d alpha = diff^2 / (2 dist), taken as 0 at dist = 0
                    half_inv[j] = 0.5 / root if root > 0.0 else 0.0
            for j in range(n_act):
                arg[j] = -c_l * dist[j]
            exp_array(arg, a, n_act)
            # outputs and the activations' power (for the weight step's limit) in one pass
            power = 0.0
            if n_cat == 2:
                acc0 = 0.0
                acc1 = 0.0
                for j in range(n_act):
                    aj = a[j]
                    acc0 += w[0, j] * aj
                    acc1 += w[1, j] * aj
                    power += aj * aj
                o[0] = acc0
                o[1] = acc1
            else:
                for j in range(n_act):
                    power += a[j] * a[j]
                for k in range(n_cat):
                    acc = 0.0
                    for j in range(n_act):
                        acc += w[k, j] * a[j]
                    o[k] = acc
            for k in range(n_cat):
                out[l, t, k] = o[k]
            fb = feedback[row, t]
            if fb < 0:
                continue
            for k in range(n_cat):
                if k == fb:
                    err[k] = max(o[k], 1.0) - o[k]
                else:
                    err[k] = min(o[k], -1.0) - o[k]
            # the delta rule's no-overshoot limit: the step never exceeds 1 / sum_j a_j^2
            rate = rate_w if rate_w * power <= 1.0 else 1.0 / power
            # back-propagated error per node (with the weights before the update), and the
            # weight update, in one pass
            if n_cat == 2:
                e0 = err[0]
                e1 = err[1]
                s0 = rate * e0
                s1 = rate * e1
                for j in range(n_act):
                    aj = a[j]
                    w0 = w[0, j]
                    w1 = w[1, j]
                    back[j] = (w0 * e0 + w1 * e1) * aj
                    w[0, j] = min(max(w0 + s0 * aj, -weight_limit), weight_limit)
                    w[1, j] = min(max(w1 + s1 * aj, -weight_limit), weight_limit)
            else:
                for j in range(n_act):
                    back[j] = 0.0
                for k in range(n_cat):
                    e = err[k]
                    for j in range(n_act):
                        back[j] += w[k, j] * e
                for k in range(n_cat):
                    step = rate * err[k]
                    for j in range(n_act):
                        v = w[k, j] + step * a[j]
                        w[k, j] = min(max(v, -weight_limit), weight_limit)
                for j in range(n_act):
                    back[j] = back[j] * a[j]
            if r == 2:
                for j in range(n_act):
                    back[j] = back[j] * half_inv[j]
            for d in range(d_feat):
                xd = x[row, t, d]
                g = 0.0
                if r == 1:
                    for j in range(n_act):
                        g += back[j] * abs(h[d, j] - xd)
                else:
                    for j in range(n_act):
                        diff = abs(h[d, j] - xd)
                        g += back[j] * (diff * diff)
                v = attention[d] - rate_attn * g
                attention[d] = min(max(v, 0.0), attention_limit)


def alcove_logits(
    batch,
    index: np.ndarray,
    nodes: np.ndarray,
    n_nodes: np.ndarray,
    specificity: np.ndarray,
    lr_w: np.ndarray,
    lr_attn: np.ndarray,
    *,
    r: int,
    seen: bool,
    weight_limit: float,
    attention_limit: float,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """Logits (L, T, K) of ALCOVE (the outputs o_k); zero on padded trials.

    Parameters
    ----------
    batch
        The :class:`~catmodel.data.TrialBatch`.
    index
        (L,) batch row of each learner.
    nodes, n_nodes
        (R, J, D) node positions of every batch row in order of first presentation, and
        (R,) their numbers (see :func:`catmodel.models.alcove.session_nodes`).
    specificity, lr_w, lr_attn
        (L,) parameters.
    r
        Minkowski exponent (1 or 2).
    seen
        Nodes are recruited at their first presentation (else all active from trial 1).
    weight_limit, attention_limit
        Safeguard clips of the weights and attention strengths.
    first
        (R, J) trial of each node's first presentation (needed when ``seen``).
    """
    x, feedback, n_trials = batch_arrays(batch)
    key = "_alcove_kernel_nodes"
    cached = batch.meta.get(key)
    if cached is None or cached[0] is not nodes:
        cached = (nodes, np.ascontiguousarray(np.transpose(nodes, (0, 2, 1)), dtype=np.float64))
        batch.meta[key] = cached
    nodes_dj = cached[1]
    if first is None:
        first = np.zeros(nodes.shape[:2], dtype=np.int64)
    out = np.zeros((len(index), x.shape[1], batch.n_categories))
    _rollout(
        x,
        feedback,
        n_trials,
        np.ascontiguousarray(index, dtype=np.int64),
        nodes_dj,
        np.ascontiguousarray(first, dtype=np.int64),
        np.ascontiguousarray(n_nodes, np.int64),
        specificity,
        lr_w,
        lr_attn,
        int(r),
        bool(seen),
        float(weight_limit),
        float(attention_limit),
        int(batch.n_categories),
        out,
    )
    return out
