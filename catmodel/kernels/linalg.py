"""Small dense linear algebra for the compiled kernels: Cholesky factors, triangular solves and
symmetric eigendecompositions of D x D matrices, one learner at a time.

Plain loops: for the matrices of a category learner (D up to a few dozen) they beat calls into
LAPACK, which numba cannot make from inside a ``prange`` loop without allocating.
"""

from __future__ import annotations

import math

import numba as nb


@nb.njit(cache=True, inline="always")
def cholesky(a, out, n):  # pragma: no cover - compiled
    """Lower Cholesky factor of the leading n x n block of ``a`` into ``out``.

    Returns False (``out`` then undefined) when the block is not positive definite. ``out``
    may be ``a`` itself (the factor then overwrites it).
    """
    for j in range(n):
        s = a[j, j]
        for k in range(j):
            s -= out[j, k] * out[j, k]
        if not s > 0.0:  # also catches NaN
            return False
        diag = math.sqrt(s)
        out[j, j] = diag
        for i in range(j + 1, n):
            v = a[i, j]
            for k in range(j):
                v -= out[i, k] * out[j, k]
            out[i, j] = v / diag
        for i in range(j):
            out[i, j] = 0.0
    return True


@nb.njit(cache=True, inline="always")
def shifted_is_positive(a, shift, sign, scratch, n):  # pragma: no cover - compiled
    """Whether ``sign * (a - shift I)`` is positive definite (a Cholesky attempt)."""
    for i in range(n):
        for j in range(n):
            v = sign * a[i, j]
            if i == j:
                v -= sign * shift
            scratch[i, j] = v
    # factored in place: cholesky reads only the lower triangle and diagonal, each before
    # writing over it
    return cholesky(scratch, scratch, n)


@nb.njit(cache=True, inline="always")
def forward_solve(chol, b, out, n):  # pragma: no cover - compiled
    """``out = L^-1 b`` for the lower-triangular ``chol``."""
    for i in range(n):
        v = b[i]
        for k in range(i):
            v -= chol[i, k] * out[k]
        out[i] = v / chol[i, i]


@nb.njit(cache=True)
def jacobi_eigh(a, values, vectors, n):  # pragma: no cover - compiled
    """Eigenvalues and eigenvectors (columns) of the symmetric n x n ``a`` (overwritten).

    Cyclic Jacobi rotations until every off-diagonal element is negligible against the
    diagonal; accurate to a few ulps of the largest eigenvalue for the small, well-scaled
    matrices of a learner.
    """
    for i in range(n):
        for j in range(n):
            vectors[i, j] = 1.0 if i == j else 0.0
    for _sweep in range(60):
        off = 0.0
        scale = 0.0
        for i in range(n):
            scale += a[i, i] * a[i, i]
            for j in range(i + 1, n):
                off += a[i, j] * a[i, j]
        if off <= 1e-30 * scale:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                apq = a[p, q]
                if apq == 0.0:
                    continue
                theta = (a[q, q] - a[p, p]) / (2.0 * apq)
                t = (1.0 if theta >= 0.0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(n):
                    akp = a[k, p]
                    akq = a[k, q]
                    a[k, p] = c * akp - s * akq
                    a[k, q] = s * akp + c * akq
                for k in range(n):
                    apk = a[p, k]
                    aqk = a[q, k]
                    a[p, k] = c * apk - s * aqk
                    a[q, k] = s * apk + c * aqk
                for k in range(n):
                    vkp = vectors[k, p]
                    vkq = vectors[k, q]
                    vectors[k, p] = c * vkp - s * vkq
                    vectors[k, q] = s * vkp + c * vkq
    for i in range(n):
        values[i] = a[i, i]
