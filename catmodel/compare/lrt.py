"""Likelihood-ratio tests of nested models, with boundary-corrected reference distributions.

When the restricted model fixes a parameter of the full model on the boundary of its
space (a decay rate of 0, a mixture weight of 0), the statistic is not χ²_df under
the null. For ``b`` such parameters (and regular conditions otherwise) its null
distribution is the binomial mixture ``Σ_{i=0}^{b} C(b, i) 2^{-b} χ²_{df−b+i}``
(Self & Liang 1987; Stram & Lee 1994), with χ²_0 a point mass at zero. For b = 1 this
is exact asymptotically; for b > 1 it assumes that the estimates of the boundary
parameters are asymptotically independent (otherwise the weights depend on their
correlation). Using plain χ²_df at a boundary makes the test conservative.

References
----------
Self SG, Liang K-Y (1987). Asymptotic properties of maximum likelihood estimators and
likelihood ratio tests under nonstandard conditions. JASA 82:605–610.

Stram DO, Lee JW (1994). Variance components testing in the longitudinal mixed
effects model. Biometrics 50:1171–1177.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import comb

import numpy as np
import pandas as pd
from scipy import stats

from catmodel.compare.criteria import FitsTableError

__all__ = [
    "LRTResult",
    "chi2_mixture_sf",
    "likelihood_ratio_test",
    "lrt_from_fits",
    "mixture_weights",
    "reference_name",
]

# Optimisers stop a little short of the optimum; a full model whose nll exceeds the
# restricted one by less than this is taken as a tie rather than a failed fit.
NEGATIVE_STATISTIC_TOLERANCE = 1e-6


@dataclass(frozen=True)
class LRTResult:
    """Likelihood-ratio test(s).

    Attributes
    ----------
    statistic
        ``2 (nll_restricted − nll_full)``, clipped at 0; array when the inputs were.
    df
        Number of parameters fixed by the restriction.
    p_value
        Upper-tail probability of ``statistic`` under ``reference``.
    reference
        The null distribution, e.g. ``"chi2(2)"`` or ``"0.5*chi2(0) + 0.5*chi2(1)"``.
    boundary
        Number of restricted parameters on the boundary of their space.
    """

    statistic: float | np.ndarray
    df: int
    p_value: float | np.ndarray
    reference: str
    boundary: int

    def to_frame(self) -> pd.DataFrame:
        """One row per test: ``statistic, df, p_value, reference, boundary``."""
        stat = np.atleast_1d(self.statistic)
        return pd.DataFrame(
            {
                "statistic": stat,
                "df": self.df,
                "p_value": np.atleast_1d(self.p_value),
                "reference": self.reference,
                "boundary": self.boundary,
            }
        )


def mixture_weights(df: int, boundary: int) -> dict[int, float]:
    """Weights of the χ² components: ``{degrees of freedom: weight}``."""
    return {df - boundary + i: comb(boundary, i) / 2.0**boundary for i in range(boundary + 1)}


def reference_name(df: int, boundary: int) -> str:
    """Readable name of the reference distribution."""
    if boundary == 0:
        return f"chi2({df})"
    weights = mixture_weights(df, boundary)
    return " + ".join(f"{w:g}*chi2({d})" for d, w in weights.items())


def chi2_mixture_sf(statistic: float | np.ndarray, df: int, boundary: int = 0) -> np.ndarray:
    """Upper-tail probability ``P(T ≥ statistic)`` under the χ² mixture.

    Parameters
    ----------
    statistic
        Observed likelihood-ratio statistic(s), non-negative.
    df
        Degrees of freedom of the unrestricted reference (parameters fixed).
    boundary
        How many of them lie on the boundary; ``0 ≤ boundary ≤ df``.

    Returns
    -------
    numpy.ndarray
        p-values, shaped like ``statistic``.
    """
    _check_df(df, boundary)
    t = np.asarray(statistic, dtype=float)
    p = np.zeros_like(t)
    for d, w in mixture_weights(df, boundary).items():
        # χ²_0 is a point mass at zero: P(T ≥ t) is 1 at t = 0 and 0 beyond.
        component = np.where(t <= 0.0, 1.0, 0.0) if d == 0 else stats.chi2.sf(t, d)
        p = p + w * component
    return np.minimum(p, 1.0)


def likelihood_ratio_test(
    nll_restricted: float | np.ndarray,
    nll_full: float | np.ndarray,
    df: int,
    boundary: int = 0,
) -> LRTResult:
    """Likelihood-ratio test of a restricted model nested in a full model.

    Parameters
    ----------
    nll_restricted, nll_full
        Minimised negative log-likelihoods, scalars or arrays (one per participant).
    df
        Number of free parameters of the full model that the restriction fixes.
    boundary
        How many of them are fixed on the boundary of their space (e.g. decay = 0);
        the reference is then ``Σ_{i=0}^{b} C(b, i) 2^{-b} χ²_{df−b+i}``.

    Returns
    -------
    LRTResult
        Statistic, df, p-value(s), the reference's name and ``boundary``.

    Warns
    -----
    RuntimeWarning
        When the full model fits worse than the restricted one (by more than
        ``NEGATIVE_STATISTIC_TOLERANCE``): the full fit did not find its optimum.
        The statistic is then set to 0.
    """
    _check_df(df, boundary)
    r = np.asarray(nll_restricted, dtype=float)
    f = np.asarray(nll_full, dtype=float)
    stat = 2.0 * (r - f)
    if np.any(stat < -2.0 * NEGATIVE_STATISTIC_TOLERANCE):
        warnings.warn(
            "full model has a higher negative log-likelihood than the restricted one "
            "for some tests; its fit probably missed the optimum (statistic set to 0)",
            RuntimeWarning,
            stacklevel=2,
        )
    stat = np.maximum(stat, 0.0)
    p = chi2_mixture_sf(stat, df, boundary)
    if stat.ndim == 0:
        return LRTResult(float(stat), df, float(p), reference_name(df, boundary), boundary)
    return LRTResult(stat, df, p, reference_name(df, boundary), boundary)


def lrt_from_fits(
    fits: pd.DataFrame, restricted: str, full: str, boundary: int = 0
) -> pd.DataFrame:
    """Likelihood-ratio test of two nested models for every participant of a fits table.

    Parameters
    ----------
    fits
        Tidy fits table with ``participant, model, nll, n_params``.
    restricted, full
        Names of the nested and the nesting model; ``df`` is the difference of
        their ``n_params``, which must be positive and equal for all participants.
    boundary
        Restricted parameters on the boundary of their space.

    Returns
    -------
    pandas.DataFrame
        One row per participant fitted with both models: ``participant,
        nll_restricted, nll_full, statistic, df, p_value, reference, boundary``.
    """
    for column in ("participant", "model", "nll", "n_params"):
        if column not in fits.columns:
            raise FitsTableError(f"fits table lacks the column {column!r}")
    cols = ["participant", "nll", "n_params"]
    a = fits.loc[fits["model"] == restricted, cols]
    b = fits.loc[fits["model"] == full, cols]
    if a.empty or b.empty:
        raise FitsTableError(f"fits table has no rows for model {restricted!r} or {full!r}")
    both = a.merge(b, on="participant", suffixes=("_restricted", "_full"), validate="1:1")
    dfs = (both["n_params_full"] - both["n_params_restricted"]).unique()
    if len(dfs) != 1 or dfs[0] <= 0:
        raise FitsTableError(
            f"{full!r} must have a fixed, larger number of parameters than {restricted!r}"
        )
    res = likelihood_ratio_test(
        both["nll_restricted"].to_numpy(), both["nll_full"].to_numpy(), int(dfs[0]), boundary
    )
    out = both[["participant", "nll_restricted", "nll_full"]].reset_index(drop=True)
    return pd.concat([out, res.to_frame()], axis=1)


def _check_df(df: int, boundary: int) -> None:
    if int(df) != df or df < 1:
        raise ValueError("df must be a positive integer")
    if int(boundary) != boundary or not 0 <= boundary <= df:
        raise ValueError("boundary must be an integer between 0 and df")
