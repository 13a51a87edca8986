"""Standard errors from a finite-difference Hessian of the NLL in scale coordinates."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def stencil_size(n_params: int) -> int:
    """Points :func:`finite_difference_hessian` evaluates per problem in ``n_params`` dimensions:
    the centre, two per axis and four per pair of axes."""
    return 1 + 2 * n_params + 2 * n_params * (n_params - 1)


def finite_difference_hessian(
    fun: Callable[[np.ndarray, np.ndarray], np.ndarray],
    rows: np.ndarray,
    x: np.ndarray,
    step: np.ndarray,
) -> np.ndarray:
    """Central-difference Hessians (P, F, F) of ``fun`` at ``x`` (P, F), all problems at once.

    ``fun(rows, points)`` evaluates problem ``rows[i]`` at ``points[i]``; all stencil points of
    all problems go in one call.
    """
    p, f = x.shape
    pts, tags = [x], []
    eye = np.eye(f)
    for i in range(f):
        for sign in (1, -1):
            pts.append(x + sign * step[i] * eye[i])
            tags.append(("d", i, sign))
    for i in range(f):
        for j in range(i + 1, f):
            for si in (1, -1):
                for sj in (1, -1):
                    pts.append(x + si * step[i] * eye[i] + sj * step[j] * eye[j])
                    tags.append(("o", i, j, si * sj))
    values = fun(np.tile(rows, len(pts)), np.concatenate(pts)).reshape(len(pts), p)
    f0 = values[0]
    h = np.zeros((p, f, f))
    diag_plus = {}
    for k, tag in enumerate(tags, start=1):
        if tag[0] == "d":
            diag_plus.setdefault(tag[1], []).append(values[k])
    for i in range(f):
        fp, fm = diag_plus[i]
        h[:, i, i] = (fp - 2 * f0 + fm) / step[i] ** 2
    for k, tag in enumerate(tags, start=1):
        if tag[0] == "o":
            _, i, j, s = tag
            h[:, i, j] += s * values[k] / (4 * step[i] * step[j])
    iu = np.triu_indices(f, 1)
    h[:, iu[1], iu[0]] = h[:, iu[0], iu[1]]
    return h


def standard_errors(
    hessian: np.ndarray, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Square roots of the diagonal of the inverse Hessian, where it is positive definite.

    Parameters
    ----------
    hessian
        (P, F, F) Hessians of the NLL.
    keep
        (P, F) which parameters get a standard error (default all). The others — parameters
        whose estimate lies at a bound of the box — are held where they are: the standard
        errors of the kept ones come from the Hessian's block of kept parameters alone, and
        theirs are NaN (at a bound the curvature says nothing about the uncertainty).

    Returns
    -------
    se, ok
        (P, F) standard errors (NaN where not kept, or where the kept block is not positive
        definite or not finite) and (P,) whether the kept block is positive definite (True
        when nothing is kept: no Hessian failed).
    """
    p, f = hessian.shape[0], hessian.shape[-1]
    keep = np.ones((p, f), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    se = np.full((p, f), np.nan)
    ok = np.zeros(p, dtype=bool)
    for i in range(p):
        idx = np.flatnonzero(keep[i])
        h = hessian[i][np.ix_(idx, idx)]
        if not np.all(np.isfinite(h)):
            continue
        try:
            chol = np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            continue
        inv_chol = np.linalg.inv(chol)
        se[i, idx] = np.sqrt(np.sum(inv_chol**2, axis=0))
        ok[i] = True
    return se, ok
