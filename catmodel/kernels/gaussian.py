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

A trial runs as named phases, each a function inlined into the rollout: the inputs
(:func:`_trial_inputs`), the units' log densities (:func:`_log_densities`), the logits
(:func:`_logits`), the learner's own error (:func:`_output_error`, :func:`_generative_error`),
per unit the gradients (:func:`_unit_gradients`) and the steps of the means and eigenvalues
(:func:`_step_means_eigenvalues`) and of the angles (:func:`_step_angles`), and the weights'
step (:func:`_step_weights`). The arrays they work on are grouped in named tuples
(:class:`_Work`), cut from two buffers allocated once per thread (:func:`_workspace`); the
rollout itself allocates nothing and keeps no reference counts (see the note above the
phases).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from catmodel.kernels.common import batch_arrays, exp_poly, sincos_poly, view

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
#: the rows of the kernel's ``rates`` array (3, L): the learning rates of the learners
RATES = ("lr_mu", "lr_cov", "lr_w")
#: the entries of the kernel's ``settings`` array, in order
SETTINGS = ("eta0", "log_var_lo", "log_var_hi", "gain", "eta_limit", "momentum", "generative")


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


class _Settings(NamedTuple):
    """The scalar settings of a rollout, and the constants derived from them."""

    eta0: float  # starting eigenvalue parameter of every unit and axis
    lo: float  # lower end of the band of the log eigenvalues
    span: float  # width of that band
    gain: float  # gain of the sigmoid that maps eta into the band
    dlog: float  # span * gain: d log eigenvalue / d eta = dlog * sig (1 - sig)
    eta_limit: float  # eta is clamped to [-eta_limit, eta_limit]
    momentum: float  # SGD momentum
    generative: float  # weight of the generative term (0: none)
    norm_const: float  # D log 2 pi
    m_units: int  # units per category


class _Block(NamedTuple):
    """The learners of one block, one per lane: batch row, trial count and learning rates."""

    rows: np.ndarray  # (lanes,) int64
    n_t: np.ndarray  # (lanes,) int64; 0 for lanes without a learner
    lr_mu: np.ndarray  # (lanes,)
    lr_cov: np.ndarray  # (lanes,) rate of the eigenvalue parameters and the angles
    lr_w: np.ndarray  # (lanes,)


class _State(NamedTuple):
    """The learners' state (or its momentum buffers), the lanes on the last axis."""

    mu: np.ndarray  # (J, D, lanes) means
    eta: np.ndarray  # (J, D, lanes) free eigenvalue parameters
    theta: np.ndarray  # (J, R, lanes) Givens angles
    w: np.ndarray  # (K, J, lanes) weights


class _Derived(NamedTuple):
    """Functions of the state, recomputed after each update."""

    sig: np.ndarray  # (J, D, lanes) sigmoid(gain eta)
    inv_var: np.ndarray  # (J, D, lanes) 1 / eigenvalue
    norm: np.ndarray  # (J, lanes) sum of the log eigenvalues plus D log 2 pi
    cs: np.ndarray  # (J, R, lanes) cos of the angles
    sn: np.ndarray  # (J, R, lanes) sin of the angles


class _Trial(NamedTuple):
    """Scratch of one trial."""

    fb: np.ndarray  # (lanes,) int64 feedback, -1: no learning
    xt: np.ndarray  # (D, lanes) stimulus
    u: np.ndarray  # (J, D, lanes) deviation from each mean, rotated into the unit's axes
    log_a: np.ndarray  # (J, lanes) log densities
    a: np.ndarray  # (J, lanes) densities
    logits: np.ndarray  # (K, lanes)
    delta: np.ndarray  # (K, lanes) softmax minus one-hot feedback
    e: np.ndarray  # (J, lanes) dLoss / dlog a_j
    resp: np.ndarray  # (J, lanes) responsibilities of the feedback category's units
    top: np.ndarray  # (lanes,) running maximum of a softmax
    total: np.ndarray  # (lanes,) running sum of a softmax


class _UnitGrad(NamedTuple):
    """Scratch of one unit's gradient and angle step."""

    g: np.ndarray  # (D, lanes) gradient of the mean
    back: np.ndarray  # (D, lanes) u rotated back, plane by plane
    g_eta: np.ndarray  # (D, lanes) gradient of eta
    g_theta: np.ndarray  # (R, lanes) gradient of the angles
    stepped: np.ndarray  # (R, lanes) angles after the step, before wrapping


