"""The model-comparison tables: per participant, and per model over the group."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from catmodel.compare.bms import bms_evidence, bms_from_fits, bms_prior
from catmodel.compare.criteria import check_criterion, group_sums, per_participant

__all__ = ["COMPARISON", "GROUP", "compare_fits", "write_comparison"]

#: file names of the two tables in a results folder
COMPARISON = "comparison.csv"
GROUP = "group.csv"


def compare_fits(
    fits: pd.DataFrame,
    criterion: str = "bic",
    *,
    prior: str = "1",
    integrated_bic: Mapping[str, float] | None = None,
    **bms_options: object,
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
        log evidence of the Bayesian model selection (−criterion/2; but see
        :func:`~catmodel.compare.bms.bms_evidence`: the Laplace log evidence when every
        model was fitted by empirical Bayes) and the sort order of the group table.
    prior
        The BMS's Dirichlet prior: ``"1"`` (SPM) or ``"1/K"`` (VBA toolbox).
    integrated_bic
        ``{model: integrated BIC}`` of the empirical-Bayes models (Huys et al. 2011), written
        to the group table's ``integrated_bic`` column (empty for the others).
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
        of the criterion (best first), then ``integrated_bic``, ``bms_evidence`` (the
        quantity the BMS used: ``log_evidence``, ``bic`` or ``aic``) and ``bms_prior``.
        ``group.attrs`` holds ``criterion``, the Bayes omnibus risk ``bor``, ``bms_evidence``,
        ``bms_prior``, ``alpha0`` (the prior count) and ``message`` (a line naming the
        quantity the BMS used).
    """
    criterion = check_criterion(criterion)
    comparison = per_participant(fits, criterion)
    sums = group_sums(fits)
    n_best = comparison.groupby("model", sort=False)["best"].sum().astype(int)
    quantity, message = bms_evidence(fits, criterion)
    alpha0 = bms_prior(prior, int(fits["model"].nunique()))
    bms = bms_from_fits(fits, quantity, alpha0=alpha0, **bms_options).to_frame()

    group = sums.drop(columns="n_participants")
    group["n_best"] = group["model"].map(n_best).fillna(0).astype(int)
    group = group.merge(
        bms[["model", "expected_frequency", "exceedance", "protected_exceedance"]],
        on="model",
        how="left",
        validate="1:1",
    )
    group = group.sort_values(f"sum_{criterion}", kind="stable").reset_index(drop=True)
    ibic = dict(integrated_bic or {})
    group["integrated_bic"] = [float(ibic.get(m, np.nan)) for m in group["model"]]
    group["bms_evidence"] = quantity
    group["bms_prior"] = str(prior).strip().upper()
    group.attrs["criterion"] = criterion
    group.attrs["bor"] = bms.attrs["bor"]
    group.attrs.update(
        {"bms_evidence": quantity, "bms_prior": group["bms_prior"].iloc[0], "alpha0": alpha0}
    )
    group.attrs["message"] = f"{message}; Dirichlet prior {group.attrs['bms_prior']} ({alpha0:g})"
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
