"""The model-comparison tables: per participant, and per model over the group."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from catmodel.compare.bms import bms_from_fits
from catmodel.compare.criteria import check_criterion, group_sums, per_participant

__all__ = ["COMPARISON", "GROUP", "compare_fits", "write_comparison"]

#: file names of the two tables in a results folder
COMPARISON = "comparison.csv"
GROUP = "group.csv"


def compare_fits(
    fits: pd.DataFrame, criterion: str = "bic", **bms_options: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare the models of a fits table per participant and over the group.

    Parameters
    ----------
    fits
        Tidy fits table, one row per participant × model with at least
        ``participant, model, nll, aic, bic, n_params, n_trials``; every participant
        must have been fitted with every model.
    criterion
        ``"bic"`` (default) or ``"aic"``: decides each participant's best model, the
        log evidence of the Bayesian model selection (−criterion/2) and the sort
        order of the group table.
    **bms_options
        Passed to :func:`catmodel.compare.bms.random_effects_bms`.

    Returns
    -------
    comparison : pandas.DataFrame
        :func:`catmodel.compare.criteria.per_participant` of ``fits``.
    group : pandas.DataFrame
        One row per model: ``model, n_params`` (mean over participants), ``sum_nll,
        sum_aic, sum_bic, n_best`` (participants best fit by the criterion),
        ``expected_frequency, exceedance, protected_exceedance``, sorted by the sum
        of the criterion (best first). ``group.attrs`` holds ``criterion`` and the
        Bayes omnibus risk ``bor``.
    """
    criterion = check_criterion(criterion)
    comparison = per_participant(fits, criterion)
    sums = group_sums(fits)
    n_best = comparison.groupby("model", sort=False)["best"].sum().astype(int)
    bms = bms_from_fits(fits, criterion, **bms_options).to_frame()

    group = sums.drop(columns="n_participants")
    group["n_best"] = group["model"].map(n_best).fillna(0).astype(int)
    group = group.merge(
        bms[["model", "expected_frequency", "exceedance", "protected_exceedance"]],
        on="model",
        how="left",
        validate="1:1",
    )
    group = group.sort_values(f"sum_{criterion}", kind="stable").reset_index(drop=True)
    group.attrs["criterion"] = criterion
    group.attrs["bor"] = bms.attrs["bor"]
    return comparison, group


def write_comparison(
    folder: str | Path, fits: pd.DataFrame, criterion: str = "bic"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`compare_fits`, with both tables written into ``folder`` (atomically) as
    :data:`COMPARISON` and :data:`GROUP`."""
    from catmodel.atomic import write_csv

    comparison, group = compare_fits(fits, criterion=criterion)
    write_csv(comparison, Path(folder) / COMPARISON)
    write_csv(group, Path(folder) / GROUP)
    return comparison, group