class _Work(NamedTuple):
    """Everything a block's rollout writes (:func:`_carve`)."""

    blk: _Block
    state: _State
    velocity: _State  # the momentum buffers
    fns: _Derived
    trial: _Trial
    grad: _UnitGrad


@nb.njit(inline="always")
def _take(buf, at, shape, gap):  # pragma: no cover - compiled
    """The array of ``shape`` at element ``at`` of ``buf``, and where the next one starts: on
    the next cache line, ``gap`` elements further on."""
    n = 1
    for size in shape:
        n *= size
    return view(buf, at, shape), at + (n + 7) // 8 * 8 + gap


@nb.njit(inline="always")
def _carve(lanes, n_units, d_feat, n_planes, n_cat, floats, ints):  # pragma: no cover
    """The :class:`_Work` of a block of ``lanes`` learners, cut from ``floats`` and ``ints``
    (:func:`~catmodel.kernels.common.view`); and how many elements of each it takes.

    The shapes are built here from the sizes, the lane count a constant, so the compiler knows
    them as it would for arrays allocated in the rollout: arrays passed in, with shapes it
    knows nothing of, made the rollout 20-25 % slower, and one learner at a time slower still
    in some processes. Each array starts on its own cache line; a block's arrays, whose sizes
    are multiples of 512 bytes, one line apart, so that they do not sit exactly 4 KiB apart.
    """
    gap = 8 if lanes > 1 else 0
    one = (lanes,)
    ud = (n_units, d_feat, lanes)
    ur = (n_units, n_planes, lanes)
    kj = (n_cat, n_units, lanes)
    units = (n_units, lanes)
    cats = (n_cat, lanes)
    feats = (d_feat, lanes)
    planes = (n_planes, lanes)
    rows, i = _take(ints, 0, one, gap)
    n_t, i = _take(ints, i, one, gap)
    fb, i = _take(ints, i, one, gap)
    lr_mu, f = _take(floats, 0, one, gap)
    lr_cov, f = _take(floats, f, one, gap)
    lr_w, f = _take(floats, f, one, gap)
    mu, f = _take(floats, f, ud, gap)
    eta, f = _take(floats, f, ud, gap)
    theta, f = _take(floats, f, ur, gap)
    w, f = _take(floats, f, kj, gap)
    b_mu, f = _take(floats, f, ud, gap)
    b_eta, f = _take(floats, f, ud, gap)
    b_theta, f = _take(floats, f, ur, gap)
    b_w, f = _take(floats, f, kj, gap)
    sig, f = _take(floats, f, ud, gap)
    inv_var, f = _take(floats, f, ud, gap)
    norm, f = _take(floats, f, units, gap)
    cs, f = _take(floats, f, ur, gap)
    sn, f = _take(floats, f, ur, gap)
    xt, f = _take(floats, f, feats, gap)
    u, f = _take(floats, f, ud, gap)
    log_a, f = _take(floats, f, units, gap)
    a, f = _take(floats, f, units, gap)
    logits, f = _take(floats, f, cats, gap)
    delta, f = _take(floats, f, cats, gap)
    e, f = _take(floats, f, units, gap)
    resp, f = _take(floats, f, units, gap)
    top, f = _take(floats, f, one, gap)
    total, f = _take(floats, f, one, gap)
    g, f = _take(floats, f, feats, gap)
    back, f = _take(floats, f, feats, gap)
    g_eta, f = _take(floats, f, feats, gap)
    g_theta, f = _take(floats, f, planes, gap)
    stepped, f = _take(floats, f, planes, gap)
    work = _Work(
        _Block(rows, n_t, lr_mu, lr_cov, lr_w),
        _State(mu, eta, theta, w),
        _State(b_mu, b_eta, b_theta, b_w),
        _Derived(sig, inv_var, norm, cs, sn),
        _Trial(fb, xt, u, log_a, a, logits, delta, e, resp, top, total),
        _UnitGrad(g, back, g_eta, g_theta, stepped),
    )
    return work, f, i


