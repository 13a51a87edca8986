"""Information criteria per participant and model, their differences, weights and sums.

The fits table has one row per participant × model with at least the columns
``participant, model, nll, aic, bic, n_params, n_trials``; AIC = 2 nll + 2k and
BIC = 2 nll + k ln n, with n the number of trials that had a response.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from catmodel.errors import CatmodelError, SettingsError

__all__ = [
    "CRITERIA",
    "FitsTableError",
    "UnknownCriterionError",
    "aic",
    "akaike_weights",
    "bic",
    "check_criterion",
    "check_fits",
    "group_sums",
    "per_participant",
]

#: Criteria that can rank models and approximate the log evidence (−criterion / 2).
CRITERIA: tuple[str, ...] = ("aic", "bic")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "participant",
    "model",
    "nll",
    "aic",
    "bic",
    "n_params",
    "n_trials",
)


class FitsTableError(CatmodelError, ValueError):
    """The fits table lacks columns, repeats a participant × model, or misses a fit."""


class UnknownCriterionError(SettingsError, ValueError):
    """A criterion other than those in :data:`CRITERIA` was asked for."""


def check_criterion(criterion: str) -> str:
    """Return ``criterion`` lower-cased, or raise if it is not in :data:`CRITERIA`."""
    name = str(criterion).lower()
    if name not in CRITERIA:
        raise UnknownCriterionError(
            f"unknown criterion {criterion!r}: choose one of {', '.join(CRITERIA)}"
        )
    return name


def check_fits(fits: pd.DataFrame, *, complete: bool = True) -> None:
    """Raise :class:`FitsTableError` if ``fits`` cannot be compared.

    Parameters
    ----------
    fits
        Tidy fits table, one row per participant × model.
    complete
        Also require that every participant was fitted with every model (the
        comparison of a model across participants is otherwise biased towards
        the participants it was fitted to).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in fits.columns]
    if missing:
        raise FitsTableError(f"fits table lacks the column(s): {', '.join(missing)}")
    if fits.empty:
        raise FitsTableError("fits table has no rows")
    dup = fits.duplicated(["participant", "model"], keep=False)
    if dup.any():
        first = fits.loc[dup, ["participant", "model"]].iloc[0]
        raise FitsTableError(
            "fits table has several rows for participant "
            f"{first['participant']!r} and model {first['model']!r}; "
            "expected one row per participant × model"
        )
    for column in ("nll", "aic", "bic"):
        values = pd.to_numeric(fits[column], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            raise FitsTableError(f"column {column!r} has missing or non-finite values")
    if complete:
        n_models = fits["model"].nunique()
        per_participant_count = fits.groupby("participant", sort=False)["model"].nunique()
        short = per_participant_count[per_participant_count < n_models]
        if len(short):
            raise FitsTableError(
                f"participant {short.index[0]!r} was fitted with {int(short.iloc[0])} of "
                f"{n_models} models; every participant needs every model"
            )


def aic(nll: float | np.ndarray, k: int | np.ndarray) -> float | np.ndarray:
    """Akaike information criterion, ``2 nll + 2 k``.

    Parameters
    ----------
    nll
        Minimised negative log-likelihood (scalar or array).
    k
        Number of free parameters.

    Returns
    -------
    float or numpy.ndarray
        AIC, broadcast over the inputs.
    """
    out = 2.0 * np.asarray(nll, dtype=float) + 2.0 * np.asarray(k, dtype=float)
    return float(out) if out.ndim == 0 else out


def bic(nll: float | np.ndarray, k: int | np.ndarray, n: int | np.ndarray) -> float | np.ndarray:
    """Bayesian information criterion, ``2 nll + k ln n``.

    Parameters
    ----------
    nll
        Minimised negative log-likelihood.
    k
        Number of free parameters.
    n
        Number of observations (trials with a response); must be positive.

    Returns
    -------
    float or numpy.ndarray
        BIC, broadcast over the inputs.
    """
    n_arr = np.asarray(n, dtype=float)
    if np.any(n_arr <= 0):
        raise ValueError("BIC needs a positive number of observations")
    out = 2.0 * np.asarray(nll, dtype=float) + np.asarray(k, dtype=float) * np.log(n_arr)
    return float(out) if out.ndim == 0 else out


def akaike_weights(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Weights ``exp(−Δ/2) / Σ exp(−Δ/2)`` of a set of criterion values.

    Works for any criterion on the deviance scale (AIC, AICc, BIC); with BIC the
    weights approximate posterior model probabilities under equal priors.

    Parameters
    ----------
    values
        Criterion values of competing models fitted to the same data, 1-D.

    Returns
    -------
    numpy.ndarray
        Weights that sum to one; a model with an infinite criterion gets weight 0.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError("akaike_weights needs a non-empty 1-D array")
    if np.any(np.isnan(v)) or not np.any(np.isfinite(v)):
        raise ValueError("akaike_weights needs finite values (NaN or all infinite given)")
    # Subtracting the minimum keeps exp() from underflowing for large criteria.
    rel = np.exp(-0.5 * (v - np.min(v)))
    return rel / rel.sum()


def per_participant(fits: pd.DataFrame, criterion: str = "bic") -> pd.DataFrame:
    """Compare models within each participant.

    Parameters
    ----------
    fits
        Tidy fits table (see the module docstring).
    criterion
        ``"bic"`` or ``"aic"``: the criterion that decides the ``best`` column.

    Returns
    -------
    pandas.DataFrame
        One row per participant × model, in the order of ``fits``, with columns
        ``participant, model, [condition,] nll, aic, bic, delta_aic, delta_bic,
        akaike_weight, bic_weight, best``. Deltas are to the participant's best
        model by that criterion; ``akaike_weight`` comes from AIC and
        ``bic_weight`` from BIC. ``best`` marks exactly one model per participant;
        on an exact tie the model listed first in ``fits`` wins.
    """
    criterion = check_criterion(criterion)
    check_fits(fits, complete=False)
    keep = ["participant", "model"]
    if "condition" in fits.columns:
        keep.append("condition")
    out = fits[[*keep, "nll", "aic", "bic"]].reset_index(drop=True).copy()
    for col in ("nll", "aic", "bic"):
        out[col] = out[col].astype(float)
    by = out.groupby("participant", sort=False)
    out["delta_aic"] = out["aic"] - by["aic"].transform("min")
    out["delta_bic"] = out["bic"] - by["bic"].transform("min")
    out["akaike_weight"] = _weights_within(out, "delta_aic")
    out["bic_weight"] = _weights_within(out, "delta_bic")
    best_rows = by[criterion].idxmin()
    out["best"] = False
    out.loc[best_rows.to_numpy(), "best"] = True
    return out


def _weights_within(table: pd.DataFrame, delta_column: str) -> pd.Series:
    # Deltas are already relative to the participant's minimum, so exp() is safe.
    rel = np.exp(-0.5 * table[delta_column])
    return rel / rel.groupby(table["participant"], sort=False).transform("sum")


def group_sums(fits: pd.DataFrame) -> pd.DataFrame:
    """Sum the fit statistics of each model over participants (fixed-effects comparison).

    Parameters
    ----------
    fits
        Tidy fits table; every participant must have been fitted with every model.

    Returns
    -------
    pandas.DataFrame
        One row per model, in order of first appearance in ``fits``, with
        ``model, n_participants, n_params`` (mean over participants), ``sum_nll,
        sum_aic, sum_bic``.
    """
    check_fits(fits, complete=True)
    work = fits[["model", "n_params", "nll", "aic", "bic"]].copy()
    for col in ("n_params", "nll", "aic", "bic"):
        work[col] = work[col].astype(float)
    grouped = work.groupby("model", sort=False)
    out = pd.DataFrame(
        {
            "n_participants": grouped.size(),
            "n_params": grouped["n_params"].mean().convert_dtypes(),  # 4, not 4.000
            "sum_nll": grouped["nll"].sum(),
            "sum_aic": grouped["aic"].sum(),
            "sum_bic": grouped["bic"].sum(),
        }
    )
    return out.rename_axis("model").reset_index()
