"""Shared helpers for the compiled kernels: the batch as arrays, elementary functions that
vectorise, array views of a known shape, and the rule for categories without a representation.

Without Intel's SVML, numba compiles ``math.exp``, ``math.sin`` and ``math.cos`` to calls into
libm, one element at a time (about 4 ns each), and a loop that contains such a call is not
vectorised. The polynomial versions here are plain arithmetic, so loops that use them compile
to SIMD instructions; each agrees with libm to about 1 ulp. Their range reductions split a
constant in two parts that ``reassoc`` could fold together, so they are compiled with
``contract`` only; the flags stay with the instructions when LLVM inlines them into a caller
compiled with others (numba's own ``inline="always"`` would apply the caller's instead).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

# exp(x) = 2^k exp(r), x = k ln 2 + r, |r| <= ln 2 / 2 (Cody-Waite: ln 2 in two parts)
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
#: fastmath flags of the similarity kernels, whose inner loops are sums over exemplars or nodes:
#: ``reassoc`` lets those sums vectorise (the Gaussian kernel, vectorised across learners
#: instead, keeps its sums in the step function's order and uses its own flags)
SIMILARITY_FASTMATH = {"contract", "reassoc", "nsz", "arcp"}

#: below this argument exp(x) < 2^-1021 is returned as ~2^-1021 * exp(r) (never 0 or subnormal)
_EXP_FLOOR = -708.0
#: above this argument exp(x) would overflow; it is returned as ~2^1023 * exp(r) (finite)
_EXP_CEIL = 709.0
# sin/cos: x = n pi/2 + r, |r| <= pi/4 (pi/2 in two parts: 33 bits, then the rest)
_TWO_OVER_PI = 6.36619772367581382433e-01
_PIO2_HI = 1.57079632673412561417e00
_PIO2_LO = 6.07710050650619224932e-11
# Taylor coefficients (-1)^i / (2i+1)! and (-1)^i / (2i)!; on |r| <= pi/4 the first omitted
# term is below 1e-19 (sin) and 3e-18 (cos), so rounding (~1 ulp) dominates the error.
_SIN = tuple((-1.0) ** i / math.factorial(2 * i + 1) for i in range(9))
_COS = tuple((-1.0) ** i / math.factorial(2 * i) for i in range(9))


def batch_arrays(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous float64 stimuli, int64 feedback and int64 trial counts of a batch.

    The arrays are cached on the batch (its ``meta`` dict) because a fit calls the kernels
    thousands of times on the same trials. Batches derived with ``with_feedback`` or
    ``with_responses`` share that dict, so the cache is keyed on the tensors themselves.
    """
    key = "_kernel_arrays"
    sources = (batch.x, batch.feedback, batch.n_trials)
    cached = batch.meta.get(key)
    if cached is None or any(a is not b for a, b in zip(cached[0], sources, strict=True)):
        arrays = (
            np.ascontiguousarray(batch.x.detach().cpu().numpy(), dtype=np.float64),
            np.ascontiguousarray(batch.feedback.cpu().numpy(), dtype=np.int64),
            np.ascontiguousarray(batch.n_trials.cpu().numpy(), dtype=np.int64),
        )
        cached = (sources, arrays)
        batch.meta[key] = cached
    return cached[1]


def response_array(batch) -> np.ndarray:
    """Contiguous int64 response indices (n_learners, n_trials) of a batch, cached."""
    key = "_kernel_response"
    cached = batch.meta.get(key)
    if cached is None or cached[0] is not batch.response:
        cached = (batch.response, np.ascontiguousarray(batch.response.cpu().numpy(), np.int64))
        batch.meta[key] = cached
    return cached[1]