@nb.njit(cache=True)
def _workspace(lanes, n_units, d_feat, n_planes, n_cat):  # pragma: no cover - compiled
    """The float and integer buffers that :func:`_carve` cuts a block's arrays from, for
    blocks of ``lanes`` learners (allocated once per thread and width)."""
    _, n_float, n_int = _carve(
        lanes, n_units, d_feat, n_planes, n_cat, np.empty(0), np.empty(0, np.int64)
    )
    return np.empty(n_float), np.empty(n_int, np.int64)


# --- the phases of a rollout --------------------------------------------------------------
# Each is inlined into the rollout by numba (``inline="always"``), so it is compiled with the
# rollout's fastmath flags and sees the rollout's ``lanes`` as a constant; ``simd`` is whether
# the rollout runs more than one lane (see :func:`_exp`). Numba binds an inlined function's
# arguments (and the fields it takes from a tuple) to new variables, each with a reference
# count increment and decrement that its pruning cannot pair across the phase's loops: calls
# left inside the trial and unit loops, which cost about a fifth of the speed. The rollout is
# therefore compiled without reference counting and allocates nothing: it cuts its arrays
# from the buffers of :func:`_workspace` (:func:`_carve`).


@nb.njit(inline="always")
def _read_settings(settings, d_feat, m_units):  # pragma: no cover - compiled
    """The ``settings`` array (laid out as :data:`SETTINGS`) as a :class:`_Settings`."""
    lo = settings[1]
    span = settings[2] - lo
    gain = settings[3]
    return _Settings(
        settings[0],
        lo,
        span,
        gain,
        span * gain,
        settings[4],
        settings[5],
        settings[6],
        d_feat * _LOG_2PI,
        m_units,
    )


@nb.njit(inline="always")
def _block_learners(lanes, first, n_active, index, rates, n_trials, t_max, blk):  # pragma: no cover
    """Fills ``blk`` with learners ``first`` to ``first + n_active``; the block's trial count.

    Lanes past ``n_active`` repeat the last learner, see no trial and write nothing.
    """
    rows, n_t, lr_mu, lr_cov, lr_w = blk.rows, blk.n_t, blk.lr_mu, blk.lr_cov, blk.lr_w
    t_end = 0
    for b in range(lanes):
        l = first + min(b, n_active - 1)
        rows[b] = index[l]
        n_t[b] = min(n_trials[rows[b]], t_max) if b < n_active else 0
        t_end = max(t_end, n_t[b])
        lr_mu[b] = rates[0, l]
        lr_cov[b] = rates[1, l]
        lr_w[b] = rates[2, l]
    return t_end


@nb.njit(inline="always")
def _start(lanes, simd, means0, cfg, state, velocity, fns):  # pragma: no cover - compiled
    """Sets the starting state, its (zero) momentum buffers and the functions of the state.

    Every unit starts at its mean of ``means0``, isotropic, with the same eigenvalues (from
    ``eta0``) and unrotated; the weights start at 0.
    """
    mu, eta, theta, w = state.mu, state.eta, state.theta, state.w
    b_mu, b_eta, b_theta, b_w = velocity.mu, velocity.eta, velocity.theta, velocity.w
    sig, inv_var, norm, cs, sn = fns.sig, fns.inv_var, fns.norm, fns.cs, fns.sn
    n_units, d_feat, n_planes, n_cat = mu.shape[0], mu.shape[1], theta.shape[1], w.shape[0]
    eta0 = cfg.eta0
    sig0 = 1.0 / (1.0 + _exp(-cfg.gain * eta0, simd))
    log_var0 = cfg.lo + cfg.span * sig0
    inv_var0 = _exp(-log_var0, simd)
    for j in range(n_units):
        for b in range(lanes):
            norm[j, b] = cfg.norm_const
        for d in range(d_feat):
            for b in range(lanes):
                mu[j, d, b] = means0[j, d]
                eta[j, d, b] = eta0
                sig[j, d, b] = sig0
                inv_var[j, d, b] = inv_var0
                norm[j, b] += log_var0
                b_mu[j, d, b] = 0.0
                b_eta[j, d, b] = 0.0
        for r in range(n_planes):
            for b in range(lanes):
                theta[j, r, b] = 0.0
                b_theta[j, r, b] = 0.0
                cs[j, r, b] = 1.0
                sn[j, r, b] = 0.0
        for k in range(n_cat):
            for b in range(lanes):
                w[k, j, b] = 0.0
                b_w[k, j, b] = 0.0


