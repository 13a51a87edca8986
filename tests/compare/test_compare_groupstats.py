"""Comparing fitted parameters between conditions (OLS and mixed models)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from catmodel.compare.criteria import FitsTableError
from catmodel.compare.groupstats import (
    UnknownScaleError,
    analysis_scale,
    compare_parameters,
    use_log_scale,
)
from catmodel.errors import CatmodelError


def between_subjects(seed: int, effects: dict[str, float], n_per: int = 40, sd: float = 0.25):
    """One row per participant; log10(c) = 1 + effect of the condition + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for cond, eff in effects.items():
        for i in range(n_per):
            rows.append(
                {
                    "participant": f"{cond}{i}",
                    "model": "gcm",
                    "condition": cond,
                    "c": 10 ** (1.0 + eff + rng.normal(0.0, sd)),
                    "w": rng.uniform(0.2, 0.8),
                }
            )
    return pd.DataFrame(rows)


def test_ols_recovers_known_log_effects():
    data = between_subjects(11, {"ctrl": 0.0, "fast": 0.3, "slow": -0.2})
    result, table = compare_parameters(data, "c", log_scaled={"c"})
    assert result.model.__class__.__name__ == "OLS"
    assert table["term"].tolist() == [
        "Intercept",
        "C(condition)[T.fast]",
        "C(condition)[T.slow]",
        "C(condition) [omnibus]",
    ]
    assert (table["response"] == "log10(c)").all()
    coef = table.set_index("term")
    # With one factor, OLS coefficients are differences of the condition means of
    # log10(c): an exact identity.
    means = np.log10(data["c"]).groupby(data["condition"]).mean()
    assert coef.loc["Intercept", "estimate"] == pytest.approx(means["ctrl"], abs=1e-10)
    assert coef.loc["C(condition)[T.fast]", "estimate"] == pytest.approx(
        means["fast"] - means["ctrl"], abs=1e-10
    )
    # And close to the truth: SE of a difference is 0.25 * sqrt(2/40) = 0.056.
    assert coef.loc["C(condition)[T.fast]", "estimate"] == pytest.approx(0.3, abs=0.15)
    assert coef.loc["C(condition)[T.slow]", "estimate"] == pytest.approx(-0.2, abs=0.15)
    assert coef.loc["C(condition)[T.fast]", "se"] == pytest.approx(0.25 * np.sqrt(2 / 40), rel=0.2)
    row = coef.loc["C(condition)[T.fast]"]
    t_crit = stats.t.ppf(0.975, row["df_denom"])
    assert row["ci_low"] == pytest.approx(row["estimate"] - t_crit * row["se"], rel=1e-9)
    assert row["statistic_type"] == "t" and row["n"] == 40 and row["p"] < 1e-4
    omni = coef.loc["C(condition) [omnibus]"]
    assert omni["statistic_type"] == "F"
    assert (omni["df_num"], omni["df_denom"]) == (2.0, 117.0)
    assert omni["p"] < 1e-6 and omni["n"] == 120
    assert np.isnan(omni["estimate"])


def test_linear_scale_when_not_log_scaled():
    data = between_subjects(5, {"a": 0.0, "b": 0.2})
    _, table = compare_parameters(data, "c")
    assert table.loc[0, "response"] == "c"
    means = data.groupby("condition")["c"].mean()
    assert table.loc[1, "estimate"] == pytest.approx(means["b"] - means["a"], rel=1e-10)
    _, forced = compare_parameters(data, "c", log=True)
    assert forced.loc[0, "response"] == "log10(c)"


def test_null_difference_is_not_significant():
    data = between_subjects(42, {"a": 0.0, "b": 0.0})
    _, table = compare_parameters(data, "c", scales={"c": "log"})
    coef = table.set_index("term")
    assert coef.loc["C(condition)[T.b]", "p"] > 0.05
    assert coef.loc["C(condition) [omnibus]", "p"] > 0.05
    assert abs(coef.loc["C(condition)[T.b]", "estimate"]) < 2 * coef.loc["C(condition)[T.b]", "se"]