@intrinsic
def _bits_as_float(typingctx, bits):
    """The float64 whose bit pattern is the int64 ``bits`` (a register move, vectorisable)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        value = context.cast(builder, args[0], signature.args[0], types.int64)
        return builder.bitcast(value, ir.DoubleType())

    return types.float64(bits), codegen


@intrinsic
def view(typingctx, buf, start, shape):
    """The C-contiguous array of ``shape`` (a tuple of integers) over ``buf[start:]``, for a
    1-d C-contiguous ``buf``; no bounds check.

    Like ``buf[start : start + n].reshape(shape)``, but the shape stays the values given: numba's
    ``reshape`` passes it through a C helper, after which the compiler knows nothing of it (and
    loops over such arrays lose their known trip counts and shared index arithmetic). The view
    shares ``buf``'s memory and reference count, as a slice does.
    """
    if not (
        isinstance(buf, types.Array)
        and buf.ndim == 1
        and buf.layout == "C"
        and isinstance(start, types.Integer)
        and isinstance(shape, types.UniTuple)
        and isinstance(shape.dtype, types.Integer)
    ):
        return None
    ndim = shape.count
    result = types.Array(buf.dtype, ndim, "C")

    def codegen(context, builder, signature, args):
        source = make_array(signature.args[0])(context, builder, args[0])
        offset = context.cast(builder, args[1], signature.args[1], types.intp)
        dims = [
            context.cast(builder, d, signature.args[2].dtype, types.intp)
            for d in cgutils.unpack_tuple(builder, args[2], ndim)
        ]
        itemsize = context.get_constant(
            types.intp, context.get_abi_sizeof(context.get_data_type(buf.dtype))
        )
        strides = [itemsize]
        for d in reversed(dims[1:]):
            strides.insert(0, builder.mul(strides[0], d))
        out = make_array(result)(context, builder)
        populate_array(
            out,
            data=builder.gep(source.data, [offset]),
            shape=dims,
            strides=strides,
            itemsize=itemsize,
            meminfo=source.meminfo,
        )
        return impl_ret_borrowed(context, builder, result, out._getvalue())

    return result(buf, start, shape), codegen


@nb.njit(cache=True, fastmath={"contract"})
def exp_poly(x):  # pragma: no cover - compiled
    """``exp(x)`` in plain arithmetic, so that loops calling it vectorise.

    Range reduction, a degree-13 Taylor polynomial, and the power of two written into the
    exponent bits: within 1 ulp of libm. Arguments are clamped to [-708, 709], so results
    are never 0, subnormal or infinite (``exp(-1000)`` gives about 2.2e-308): nothing the models
    compute can tell the difference.
    """
    v = min(max(x, _EXP_FLOOR), _EXP_CEIL)
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
    return p * _bits_as_float((np.int64(k) + 1023) << 52)


@nb.njit(cache=True, fastmath={"contract"})
def exp_array(x, out, n):  # pragma: no cover - compiled
    """``out[j] = exp(x[j])`` for ``j < n`` (:func:`exp_poly`, in one vectorisable loop).

    The similarity kernels spend half their time in ``exp``: about 1 ns per element here
    against 4 for libm's.
    """
    for j in range(n):
        out[j] = exp_poly(x[j])


@nb.njit(cache=True, fastmath={"contract"})
def sincos_poly(x):  # pragma: no cover - compiled
    """``(sin(x), cos(x))`` in plain arithmetic, so that loops calling it vectorise.

    Reduction to |r| <= pi/4 and the quadrant, then Taylor polynomials in r^2: within about
    1 ulp of libm for |x| < 1e5 (the two-part pi/2 is exact for quadrant counts below 2^20; the
    kernels call it on angles wrapped into [-pi, pi]).
    """
    n = math.floor(x * _TWO_OVER_PI + 0.5)
    r = (x - n * _PIO2_HI) - n * _PIO2_LO
    r2 = r * r
    s = _SIN[8]
    c = _COS[8]
    for i in range(7, -1, -1):
        s = s * r2 + _SIN[i]
        c = c * r2 + _COS[i]
    s = s * r
    quadrant = np.int64(n) & 3
    odd = (quadrant & 1) == 1
    sin_x = c if odd else s
    cos_x = s if odd else c
    sin_x = -sin_x if quadrant >= 2 else sin_x
    cos_x = -cos_x if quadrant == 1 or quadrant == 2 else cos_x
    return sin_x, cos_x


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
