"""Compiled CPU rollout of the Gaussian learner (spectral covariance), for forward-only use.

It computes what :meth:`catmodel.models.gaussian.Gaussian.step` computes, with the same
operations up to the order of a few sums (the contract tests hold the two to 1e-10), for many
learners at once.

Learners run in lockstep blocks of up to :data:`LANES`: every piece of state is an array whose
last axis is the learner within the block (e.g. means (J, D, LANES)), and every arithmetic loop
runs innermost over that axis, so that the compiler turns it into SIMD instructions over
learners. The exp, sin and cos inside those loops are the polynomial ones of
:mod:`catmodel.kernels.common` (libm's, without SVML, are called one element at a time and
keep a loop from vectorising). A learner whose trial has no feedback, or lies past its last
trial, computes the update like the others and keeps its old state (a select per element), so
the lanes never branch apart.

One trial of one block is a long chain of dependent steps (densities, softmax, gradient, update,
next trial's densities), so a block must hold many learners for the SIMD units to have
independent work while each step waits for the previous one: 64 lanes run about 1.7 times as
fast per learner as 16. A block costs the same however many of its lanes hold a learner; a few
learners left over (fewer than :data:`MIN_BLOCK`) therefore run one by one, through the same
code compiled for a single lane (with libm's exp, which is the faster one element at a time).

Quantities that depend only on the state (sigmoid of ``eta``, inverse variances, the log
normaliser, cos and sin of the angles) are computed right after each update instead of at the
start of the next trial: the same values, without the work on trials without learning.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from catmodel.kernels.common import batch_arrays, exp_poly, sincos_poly

#: learners per lockstep block (eight AVX-512 vectors of doubles)
LANES = 64
#: the fewest learners run as a block; fewer run one at a time (one trial of a block costs
#: about as much as one trial of 12 learners one at a time, at D = 2 and at D = 4)
MIN_BLOCK = 12
# No 'reassoc': the loops run across learners, not along sums, so they need none to vectorise,
# and without it the sums keep the step function's order.
_FASTMATH = {"contract", "nsz", "arcp"}
_LOG_2PI = math.log(2.0 * math.pi)
_PI = math.pi
_TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, fastmath={"contract"})
def _exp(x, simd):  # pragma: no cover - compiled
    # ``simd`` is a compile-time constant of each caller, so the branch is folded away. One
    # element at a time, libm's exp (a table and a short polynomial) is the faster.
    return exp_poly(x) if simd else math.exp(x)


@nb.njit(cache=True)
def _wrap_angle(v):  # pragma: no cover - compiled
    """``((v + pi) % 2 pi) - pi`` (Python's %, like ``torch.remainder``) without ``fmod``, which
    is a libm call and would keep the loop from vectorising; and whether that is exact.

    fmod(s, 2 pi) of s = v + pi is s itself on [0, 2 pi) and s - 2 pi on [2 pi, 4 pi) (exact:
    Sterbenz); on [-2 pi, 0) Python's % adds 2 pi to fmod's s, one rounding done alike here.
    Outside [-2 pi, 4 pi) the result is not that of %: the second value is then False.
    """
    s = v + _PI
    wrapped = s - _TWO_PI if s >= _TWO_PI else s
    wrapped = s + _TWO_PI if s < 0.0 else wrapped
    return wrapped - _PI, (s >= -_TWO_PI) & (s < 2.0 * _TWO_PI)


def _compile_lanes(lanes: int):
    """The rollout of up to ``lanes`` consecutive learners in lockstep, compiled for that width.

    A closure over ``lanes``, so that every loop over the lanes has a trip count known to the
    compiler (and, for one lane, disappears).
    """
    simd = lanes > 1

    @nb.njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
    def rollout_lanes(
        first,
        n_active,
        x,
        feedback,
        n_trials,
        index,
        lr_mu,
        lr_cov,
        lr_w,
        means0,
        eta0,
        lo,
        hi,
        gain,
        eta_limit,
        box_lo,
        box_hi,
        momentum,
        generative,
        m_units,
        n_cat,
        plane_p,
        plane_q,
        out,
    ):  # pragma: no cover - compiled
        t_max = x.shape[1]
        d_feat = x.shape[2]
        n_units = means0.shape[0]
        n_planes = plane_p.shape[0]
        span = hi - lo
        dlog = span * gain
        norm_const = d_feat * _LOG_2PI

        # lanes past n_active repeat the last learner, see no trial and write nothing
        rows = np.empty(lanes, np.int64)
        n_t = np.empty(lanes, np.int64)
        rate_mu = np.empty(lanes)
        rate_cov = np.empty(lanes)
        rate_w = np.empty(lanes)
        t_end = 0
        for b in range(lanes):
            l = first + min(b, n_active - 1)
            rows[b] = index[l]
            n_t[b] = min(n_trials[rows[b]], t_max) if b < n_active else 0
            t_end = max(t_end, n_t[b])
            rate_mu[b] = lr_mu[l]
            rate_cov[b] = lr_cov[l]
            rate_w[b] = lr_w[l]

        # the state and its momentum buffers
        mu = np.empty((n_units, d_feat, lanes))
        eta = np.empty((n_units, d_feat, lanes))
        theta = np.zeros((n_units, n_planes, lanes))
        w = np.zeros((n_cat, n_units, lanes))
        b_mu = np.zeros((n_units, d_feat, lanes))
        b_eta = np.zeros((n_units, d_feat, lanes))
        b_theta = np.zeros((n_units, n_planes, lanes))
        b_w = np.zeros((n_cat, n_units, lanes))
        # functions of the state: sigmoid(gain eta), 1 / variance, sum of log variances plus
        # D log 2 pi, and cos, sin of the angles
        sig = np.empty((n_units, d_feat, lanes))
        inv_var = np.empty((n_units, d_feat, lanes))
        norm = np.empty((n_units, lanes))
        cs = np.ones((n_units, n_planes, lanes))
        sn = np.zeros((n_units, n_planes, lanes))
        # scratch of one trial
        fb = np.empty(lanes, np.int64)
        xt = np.empty((d_feat, lanes))
        u = np.empty((n_units, d_feat, lanes))
        log_a = np.empty((n_units, lanes))
        a = np.empty((n_units, lanes))
        logits = np.empty((n_cat, lanes))
        delta = np.empty((n_cat, lanes))
        e = np.empty((n_units, lanes))
        resp = np.empty((n_units, lanes))
        top = np.empty(lanes)
        total = np.empty(lanes)
        g = np.empty((d_feat, lanes))
        back = np.empty((d_feat, lanes))
        g_eta = np.empty((d_feat, lanes))
        g_theta = np.empty((n_planes, lanes))
        stepped = np.empty((n_planes, lanes))

        # every unit starts isotropic, with the same eigenvalues
        sig0 = 1.0 / (1.0 + _exp(-gain * eta0, simd))
        log_var0 = lo + span * sig0
        inv_var0 = _exp(-log_var0, simd)
        for j in range(n_units):
            for b in range(lanes):
                norm[j, b] = norm_const
            for d in range(d_feat):
                for b in range(lanes):
                    mu[j, d, b] = means0[j, d]
                    eta[j, d, b] = eta0
                    sig[j, d, b] = sig0
                    inv_var[j, d, b] = inv_var0
                    norm[j, b] += log_var0

        for t in range(t_end):
            # feedback -1: no learning (also for lanes past their last trial)
            n_learn = 0
            for b in range(lanes):
                f = feedback[rows[b], t] if t < n_t[b] else -1
                fb[b] = f
                n_learn += f >= 0
            for d in range(d_feat):
                for b in range(lanes):
                    xt[d, b] = x[rows[b], t, d]

            # log densities of the stimulus under every unit (Spectral.log_density)
            for j in range(n_units):
                for d in range(d_feat):
                    for b in range(lanes):
                        u[j, d, b] = xt[d, b] - mu[j, d, b]
                for r in range(n_planes):
                    p = plane_p[r]
                    q = plane_q[r]
                    for b in range(lanes):
                        c = cs[j, r, b]
                        s = sn[j, r, b]
                        up = u[j, p, b]
                        uq = u[j, q, b]
                        u[j, p, b] = c * up + s * uq
                        u[j, q, b] = -s * up + c * uq
                for b in range(lanes):
                    log_a[j, b] = 0.0
                for d in range(d_feat):
                    for b in range(lanes):
                        log_a[j, b] += u[j, d, b] * u[j, d, b] * inv_var[j, d, b]
                for b in range(lanes):
                    la = -0.5 * (log_a[j, b] + norm[j, b])
                    log_a[j, b] = la
                    a[j, b] = _exp(la, simd)
            for k in range(n_cat):
                for b in range(lanes):
                    logits[k, b] = 0.0
                for j in range(n_units):
                    for b in range(lanes):
                        logits[k, b] += w[k, j, b] * a[j, b]
                for b in range(lanes):
                    if b < n_active:
                        out[first + b, t, k] = logits[k, b] if t < n_t[b] else 0.0
            if n_learn == 0:
                continue

            # the learner's own softmax and cross-entropy gradient
            for b in range(lanes):
                top[b] = logits[0, b]
            for k in range(1, n_cat):
                for b in range(lanes):
                    top[b] = max(top[b], logits[k, b])
            for b in range(lanes):
                total[b] = 0.0
            for k in range(n_cat):
                for b in range(lanes):
                    ex = _exp(logits[k, b] - top[b], simd)
                    delta[k, b] = ex
                    total[b] += ex
            for k in range(n_cat):
                for b in range(lanes):
                    delta[k, b] = delta[k, b] / total[b] - (1.0 if fb[b] == k else 0.0)
            # e = dLoss / dlog a_j
            for j in range(n_units):
                for b in range(lanes):
                    e[j, b] = 0.0
                for k in range(n_cat):
                    for b in range(lanes):
                        e[j, b] += w[k, j, b] * delta[k, b]
                for b in range(lanes):
                    e[j, b] *= a[j, b]
            if generative > 0.0:
                # responsibilities of the feedback category's units (softmax of their log_a)
                for b in range(lanes):
                    top[b] = -np.inf
                for j in range(n_units):
                    cat = j // m_units
                    for b in range(lanes):
                        top[b] = max(top[b], log_a[j, b]) if fb[b] == cat else top[b]
                for b in range(lanes):
                    total[b] = 0.0
                for j in range(n_units):
                    cat = j // m_units
                    for b in range(lanes):
                        ex = _exp(log_a[j, b] - top[b], simd) if fb[b] == cat else 0.0
                        resp[j, b] = ex
                        total[b] += ex
                for j in range(n_units):
                    for b in range(lanes):
                        e[j, b] -= generative * (resp[j, b] / total[b])

            # per unit: the closed-form gradients (Spectral.backward), then one SGD(+momentum)
            # step, kept only where the lane learns, and the functions of the new state
            for j in range(n_units):
                for d in range(d_feat):
                    for b in range(lanes):
                        ud = u[j, d, b]
                        iv = inv_var[j, d, b]
                        sg = sig[j, d, b]
                        g_eta[d, b] = (
                            -0.5 * e[j, b] * (1.0 - ud * ud * iv) * (dlog * sg * (1.0 - sg))
                        )
                        g[d, b] = -e[j, b] * ud * iv
                        back[d, b] = ud
                for r in range(n_planes - 1, -1, -1):
                    p = plane_p[r]
                    q = plane_q[r]
                    for b in range(lanes):
                        c = cs[j, r, b]
                        s = sn[j, r, b]
                        gp = g[p, b]
                        gq = g[q, b]
                        op = back[p, b]
                        oq = back[q, b]
                        g_theta[r, b] = gp * oq - gq * op
                        g[p, b] = c * gp - s * gq
                        g[q, b] = s * gp + c * gq
                        back[p, b] = c * op - s * oq
                        back[q, b] = s * op + c * oq
                for b in range(lanes):
                    norm[j, b] = 0.0
                for d in range(d_feat):
                    box_low = box_lo[d]
                    box_high = box_hi[d]
                    for b in range(lanes):
                        learn = fb[b] >= 0
                        bm = momentum * b_mu[j, d, b] - g[d, b]
                        m = min(max(mu[j, d, b] - rate_mu[b] * bm, box_low), box_high)
                        be = momentum * b_eta[j, d, b] + g_eta[d, b]
                        v = min(max(eta[j, d, b] - rate_cov[b] * be, -eta_limit), eta_limit)
                        b_mu[j, d, b] = bm if learn else b_mu[j, d, b]
                        mu[j, d, b] = m if learn else mu[j, d, b]
                        b_eta[j, d, b] = be if learn else b_eta[j, d, b]
                        v = v if learn else eta[j, d, b]
                        eta[j, d, b] = v
                        sg = 1.0 / (1.0 + _exp(-gain * v, simd))
                        lv = lo + span * sg
                        sig[j, d, b] = sg
                        inv_var[j, d, b] = _exp(-lv, simd)
                        norm[j, b] += lv
                for b in range(lanes):
                    norm[j, b] += norm_const
                n_inexact = 0
                for r in range(n_planes):
                    for b in range(lanes):
                        learn = fb[b] >= 0
                        bt = momentum * b_theta[j, r, b] + g_theta[r, b]
                        v = theta[j, r, b] - rate_cov[b] * bt
                        th, exact = _wrap_angle(v)
                        n_inexact += learn & (not exact)
                        stepped[r, b] = v
                        b_theta[j, r, b] = bt if learn else b_theta[j, r, b]
                        th = th if learn else theta[j, r, b]
                        theta[j, r, b] = th
                        sn[j, r, b], cs[j, r, b] = sincos_poly(th)
                if n_inexact > 0:  # a step of more than a turn (absurd learning rates)
                    for r in range(n_planes):
                        for b in range(lanes):
                            if fb[b] >= 0 and not _wrap_angle(stepped[r, b])[1]:
                                th = ((stepped[r, b] + _PI) % _TWO_PI) - _PI
                                theta[j, r, b] = th
                                sn[j, r, b], cs[j, r, b] = sincos_poly(th)
            for k in range(n_cat):
                for j in range(n_units):
                    for b in range(lanes):
                        learn = fb[b] >= 0
                        bw = momentum * b_w[k, j, b] + delta[k, b] * a[j, b]
                        wv = w[k, j, b] - rate_w[b] * bw
                        b_w[k, j, b] = bw if learn else b_w[k, j, b]
                        w[k, j, b] = wv if learn else w[k, j, b]

        for t in range(t_end, t_max):
            for k in range(n_cat):
                for b in range(lanes):
                    if b < n_active:
                        out[first + b, t, k] = 0.0

    return rollout_lanes


_rollout_block = _compile_lanes(LANES)
_rollout_one = _compile_lanes(1)


@nb.njit(parallel=True, cache=True)
def _rollout(
    x,
    feedback,
    n_trials,
    index,
    lr_mu,
    lr_cov,
    lr_w,
    means0,
    eta0,
    lo,
    hi,
    gain,
    eta_limit,
    box_lo,
    box_hi,
    momentum,
    generative,
    m_units,
    n_cat,
    plane_p,
    plane_q,
    n_threads,
    out,
):  # pragma: no cover - compiled
    n_learners = index.shape[0]
    n_chunks = max(min(n_threads, n_learners), 1)
    # one chunk of consecutive learners per thread: whole blocks, then the rest as one block,
    # or one by one if they are few
    for c in nb.prange(n_chunks):
        start = c * n_learners // n_chunks
        stop = (c + 1) * n_learners // n_chunks
        first = start
        while stop - first >= MIN_BLOCK:
            n_active = min(stop - first, LANES)
            _rollout_block(
                first,
                n_active,
                x,
                feedback,
                n_trials,
                index,
                lr_mu,
                lr_cov,
                lr_w,
                means0,
                eta0,
                lo,
                hi,
                gain,
                eta_limit,
                box_lo,
                box_hi,
                momentum,
                generative,
                m_units,
                n_cat,
                plane_p,
                plane_q,
                out,
            )
            first += n_active
        for l in range(first, stop):
            _rollout_one(
                l,
                1,
                x,
                feedback,
                n_trials,
                index,
                lr_mu,
                lr_cov,
                lr_w,
                means0,
                eta0,
                lo,
                hi,
                gain,
                eta_limit,
                box_lo,
                box_hi,
                momentum,
                generative,
                m_units,
                n_cat,
                plane_p,
                plane_q,
                out,
            )


def gaussian_logits(
    batch,
    index: np.ndarray,
    values,
    *,
    means: np.ndarray,
    eta0: float,
    log_var_bounds: tuple[float, float],
    gain: float,
    eta_limit: float,
    mean_box: tuple[np.ndarray, np.ndarray],
    momentum: float,
    generative: float,
    units_per_category: int,
    planes: np.ndarray,
) -> np.ndarray:
    """Logits (L, T, K) of the Gaussian learner; zero on padded trials.

    Parameters
    ----------
    batch
        The :class:`~catmodel.data.TrialBatch`.
    index
        (L,) batch row of each learner.
    values
        ``lr_mu``, ``lr_cov`` and ``lr_w``, each (L,).
    means
        (J, D) starting means of the units, J = K * ``units_per_category``.
    eta0
        Starting free eigenvalue parameter, the same for every unit and axis.
    log_var_bounds
        (lo, hi): the band of the log eigenvalues.
    gain
        Gain of the sigmoid that maps ``eta`` into the band.
    eta_limit
        ``eta`` is clamped to [-eta_limit, eta_limit] after every step
        (:attr:`catmodel.models.covariance.Spectral.eta_limit`).
    mean_box
        (low, high), each (D,): the box the means are clamped to.
    momentum
        SGD momentum.
    generative
        Weight of the generative term (0: none).
    units_per_category
        Units per category, M.
    planes
        (D (D - 1) / 2, 2) the (p, q) coordinate planes of the Givens rotations, in the order
        the step function applies them.
    """
    x, feedback, n_trials = batch_arrays(batch)
    plane_pq = np.asarray(planes, dtype=np.int64).reshape(-1, 2)
    plane_p = np.ascontiguousarray(plane_pq[:, 0])
    plane_q = np.ascontiguousarray(plane_pq[:, 1])
    # every element is written by the kernel (zeros on padded trials)
    out = np.empty((len(index), x.shape[1], batch.n_categories))
    _rollout(
        x,
        feedback,
        n_trials,
        np.ascontiguousarray(index, dtype=np.int64),
        np.ascontiguousarray(values["lr_mu"], dtype=np.float64),
        np.ascontiguousarray(values["lr_cov"], dtype=np.float64),
        np.ascontiguousarray(values["lr_w"], dtype=np.float64),
        np.ascontiguousarray(means, dtype=np.float64),
        float(eta0),
        float(log_var_bounds[0]),
        float(log_var_bounds[1]),
        float(gain),
        float(eta_limit),
        np.ascontiguousarray(mean_box[0], dtype=np.float64),
        np.ascontiguousarray(mean_box[1], dtype=np.float64),
        float(momentum),
        float(generative),
        int(units_per_category),
        int(batch.n_categories),
        plane_p,
        plane_q,
        nb.get_num_threads(),
        out,
    )
    return out