def within_subjects(seed: int, effect: float, n_subj: int = 30, n_problems: int = 3):
    """Each participant fits several problems in both conditions; large between-
    participant spread (sd 0.4) and small within (sd 0.1) on the log10 scale."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subj):
        u = rng.normal(0.0, 0.4)
        for cond, eff in (("easy", 0.0), ("hard", effect)):
            for _ in range(n_problems):
                rows.append(
                    {
                        "participant": f"s{s}",
                        "condition": cond,
                        "c": 10 ** (0.5 + u + eff + rng.normal(0.0, 0.1)),
                    }
                )
    return pd.DataFrame(rows)


def test_mixed_model_for_repeated_rows():
    data = within_subjects(8, effect=0.15)
    result, table = compare_parameters(data, "c", log_scaled=["c"])
    assert result.model.__class__.__name__ == "MixedLM"
    coef = table.set_index("term")
    row = coef.loc["C(condition)[T.hard]"]
    # SE of the within-participant difference is about 0.1 * sqrt(2 / 90) = 0.015.
    assert row["estimate"] == pytest.approx(0.15, abs=0.05)
    assert row["statistic_type"] == "z" and row["n"] == 90
    assert row["se"] == pytest.approx(0.1 * np.sqrt(2 / 90), rel=0.25)
    # The random intercept absorbs the between-participant spread (variance 0.16).
    assert float(result.cov_re.iloc[0, 0]) == pytest.approx(0.16, rel=0.5)
    omni = coef.loc["C(condition) [omnibus]"]
    assert omni["statistic_type"] == "chi2" and omni["df_num"] == 1.0
    assert omni["statistic"] == pytest.approx(row["statistic"] ** 2, rel=1e-8)
    assert omni["p"] < 1e-6
    # Ignoring the repeated measures inflates the SE of the within effect.
    _, ols = compare_parameters(data, "c", log=True, mixed=False)
    assert ols.loc[1, "se"] > 3 * row["se"]


def test_mixed_model_null_not_significant():
    data = within_subjects(9, effect=0.0)
    _, table = compare_parameters(data, "c", log=True)
    assert table.set_index("term").loc["C(condition) [omnibus]", "p"] > 0.05


def test_reference_level_and_groups_column():
    data = between_subjects(3, {"a": 0.0, "b": 0.3}).rename(columns={"participant": "subject"})
    _, table = compare_parameters(data, "c", log=True, groups="subject", levels=["b", "a"])
    assert table.loc[1, "term"] == "C(condition)[T.a]"
    assert table.loc[1, "estimate"] < 0


def test_use_log_scale_rules():
    pos = np.array([0.5, 2.0])
    neg = np.array([-1.0, 2.0])
    assert use_log_scale(pos, "c", log_scaled={"c"})
    assert not use_log_scale(pos, "w", log_scaled={"c"})
    assert not use_log_scale(neg, "c", log_scaled={"c"})
    assert use_log_scale(pos, "c", scales={"c": "log"})
    assert not use_log_scale(pos, "c", log_scaled={"c"}, scales={"c": "linear"})
    assert not use_log_scale(pos, "c")
    with pytest.raises(ValueError):
        use_log_scale(neg, "c", log=True)


def test_errors():
    data = between_subjects(1, {"a": 0.0, "b": 0.1})
    with pytest.raises(FitsTableError):
        compare_parameters(data, "missing")
    with pytest.raises(FitsTableError, match="two levels"):
        compare_parameters(data[data.condition == "a"], "c")


def test_logit_scaled_parameters_are_compared_as_log_odds():
    """A freed lapse (scale "logit", as run.json records it) is compared on the logit scale
    the fit searched it on, and the table says so."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "participant": [f"s{i}" for i in range(40)],
            "condition": ["a"] * 20 + ["b"] * 20,
            "lapse": np.concatenate([rng.uniform(0.01, 0.1, 20), rng.uniform(0.05, 0.3, 20)]),
        }
    )
    _, table = compare_parameters(data, "lapse", scales={"lapse": "logit"})
    assert (table["response"] == "logit(lapse)").all()
    log_odds = np.log(data["lapse"] / (1 - data["lapse"]))
    means = log_odds.groupby(data["condition"]).mean()
    coef = table.set_index("term")
    assert coef.loc["Intercept", "estimate"] == pytest.approx(means["a"], abs=1e-10)
    assert coef.loc["C(condition)[T.b]", "estimate"] == pytest.approx(
        means["b"] - means["a"], abs=1e-10
    )
    # a value on the edge of (0, 1) has no logit: the natural scale, said so
    edge = data.assign(lapse=data["lapse"].where(data.index > 0, 0.0))
    _, natural = compare_parameters(edge, "lapse", scales={"lapse": "logit"})
    assert (natural["response"] == "lapse").all()


def test_analysis_scale_rules_and_unknown_scales():
    inside = np.array([0.1, 0.4])
    assert analysis_scale(inside, "p", scales={"p": "logit"}) == "logit"
    assert analysis_scale(np.array([0.1, 1.0]), "p", scales={"p": "logit"}) == "linear"
    assert analysis_scale(inside, "p", scales={"p": "log"}) == "log"
    assert analysis_scale(inside, "p", scales={"p": "linear"}) == "linear"
    assert not use_log_scale(inside, "p", scales={"p": "logit"})
    with pytest.raises(UnknownScaleError, match="probit"):
        analysis_scale(inside, "p", scales={"p": "probit"})
    assert issubclass(UnknownScaleError, CatmodelError)  # the CLI reports it on one line
