"""Compare a fitted parameter between conditions with statsmodels.

One row per participant: ordinary least squares with the condition as a categorical
factor. Several rows per participant (several problems, or a within-participant
condition): a linear mixed model with a random intercept per participant, so that
the participant's repeated estimates are not counted as independent. Parameters that
live on a log scale (learning rates, sensitivities) are compared as log10 values, and
probabilities on a logit scale (``lapse``) as log-odds, ``ln(p / (1 - p))`` — the scales the
fits search and report them on; the table's ``response`` column names the scale used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from catmodel.compare.criteria import FitsTableError
from catmodel.errors import SettingsError

__all__ = [
    "ANALYSIS_SCALES",
    "ParameterComparison",
    "UnknownScaleError",
    "analysis_scale",
    "compare_parameters",
    "use_log_scale",
]

#: the scales a parameter can be compared on (those of :class:`catmodel.models.base.Param`)
ANALYSIS_SCALES: tuple[str, ...] = ("log", "logit", "linear")


class UnknownScaleError(SettingsError, ValueError):
    """A parameter's scale is none of :data:`ANALYSIS_SCALES`."""


TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "response",
    "estimate",
    "se",
    "statistic",
    "statistic_type",
    "df_num",
    "df_denom",
    "p",
    "ci_low",
    "ci_high",
    "n",
)


class ParameterComparison(NamedTuple):
    """The statsmodels fit and its tidy summary.

    ``table`` has one row per coefficient (``Intercept`` is the reference
    condition's mean, ``C(by)[T.level]`` the difference of ``level`` from it) and a
    last row ``C(by) [omnibus]`` with the test that all condition means are equal:
    an F test for OLS, a Wald χ² test for the mixed model. Columns: ``term,
    response`` (``"log10(name)"``, ``"logit(name)"`` or ``"name"``: the scale
    compared), ``estimate, se, statistic, statistic_type`` (``t``, ``z``, ``F`` or
    ``chi2``), ``df_num, df_denom, p, ci_low, ci_high, n``. ``n`` counts the
    observations of the condition a coefficient refers to (the reference condition
    for the intercept) and all
    observations for the omnibus row.
    """

    result: Any
    table: pd.DataFrame


def use_log_scale(
    values: pd.Series | np.ndarray,
    parameter: str,
    log: bool | None = None,
    log_scaled: Iterable[str] | None = None,
    scales: Mapping[str, str] | None = None,
) -> bool:
    """Decide whether ``parameter`` is analysed on the log10 scale.

    Parameters
    ----------
    values, parameter, log, log_scaled, scales
        As for :func:`analysis_scale`.

    Returns
    -------
    bool
        ``analysis_scale(...) == "log"``.
    """
    return analysis_scale(values, parameter, log, log_scaled, scales) == "log"


