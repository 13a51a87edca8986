"""The per-participant and per-model comparison tables."""

from __future__ import annotations

import numpy as np
import pytest

from catmodel.compare.bms import bms_from_fits
from catmodel.compare.criteria import FitsTableError, UnknownCriterionError, per_participant
from catmodel.compare.table import compare_fits


def test_group_table_contents(fits):
    comparison, group = compare_fits(fits)
    assert list(group.columns) == [
        "model",
        "n_params",
        "sum_nll",
        "sum_aic",
        "sum_bic",
        "n_best",
        "expected_frequency",
        "exceedance",
        "protected_exceedance",
        "integrated_bic",
        "bms_evidence",
        "bms_prior",
    ]
    # ML fits: the BMS ran on -BIC/2 with SPM's prior, and no model has an integrated BIC
    assert (group["bms_evidence"] == "bic").all() and (group["bms_prior"] == "1").all()
    assert group["integrated_bic"].isna().all()
    assert comparison.equals(per_participant(fits, "bic"))
    indexed = group.set_index("model")
    for model, rows in fits.groupby("model"):
        assert indexed.loc[model, "sum_nll"] == pytest.approx(rows["nll"].sum(), rel=1e-12)
        assert indexed.loc[model, "sum_bic"] == pytest.approx(rows["bic"].sum(), rel=1e-12)
        assert indexed.loc[model, "n_params"] == rows["n_params"].mean()
    # n_best counted independently: argmin of BIC within each participant.
    wide = fits.pivot(index="participant", columns="model", values="bic")
    winners = wide.idxmin(axis=1).value_counts()
    for model in group["model"]:
        assert indexed.loc[model, "n_best"] == winners.get(model, 0)
    assert group["n_best"].sum() == fits["participant"].nunique()
    assert np.all(np.diff(group["sum_bic"]) >= 0)
    bms = bms_from_fits(fits).to_frame().set_index("model")
    np.testing.assert_allclose(
        indexed.loc[bms.index, "protected_exceedance"], bms["protected_exceedance"], rtol=1e-12
    )
    assert group["expected_frequency"].sum() == pytest.approx(1.0, abs=1e-12)
    assert group.attrs["bor"] == pytest.approx(bms.attrs["bor"])
    assert group.attrs["criterion"] == "bic"
    # gcm was simulated as the better model by 6 nll per participant.
    assert group.loc[0, "model"] == "gcm"
    assert group.loc[0, "exceedance"] > 0.95


def test_criterion_changes_ranking_and_evidence(make_fits):
    # The 4-parameter model fits a little better, enough for AIC but not for BIC's
    # ln(n) penalty with 150–300 trials.
    fits = make_fits(n_participants=20, seed=4, advantage={"gaussian": 3.5})
    _, by_bic = compare_fits(fits, "bic")
    _, by_aic = compare_fits(fits, "aic")
    assert by_aic.loc[0, "model"] == "gaussian"
    assert by_bic.loc[0, "model"] == "prototype"
    assert np.all(np.diff(by_aic["sum_aic"]) >= 0)
    aic_bms = bms_from_fits(fits, "aic").to_frame().set_index("model")
    np.testing.assert_allclose(
        by_aic.set_index("model").loc[aic_bms.index, "expected_frequency"],
        aic_bms["expected_frequency"],
        rtol=1e-12,
    )


def test_compare_fits_validates(fits):
    with pytest.raises(UnknownCriterionError):
        compare_fits(fits, "dic")
    with pytest.raises(FitsTableError):
        compare_fits(fits.iloc[1:])
