"""Learning curves: hand-computed examples, t intervals, predictive bands, expected curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from catmodel.simulate.curves import (
    CURVE_COLUMNS,
    accuracy_by_block,
    compare_curves,
    correct_probability,
    curves_table,
    expected_accuracy_by_block,
    group_curve,
    predictive_curves,
    probability_columns,
)


@pytest.fixture
def tiny() -> pd.DataFrame:
    """Two participants, two blocks; one missing response, one trial without a category."""
    return pd.DataFrame(
        {
            "participant": ["a"] * 5 + ["b"] * 4,
            "block": [1, 1, 2, 2, 2, 1, 1, 2, 2],
            "condition": ["x"] * 5 + ["y"] * 4,
            "category": ["A", "B", "A", "B", None, "A", "B", "A", "B"],
            "response": ["A", "A", None, "B", "A", "A", "B", "B", "B"],
            "p_m_A": [0.9, 0.2, 0.5, 0.4, 0.7, 0.8, 0.3, 0.6, 0.1],
            "p_m_B": [0.1, 0.8, 0.5, 0.6, 0.3, 0.2, 0.7, 0.4, 0.9],
        }
    )


def test_accuracy_by_block_by_hand(tiny):
    per = accuracy_by_block(tiny)
    assert per.columns.tolist() == ["participant", "block", "accuracy", "n_trials"]
    # a: block 1 A->A right, B->A wrong; block 2: missing response and missing category
    # leave one trial, B->B right. b: block 1 both right; block 2 A->B wrong, B->B right.
    assert per["accuracy"].tolist() == [0.5, 1.0, 1.0, 0.5]
    assert per["n_trials"].tolist() == [2, 1, 2, 2]


def test_numeric_labels_and_nan_responses():
    frame = pd.DataFrame(
        {
            "participant": 1,
            "block": [1, 1, 1, 2],
            "category": [0, 1, 1, 0],
            "response": [0.0, np.nan, 0.0, 0.0],
        }
    )
    per = accuracy_by_block(frame)
    assert per["accuracy"].tolist() == [0.5, 1.0]


def test_a_block_without_counted_trials_has_no_row():
    frame = pd.DataFrame(
        {"participant": "a", "block": [1, 2], "category": ["A", "B"], "response": ["A", None]}
    )
    assert accuracy_by_block(frame)["block"].tolist() == [1]


def test_groups_are_kept_apart(tiny):
    per = accuracy_by_block(tiny, group="condition")
    assert per.columns.tolist() == ["participant", "condition", "block", "accuracy", "n_trials"]
    curve = group_curve(per, by="condition")
    assert curve[["condition", "block"]].values.tolist() == [["x", 1], ["x", 2], ["y", 1], ["y", 2]]
    assert curve["mean"].tolist() == [0.5, 1.0, 1.0, 0.5]
    assert curve["n"].tolist() == [1, 1, 1, 1]
    # n = 1: no spread, no interval
    assert curve[["sd", "ci_low", "ci_high"]].isna().all().all()


def test_group_curve_mean_and_t_interval_match_scipy():
    rng = np.random.default_rng(0)
    per = pd.DataFrame(
        {
            "participant": np.repeat(np.arange(7), 3),
            "block": np.tile([1, 2, 3], 7),
            "accuracy": rng.uniform(0.3, 1.0, 21),
        }
    )
    for level in (0.95, 0.8):
        curve = group_curve(per, ci=level)
        for _, row in curve.iterrows():
            values = per.loc[per["block"] == row["block"], "accuracy"]
            lo, hi = stats.t.interval(
                level, len(values) - 1, loc=values.mean(), scale=stats.sem(values)
            )
            assert row["mean"] == pytest.approx(values.mean())
            assert row["n"] == 7
            assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)


def test_group_curve_of_identical_participants_has_a_zero_width_interval():
    per = pd.DataFrame({"participant": ["a", "b", "c"], "block": 1, "accuracy": 0.75})
    row = group_curve(per).iloc[0]
    assert row["ci_low"] == row["ci_high"] == 0.75


def test_group_curve_counts_participants_not_rows():
    # participant a has two rows in block 1 (e.g. two phases not in `by`): averaged first
    per = pd.DataFrame({"participant": ["a", "a", "b"], "block": 1, "accuracy": [0.2, 0.4, 0.9]})
    row = group_curve(per).iloc[0]
    assert row["n"] == 2 and row["mean"] == pytest.approx((0.3 + 0.9) / 2)


def test_predictive_curves_by_hand():
    # participant a: run 1 block 1 = 1/2, run 2 = 2/2; participant b: run 1 = 0/2, run 2 = 1/2
    sim = pd.DataFrame(
        {
            "participant": ["a"] * 4 + ["b"] * 4,
            "run": [1, 1, 2, 2] * 2,
            "block": 1,
            "category": ["A", "B"] * 4,
            "response": ["A", "A", "A", "B", "B", "A", "A", "A"],
        }
    )
    curve = predictive_curves(sim, interval=0.5).iloc[0]
    # per participant over runs: a .75, b .25; across participants .5
    assert curve["mean"] == pytest.approx(0.5)
    assert curve["n"] == 2 and curve["n_runs"] == 2
    lo, hi = stats.t.interval(0.95, 1, loc=0.5, scale=stats.sem([0.75, 0.25]))
    assert curve["ci_low"] == pytest.approx(lo) and curve["ci_high"] == pytest.approx(hi)
    # group curve per run: run 1 (.5 + 0)/2 = .25, run 2 (1 + .5)/2 = .75
    assert curve["pi_low"] == pytest.approx(np.quantile([0.25, 0.75], 0.25))
    assert curve["pi_high"] == pytest.approx(np.quantile([0.25, 0.75], 0.75))


def test_predictive_interval_spans_the_run_curves():
    rng = np.random.default_rng(1)
    n_runs, n_part, n_trials = 40, 5, 20
    sim = pd.DataFrame(
        {
            "participant": np.tile(np.repeat(np.arange(n_part), n_trials), n_runs),
            "run": np.repeat(np.arange(n_runs), n_part * n_trials),
            "block": 1,
            "category": "A",
            "response": np.where(rng.random(n_runs * n_part * n_trials) < 0.7, "A", "B"),
        }
    )
    curve = predictive_curves(sim, group=None).iloc[0]
    runs = (sim["response"] == "A").groupby(sim["run"]).mean()
    assert curve["pi_low"] == pytest.approx(runs.quantile(0.025))
    assert curve["pi_high"] == pytest.approx(runs.quantile(0.975))
    assert curve["mean"] == pytest.approx(runs.mean())


def test_expected_accuracy_is_the_mean_correct_probability(tiny):
    per = expected_accuracy_by_block(tiny, "m")
    assert per.columns.tolist() == ["model", "participant", "block", "accuracy", "n_trials"]
    # trials with a category: a1 (.9, .8), a2 (.5, .6), b1 (.8, .7), b2 (.6, .9)
    np.testing.assert_allclose(per["accuracy"], [0.85, 0.55, 0.75, 0.75])
    assert per["n_trials"].tolist() == [2, 2, 2, 2]
    same = expected_accuracy_by_block(tiny, {"m": {"A": "p_m_A", "B": "p_m_B"}})
    pd.testing.assert_frame_equal(per, same)
    # restricted to the trials with a response, as the data's curve is
    responded = expected_accuracy_by_block(tiny, ["m"], response="response")
    np.testing.assert_allclose(responded["accuracy"], [0.85, 0.6, 0.75, 0.75])


def test_expected_accuracy_agrees_with_sampled_responses():
    rng = np.random.default_rng(2)
    n = 4000
    frame = pd.DataFrame(
        {
            "participant": "a",
            "block": np.repeat([1, 2], n // 2),
            "category": rng.choice(["A", "B"], n),
        }
    )
    frame["p_m_A"] = rng.uniform(0, 1, n)
    frame["p_m_B"] = 1 - frame["p_m_A"]
    p_correct = correct_probability(frame, {"A": "p_m_A", "B": "p_m_B"})
    draws = rng.random((200, n)) < p_correct
    expected = expected_accuracy_by_block(frame, "m")["accuracy"].to_numpy()
    sampled = np.array([draws[:, frame["block"] == b].mean() for b in (1, 2)])
    np.testing.assert_allclose(expected, sampled, atol=0.005)
    np.testing.assert_allclose(expected, [p_correct[frame["block"] == b].mean() for b in (1, 2)])


def test_probability_columns_need_every_label(tiny):
    assert probability_columns(tiny, "m") == {"m": {"A": "p_m_A", "B": "p_m_B"}}
    with pytest.raises(KeyError, match="p_gcm_A"):
        probability_columns(tiny, ["m", "gcm"])


def test_curves_table_puts_sources_side_by_side(tiny):
    data = group_curve(accuracy_by_block(tiny))
    model = group_curve(expected_accuracy_by_block(tiny, "m"))
    table = curves_table(data, {"m": model})
    assert table.columns.tolist() == list(CURVE_COLUMNS)
    assert table["source"].tolist() == ["data", "data", "m", "m"]
    np.testing.assert_allclose(table["mean"], [0.75, 0.75, 0.8, 0.65])
    sim = pd.concat([tiny.assign(run=r) for r in (1, 2)])
    with_pi = curves_table(data, {"m": predictive_curves(sim)})
    assert with_pi.columns.tolist() == [*CURVE_COLUMNS, "pi_low", "pi_high"]
    assert with_pi.loc[with_pi["source"] == "data", "pi_low"].isna().all()
    assert with_pi.loc[with_pi["source"] == "m", "pi_low"].notna().all()


def test_compare_curves_with_groups(tiny):
    table = compare_curves(tiny, "m", group="condition")
    assert table.columns.tolist() == [
        "source",
        "block",
        "condition",
        "mean",
        "ci_low",
        "ci_high",
        "n",
    ]
    assert len(table) == 8
    data = table[table["source"] == "data"]
    assert data["mean"].tolist() == [0.5, 1.0, 1.0, 0.5]
    model = table[table["source"] == "m"]
    # only trials with a response count: a block 2 keeps just the B trial (.6)
    np.testing.assert_allclose(model["mean"], [0.85, 0.6, 0.75, 0.75])


def test_pandas_missing_values_in_string_columns():
    frame = pd.DataFrame(
        {
            "participant": "a",
            "block": 1,
            "category": pd.array(["A", "B", pd.NA, "A"], dtype="string"),
            "response": pd.array(["A", pd.NA, "A", "B"], dtype="string"),
        }
    )
    per = accuracy_by_block(frame)
    assert per["accuracy"].tolist() == [0.5] and per["n_trials"].tolist() == [2]