def analysis_scale(
    values: pd.Series | np.ndarray,
    parameter: str,
    log: bool | None = None,
    log_scaled: Iterable[str] | None = None,
    scales: Mapping[str, str] | None = None,
) -> str:
    """The scale ``parameter`` is compared on: ``"log"``, ``"logit"`` or ``"linear"``.

    Parameters
    ----------
    values
        The parameter's values.
    parameter
        Its column name.
    log
        ``True`` or ``False`` forces log10 or the natural scale (``True`` with a
        non-positive value raises ``ValueError``); ``None`` decides from the other
        arguments.
    log_scaled
        Names of log-scaled parameters.
    scales
        ``{name: "log" | "logit" | "linear"}`` (the fit's scales, e.g. from
        :func:`catmodel.results.free_parameter_scales`); overrides ``log_scaled`` for
        names it lists.

    Returns
    -------
    str
        With ``log=None``: ``"log"`` when the parameter is marked log-scaled and all
        values are positive; ``"logit"`` when its scale is ``"logit"`` and all values
        lie strictly between 0 and 1; ``"linear"`` otherwise (a transform that a value
        lies outside of would drop that participant).

    Raises
    ------
    UnknownScaleError
        ``scales`` gives the parameter a scale not in :data:`ANALYSIS_SCALES`.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    positive = bool(v.size) and bool(np.all(v > 0))
    if log is not None:
        if log and not positive:
            raise ValueError(f"log scale asked for {parameter!r}, which has values <= 0")
        return "log" if log else "linear"
    if scales is not None and parameter in scales:
        scale = str(scales[parameter]).lower()
        if scale not in ANALYSIS_SCALES:
            raise UnknownScaleError(
                f"scale of {parameter!r} must be one of {', '.join(ANALYSIS_SCALES)}, not {scale!r}"
            )
        if scale == "log" and positive:
            return "log"
        if scale == "logit" and positive and bool(np.all(v < 1)):
            return "logit"
        return "linear"
    marked = log_scaled is not None and parameter in set(log_scaled)
    return "log" if marked and positive else "linear"


def transformed(values: pd.Series, scale: str) -> pd.Series:
    """``values`` on ``scale``: log10, log-odds (natural log) or unchanged."""
    x = values.astype(float)
    if scale == "log":
        return np.log10(x)
    if scale == "logit":
        return np.log(x) - np.log1p(-x)
    return x


def response_label(parameter: str, scale: str) -> str:
    """What the table's ``response`` column says: ``log10(name)``, ``logit(name)`` or
    ``name``."""
    return {"log": f"log10({parameter})", "logit": f"logit({parameter})"}.get(scale, parameter)


def compare_parameters(
    fits: pd.DataFrame,
    parameter: str,
    by: str = "condition",
    log: bool | None = None,
    groups: str | None = None,
    *,
    log_scaled: Iterable[str] | None = None,
    scales: Mapping[str, str] | None = None,
    levels: Sequence[Any] | None = None,
    mixed: bool | None = None,
    alpha: float = 0.05,
) -> ParameterComparison:
    """Test whether a fitted parameter differs between conditions.

    Parameters
    ----------
    fits
        Fits table with a column ``parameter``, the condition column ``by`` and the
        participant column (``groups``); usually the rows of a single model.
    parameter
        Name of the parameter's column.
    by
        Condition column, entered as a categorical factor ``C(by)``.
    log
        Analyse ``log10(parameter)``: ``True``/``False`` forces it (or the natural
        scale); ``None`` (default) decides with :func:`analysis_scale` from
        ``log_scaled`` and ``scales`` (log10, logit or natural).
    groups
        Column identifying the participant, the grouping of the random intercept;
        defaults to ``"participant"``.
    log_scaled, scales
        Which parameters are log- or logit-scaled (see :func:`analysis_scale`).
    levels
        Order of the condition levels; the first is the reference. Defaults to the
        sorted levels.
    mixed
        ``True``/``False`` forces the mixed / OLS model; ``None`` uses the mixed model
        when some participant has more than one row.
    alpha
        1 − confidence level of the intervals.

    Returns
    -------
    ParameterComparison
        ``(result, table)``: the statsmodels results object and the tidy table.
    """
    group_col = "participant" if groups is None else groups
    for column in (parameter, by, group_col):
        if column not in fits.columns:
            raise FitsTableError(f"fits table lacks the column {column!r}")
    data = fits[[group_col, by, parameter]].copy()
    data[parameter] = pd.to_numeric(data[parameter], errors="coerce")
    data = data[np.isfinite(data[parameter].to_numpy(dtype=float))]
    data = data.dropna(subset=[by, group_col])
    if data.empty:
        raise FitsTableError(f"no finite values of {parameter!r}")

    scale = analysis_scale(data[parameter], parameter, log, log_scaled, scales)
    data["_y"] = transformed(data[parameter], scale)
    response = response_label(parameter, scale)

    present = sorted(pd.unique(data[by]).tolist())
    order = list(levels) if levels is not None else present
    unknown = set(present) - set(order)
    if unknown:
        raise ValueError(f"levels misses the condition(s) {sorted(unknown)!r}")
    order = [lv for lv in order if lv in set(present)]
    if len(order) < 2:
        raise FitsTableError(f"{by!r} needs at least two levels with data to compare")
    data["_cond"] = pd.Categorical(data[by], categories=order)
    data["_group"] = data[group_col].astype(str)

    if mixed is None:
        mixed = bool(data["_group"].duplicated().any())
    formula = "_y ~ C(_cond)"
    if mixed:
        # statsmodels' own warnings (e.g. a random-intercept variance on the boundary)
        # are left to reach the user.
        result = smf.mixedlm(formula, data, groups=data["_group"]).fit(reml=True)
    else:
        result = smf.ols(formula, data).fit()

    table = _tidy(result, data, by, order, response, mixed, alpha)
    return ParameterComparison(result=result, table=table)


def _tidy(
    result: Any,
    data: pd.DataFrame,
    by: str,
    order: list[Any],
    response: str,
    mixed: bool,
    alpha: float,
) -> pd.DataFrame:
    counts = data["_cond"].value_counts()
    ci = result.conf_int(alpha=alpha)
    fixed = list(result.fe_params.index) if mixed else list(result.params.index)
    rows = []
    for name in fixed:
        if name == "Intercept":
            term, n = "Intercept", int(counts[order[0]])
        else:
            level = name.split("[T.", 1)[1][:-1]
            match = [lv for lv in order if str(lv) == level]
            term = f"C({by})[T.{level}]"
            n = int(counts[match[0]]) if match else len(data)
        rows.append(
            {
                "term": term,
                "response": response,
                "estimate": float(result.params[name]),
                "se": float(result.bse[name]),
                "statistic": float(result.tvalues[name]),
                "statistic_type": "z" if mixed else "t",
                "df_num": np.nan,
                "df_denom": np.nan if mixed else float(result.df_resid),
                "p": float(result.pvalues[name]),
                "ci_low": float(ci.loc[name, 0]),
                "ci_high": float(ci.loc[name, 1]),
                "n": n,
            }
        )
    omnibus = result.wald_test_terms(scalar=True).table.loc["C(_cond)"]
    rows.append(
        {
            "term": f"C({by}) [omnibus]",
            "response": response,
            "estimate": np.nan,
            "se": np.nan,
            "statistic": float(omnibus["statistic"]),
            "statistic_type": "chi2" if mixed else "F",
            "df_num": float(omnibus["df_constraint"]),
            "df_denom": np.nan if mixed else float(omnibus["df_denom"]),
            "p": float(omnibus["pvalue"]),
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": len(data),
        }
    )
    return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
