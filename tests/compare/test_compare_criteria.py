"""Information criteria, their weights and the per-participant table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from catmodel.compare.criteria import (
    FitsTableError,
    UnknownCriterionError,
    aic,
    akaike_weights,
    bic,
    group_sums,
    per_participant,
)


def test_aic_bic_formulas():
    assert aic(100.5, 3) == pytest.approx(207.0)
    assert bic(100.0, 2, 100) == pytest.approx(200.0 + 2 * math.log(100), rel=1e-12)
    out = bic(np.array([10.0, 20.0]), np.array([1, 3]), np.array([50, 200]))
    np.testing.assert_allclose(out, [20 + math.log(50), 40 + 3 * math.log(200)], rtol=1e-12)
    with pytest.raises(ValueError):
        bic(10.0, 1, 0)


def test_akaike_weights_values():
    w = akaike_weights([100.0, 102.0, 110.0])
    expected = np.array([1.0, math.exp(-1.0), math.exp(-5.0)])
    np.testing.assert_allclose(w, expected / expected.sum(), rtol=1e-12)
    # Huge criteria must not underflow to 0/0.
    np.testing.assert_allclose(akaike_weights([1e6, 1e6 + 2.0]), w[:2] / w[:2].sum(), rtol=1e-12)
    np.testing.assert_allclose(akaike_weights([5.0, np.inf]), [1.0, 0.0])
    with pytest.raises(ValueError):
        akaike_weights([1.0, np.nan])


@pytest.fixture
def small_fits() -> pd.DataFrame:
    # Two participants × three models; numbers chosen so AIC and BIC disagree for s2.
    rows = [
        # participant, model, nll, k, n
        ("s1", "A", 50.0, 1, 100),
        ("s1", "B", 45.0, 3, 100),
        ("s1", "C", 52.0, 2, 100),
        ("s2", "A", 60.0, 1, 400),
        ("s2", "B", 57.5, 3, 400),
        ("s2", "C", 60.0, 2, 400),
    ]
    frame = pd.DataFrame(rows, columns=["participant", "model", "nll", "n_params", "n_trials"])
    frame["aic"] = aic(frame["nll"].to_numpy(), frame["n_params"].to_numpy())
    frame["bic"] = bic(frame["nll"], frame["n_params"], frame["n_trials"])
    frame["condition"] = ["x", "x", "x", "y", "y", "y"]
    return frame


def test_per_participant_deltas_weights_best(small_fits):
    table = per_participant(small_fits, "bic")
    assert list(table.columns) == [
        "participant",
        "model",
        "condition",
        "nll",
        "aic",
        "bic",
        "delta_aic",
        "delta_bic",
        "akaike_weight",
        "bic_weight",
        "best",
    ]
    s1 = table[table.participant == "s1"].set_index("model")
    # AIC: A 102, B 96, C 108 -> B best, deltas 6, 0, 12.
    np.testing.assert_allclose(s1["delta_aic"], [6.0, 0.0, 12.0])
    w = np.exp(-0.5 * np.array([6.0, 0.0, 12.0]))
    np.testing.assert_allclose(s1["akaike_weight"], w / w.sum(), rtol=1e-12)
    # BIC s1: A 100+ln100, B 90+3ln100, C 104+2ln100.
    b = np.array([100 + math.log(100), 90 + 3 * math.log(100), 104 + 2 * math.log(100)])
    np.testing.assert_allclose(s1["delta_bic"], b - b.min(), rtol=1e-12)
    assert s1["best"].tolist() == [False, True, False]
    s2 = table[table.participant == "s2"].set_index("model")
    # s2: AIC prefers B (121 vs 122), BIC prefers A (120 + ln400 vs 115 + 3 ln400).
    assert s2.loc["B", "delta_aic"] == pytest.approx(0.0)
    assert s2["best"].tolist() == [True, False, False]
    assert (
        per_participant(small_fits, "aic")
        .set_index(["participant", "model"])
        .loc[("s2", "B"), "best"]
    )
    for _, grp in table.groupby("participant"):
        assert grp["bic_weight"].sum() == pytest.approx(1.0, abs=1e-12)
        assert grp["best"].sum() == 1
    assert table["condition"].tolist() == small_fits["condition"].tolist()


def test_per_participant_tie_goes_to_first_listed(small_fits):
    tied = small_fits.copy()
    tied.loc[tied.model == "C", ["nll", "aic", "bic"]] = tied.loc[
        tied.model == "A", ["nll", "aic", "bic"]
    ].to_numpy()
    tied = tied[tied.participant == "s2"]
    table = per_participant(tied, "bic").set_index("model")
    assert table["best"].tolist() == [True, False, False]
    assert table.loc["C", "delta_bic"] == 0.0


def test_group_sums(small_fits):
    sums = group_sums(small_fits).set_index("model")
    assert sums.loc["B", "sum_nll"] == pytest.approx(102.5)
    assert sums.loc["A", "sum_aic"] == pytest.approx(2 * 110 + 4)
    assert sums.loc["C", "sum_bic"] == pytest.approx(224 + 2 * math.log(100) + 2 * math.log(400))
    assert sums.loc["A", "n_participants"] == 2
    assert list(sums.index) == ["A", "B", "C"]


def test_bad_tables_and_criteria(small_fits):
    with pytest.raises(FitsTableError, match="bic"):
        per_participant(small_fits.drop(columns="bic"))
    with pytest.raises(FitsTableError, match="several rows"):
        per_participant(pd.concat([small_fits, small_fits.iloc[:1]]))
    with pytest.raises(UnknownCriterionError):
        per_participant(small_fits, "waic")
    with pytest.raises(FitsTableError, match="every model"):
        group_sums(small_fits.iloc[:-1])
    nan = small_fits.copy()
    nan.loc[0, "nll"] = np.nan
    with pytest.raises(FitsTableError, match="non-finite"):
        per_participant(nan)