@nb.njit(inline="always")
def _trial_inputs(lanes, t, x, feedback, blk, trial):  # pragma: no cover - compiled
    """Each lane's feedback and stimulus of trial ``t`` into ``trial``; how many lanes learn.

    Feedback -1 (no learning) also stands for the trials past a lane's last.
    """
    rows, n_t, fb, xt = blk.rows, blk.n_t, trial.fb, trial.xt
    n_learn = 0
    for b in range(lanes):
        f = feedback[rows[b], t] if t < n_t[b] else -1
        fb[b] = f
        n_learn += f >= 0
    for d in range(x.shape[2]):
        for b in range(lanes):
            xt[d, b] = x[rows[b], t, d]
    return n_learn


@nb.njit(inline="always")
def _log_densities(lanes, simd, plane_p, plane_q, state, fns, trial):  # pragma: no cover - compiled
    """Log densities ``log_a`` and densities ``a`` of the stimulus under every unit
    (``Spectral.log_density``).

    ``u``, the deviation of the stimulus from each mean, is rotated into the unit's axes plane
    by plane (kept for the gradient); the Mahalanobis term is its squares over the
    eigenvalues.
    """
    mu, u, log_a, a = state.mu, trial.u, trial.log_a, trial.a
    xt, cs, sn, inv_var, norm = trial.xt, fns.cs, fns.sn, fns.inv_var, fns.norm
    n_units, d_feat = mu.shape[0], mu.shape[1]
    for j in range(n_units):
        for d in range(d_feat):
            for b in range(lanes):
                u[j, d, b] = xt[d, b] - mu[j, d, b]
        for r in range(plane_p.shape[0]):
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


@nb.njit(inline="always")
def _logits(lanes, first, n_active, t, blk, w, trial, out):  # pragma: no cover - compiled
    """The logits ``w a``, written to ``out`` for the block's learners (0 past their last
    trial)."""
    a, logits, n_t = trial.a, trial.logits, blk.n_t
    n_cat, n_units = w.shape[0], w.shape[1]
    for k in range(n_cat):
        for b in range(lanes):
            logits[k, b] = 0.0
        for j in range(n_units):
            for b in range(lanes):
                logits[k, b] += w[k, j, b] * a[j, b]
        for b in range(lanes):
            if b < n_active:
                out[first + b, t, k] = logits[k, b] if t < n_t[b] else 0.0


@nb.njit(inline="always")
def _output_error(lanes, simd, w, trial):  # pragma: no cover - compiled
    """The learner's own softmax and cross-entropy error.

    ``delta`` (K): softmax of the logits minus the one-hot feedback, the gradient of the loss
    with respect to the logits; ``e`` (J): the gradient with respect to each unit's log
    density, ``a_j sum_k w_kj delta_k``.
    """
    logits, delta, e, a, fb = trial.logits, trial.delta, trial.e, trial.a, trial.fb
    top, total = trial.top, trial.total
    n_cat, n_units = w.shape[0], w.shape[1]
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
    for j in range(n_units):
        for b in range(lanes):
            e[j, b] = 0.0
        for k in range(n_cat):
            for b in range(lanes):
                e[j, b] += w[k, j, b] * delta[k, b]
        for b in range(lanes):
            e[j, b] *= a[j, b]


@nb.njit(inline="always")
def _generative_error(lanes, simd, cfg, trial):  # pragma: no cover - compiled
    """Adds the generative term ``-generative log p(x | feedback category's units)`` to ``e``.

    Its gradient with respect to ``log_a`` is minus ``generative`` times the responsibilities
    of the feedback category's units (the softmax of their ``log_a``), 0 for the other units.
    """
    log_a, e, resp, fb = trial.log_a, trial.e, trial.resp, trial.fb
    top, total = trial.top, trial.total
    n_units = log_a.shape[0]
    for b in range(lanes):
        top[b] = -np.inf
    for j in range(n_units):
        cat = j // cfg.m_units
        for b in range(lanes):
            top[b] = max(top[b], log_a[j, b]) if fb[b] == cat else top[b]
    for b in range(lanes):
        total[b] = 0.0
    for j in range(n_units):
        cat = j // cfg.m_units
        for b in range(lanes):
            ex = _exp(log_a[j, b] - top[b], simd) if fb[b] == cat else 0.0
            resp[j, b] = ex
            total[b] += ex
    for j in range(n_units):
        for b in range(lanes):
            e[j, b] -= cfg.generative * (resp[j, b] / total[b])


@nb.njit(inline="always")
def _unit_gradients(
    lanes, j, plane_p, plane_q, cfg, fns, trial, grad
):  # pragma: no cover - compiled
    """Closed-form gradients of unit ``j``'s mean, eigenvalue parameters and angles
    (``Spectral.backward``), from its error ``e`` and rotated deviation ``u``.

    The gradient of the mean and ``u`` are rotated back through the Givens planes in reverse
    order; each plane's angle gradient is taken on the way.
    """
    u, e, inv_var, sig = trial.u, trial.e, fns.inv_var, fns.sig
    cs, sn = fns.cs, fns.sn
    g, back, g_eta, g_theta = grad.g, grad.back, grad.g_eta, grad.g_theta
    dlog = cfg.dlog
    for d in range(u.shape[1]):
        for b in range(lanes):
            ud = u[j, d, b]
            iv = inv_var[j, d, b]
            sg = sig[j, d, b]
            g_eta[d, b] = -0.5 * e[j, b] * (1.0 - ud * ud * iv) * (dlog * sg * (1.0 - sg))
            g[d, b] = -e[j, b] * ud * iv
            back[d, b] = ud
    for r in range(plane_p.shape[0] - 1, -1, -1):
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


@nb.njit(inline="always")
def _step_means_eigenvalues(
    lanes, simd, j, cfg, mean_box, blk, grad, fb, state, velocity, fns
):  # pragma: no cover - compiled
    """One SGD(+momentum) step of unit ``j``'s mean (clamped to ``mean_box``) and eigenvalue
    parameters (clamped to ``[-eta_limit, eta_limit]``), kept only where the lane learns;
    then the functions of the new ``eta``: ``sig``, ``inv_var`` and ``norm``."""
    mu, eta, b_mu, b_eta = state.mu, state.eta, velocity.mu, velocity.eta
    sig, inv_var, norm = fns.sig, fns.inv_var, fns.norm
    g, g_eta = grad.g, grad.g_eta
    lr_mu, lr_cov = blk.lr_mu, blk.lr_cov
    momentum, eta_limit, gain, lo, span = cfg.momentum, cfg.eta_limit, cfg.gain, cfg.lo, cfg.span
    for b in range(lanes):
        norm[j, b] = 0.0
    for d in range(mu.shape[1]):
        box_low = mean_box[0, d]
        box_high = mean_box[1, d]
        for b in range(lanes):
            learn = fb[b] >= 0
            bm = momentum * b_mu[j, d, b] - g[d, b]
            m = min(max(mu[j, d, b] - lr_mu[b] * bm, box_low), box_high)
            be = momentum * b_eta[j, d, b] + g_eta[d, b]
            v = min(max(eta[j, d, b] - lr_cov[b] * be, -eta_limit), eta_limit)
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
        norm[j, b] += cfg.norm_const


@nb.njit(inline="always")
def _step_angles(lanes, j, cfg, blk, grad, fb, state, velocity, fns):  # pragma: no cover
    """One SGD(+momentum) step of unit ``j``'s angles, wrapped into [-pi, pi) and kept only
    where the lane learns; then their cos and sin.

    The wrap is :func:`_wrap_angle`'s, which vectorises; where it is not exact (a step of more
    than a turn, at absurd learning rates) the angles are wrapped again with Python's ``%``.
    """
    theta, b_theta, cs, sn = state.theta, velocity.theta, fns.cs, fns.sn
    g_theta, stepped = grad.g_theta, grad.stepped
    lr_cov, momentum = blk.lr_cov, cfg.momentum
    n_planes = theta.shape[1]
    n_inexact = 0
    for r in range(n_planes):
        for b in range(lanes):
            learn = fb[b] >= 0
            bt = momentum * b_theta[j, r, b] + g_theta[r, b]
            v = theta[j, r, b] - lr_cov[b] * bt
            th, exact = _wrap_angle(v)
            n_inexact += learn & (not exact)
            stepped[r, b] = v
            b_theta[j, r, b] = bt if learn else b_theta[j, r, b]
            th = th if learn else theta[j, r, b]
            theta[j, r, b] = th
            sn[j, r, b], cs[j, r, b] = sincos_poly(th)
    if n_inexact > 0:
        for r in range(n_planes):
            for b in range(lanes):
                if fb[b] >= 0 and not _wrap_angle(stepped[r, b])[1]:
                    th = ((stepped[r, b] + _PI) % _TWO_PI) - _PI
                    theta[j, r, b] = th
                    sn[j, r, b], cs[j, r, b] = sincos_poly(th)


@nb.njit(inline="always")
def _step_weights(lanes, cfg, blk, trial, state, velocity):  # pragma: no cover - compiled
    """One SGD(+momentum) step of the weights (gradient ``delta_k a_j``), kept only where the
    lane learns."""
    w, b_w, delta, a, fb = state.w, velocity.w, trial.delta, trial.a, trial.fb
    lr_w, momentum = blk.lr_w, cfg.momentum
    for k in range(w.shape[0]):
        for j in range(w.shape[1]):
            for b in range(lanes):
                learn = fb[b] >= 0
                bw = momentum * b_w[k, j, b] + delta[k, b] * a[j, b]
                wv = w[k, j, b] - lr_w[b] * bw
                b_w[k, j, b] = bw if learn else b_w[k, j, b]
                w[k, j, b] = wv if learn else w[k, j, b]


@nb.njit(inline="always")
def _zero_tail(lanes, first, n_active, t_end, out):  # pragma: no cover - compiled
    """Zero logits on the trials after the block's last."""
    for t in range(t_end, out.shape[1]):
        for k in range(out.shape[2]):
            for b in range(lanes):
                if b < n_active:
                    out[first + b, t, k] = 0.0


def _compile_lanes(lanes: int):
    """The rollout of up to ``lanes`` consecutive learners in lockstep, compiled for that width.

    A closure over ``lanes``, so that every loop over the lanes has a trip count known to the
    compiler (and, for one lane, disappears).
    """
    simd = lanes > 1

    # _nrt=False: no reference counting (see the note above the phases)
    @nb.njit(cache=True, fastmath=_FASTMATH, error_model="numpy", _nrt=False)
    def rollout_lanes(first, n_active, trials, learners, model, work, out):  # pragma: no cover
        """Logits of learners ``first`` to ``first + n_active`` into ``out``.

        ``trials`` is ``(x, feedback, n_trials)`` of the batch, ``learners`` ``(index, rates)``,
        ``model`` ``(means0, mean_box, plane_p, plane_q, settings)`` (as :func:`_rollout`
        takes them) and ``work`` a :func:`_workspace` of width ``lanes``.
        """
        x, feedback, n_trials = trials
        index, rates = learners
        means0, mean_box, plane_p, plane_q, settings = model
        n_units = means0.shape[0]
        d_feat = x.shape[2]
        n_cat = out.shape[2]
        floats, ints = work
        carved, n_float, n_int = _carve(
            lanes, n_units, d_feat, plane_p.shape[0], n_cat, floats, ints
        )
        if n_float > floats.shape[0] or n_int > ints.shape[0]:
            raise ValueError("the workspace is too small for the rollout")
        blk, state, velocity, fns, trial, grad = carved
        cfg = _read_settings(settings, d_feat, n_units // n_cat)
        t_end = _block_learners(lanes, first, n_active, index, rates, n_trials, x.shape[1], blk)
        _start(lanes, simd, means0, cfg, state, velocity, fns)

        for t in range(t_end):
            n_learn = _trial_inputs(lanes, t, x, feedback, blk, trial)
            _log_densities(lanes, simd, plane_p, plane_q, state, fns, trial)
            _logits(lanes, first, n_active, t, blk, state.w, trial, out)
            if n_learn == 0:
                continue
            _output_error(lanes, simd, state.w, trial)
            if cfg.generative > 0.0:
                _generative_error(lanes, simd, cfg, trial)
            for j in range(n_units):
                _unit_gradients(lanes, j, plane_p, plane_q, cfg, fns, trial, grad)
                _step_means_eigenvalues(
                    lanes, simd, j, cfg, mean_box, blk, grad, trial.fb, state, velocity, fns
                )
                _step_angles(lanes, j, cfg, blk, grad, trial.fb, state, velocity, fns)
            _step_weights(lanes, cfg, blk, trial, state, velocity)
        _zero_tail(lanes, first, n_active, t_end, out)

    return rollout_lanes


_rollout_block = _compile_lanes(LANES)
_rollout_one = _compile_lanes(1)


@nb.njit(parallel=True, cache=True)
def _rollout(
    x,
    feedback,
    n_trials,
    index,
    rates,
    means0,
    mean_box,
    plane_p,
    plane_q,
    settings,
    n_threads,
    out,
):  # pragma: no cover - compiled
    """Logits (L, T, K) of every learner into ``out``, on ``n_threads`` threads.

    The arrays are those :func:`gaussian_logits` describes, as contiguous float64 (int64 for
    ``feedback``, ``n_trials``, ``index`` and the planes' ``plane_p`` and ``plane_q``);
    ``rates`` is (3, L) (:data:`RATES`) and ``settings`` (7,) (:data:`SETTINGS`).
    """
    n_learners = index.shape[0]
    n_units, d_feat = means0.shape
    n_planes = plane_p.shape[0]
    n_cat = out.shape[2]
    n_chunks = max(min(n_threads, n_learners), 1)
    # one chunk of consecutive learners per thread: whole blocks, then the rest as one block,
    # or one by one if they are few
    for c in nb.prange(n_chunks):
        # built here: a prange loop takes no tuple that holds arrays from outside
        trials = (x, feedback, n_trials)
        learners = (index, rates)
        model = (means0, mean_box, plane_p, plane_q, settings)
        start = c * n_learners // n_chunks
        stop = (c + 1) * n_learners // n_chunks
        first = start
        if stop - first >= MIN_BLOCK:
            block = _workspace(LANES, n_units, d_feat, n_planes, n_cat)
            while stop - first >= MIN_BLOCK:
                n_active = min(stop - first, LANES)
                _rollout_block(first, n_active, trials, learners, model, block, out)
                first += n_active
        if first < stop:
            single = _workspace(1, n_units, d_feat, n_planes, n_cat)
            for l in range(first, stop):
                _rollout_one(l, 1, trials, learners, model, single, out)


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
        ``lr_mu``, ``lr_cov`` and ``lr_w`` (:data:`RATES`), each (L,).
    means
        (J, D) starting means of the units, J = K M: the units of category k are rows
        k M to (k + 1) M - 1 (M units per category, taken from J and K).
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
    planes
        (D (D - 1) / 2, 2) the (p, q) coordinate planes of the Givens rotations, in the order
        the step function applies them.

    Returns
    -------
    numpy.ndarray
        (L, T, K) float64 logits, computed before each trial's feedback.

    Raises
    ------
    ValueError
        If ``means`` is not (K M, D).
    """
    x, feedback, n_trials = batch_arrays(batch)
    n_cat = int(batch.n_categories)
    means = np.ascontiguousarray(means, dtype=np.float64)
    if means.ndim != 2 or means.shape[0] % n_cat or means.shape[1] != x.shape[2]:
        raise ValueError(f"means must be (K M, D) with K = {n_cat}, D = {x.shape[2]}")
    # np.array rather than np.stack (here and below): a few microseconds less per call, which
    # shows at one learner
    rates = np.array([values[name] for name in RATES], dtype=np.float64)
    scalars = {
        "eta0": eta0,
        "log_var_lo": log_var_bounds[0],
        "log_var_hi": log_var_bounds[1],
        "gain": gain,
        "eta_limit": eta_limit,
        "momentum": momentum,
        "generative": generative,
    }
    settings = np.array([float(scalars[name]) for name in SETTINGS])
    plane_pq = np.asarray(planes, dtype=np.int64).reshape(-1, 2)
    # every element is written by the kernel (zeros on padded trials)
    out = np.empty((len(index), x.shape[1], n_cat))
    _rollout(
        x,
        feedback,
        n_trials,
        np.ascontiguousarray(index, dtype=np.int64),
        rates,
        means,
        np.array(mean_box, dtype=np.float64),
        np.ascontiguousarray(plane_pq[:, 0]),
        np.ascontiguousarray(plane_pq[:, 1]),
        settings,
        nb.get_num_threads(),
        out,
    )
    return out
