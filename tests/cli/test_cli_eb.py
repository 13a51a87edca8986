"""The command line's empirical-Bayes options: fit, compare, and their one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from catmodel.cli.main import main
from catmodel.compare.table import compare_fits
from tests.conftest import REPO

EXAMPLE = REPO / "data" / "example.csv.gz"


def example_subset(tmp_path, n: int, conditions: bool = False):
    """The first ``n`` participants of the shipped example as a file (two conditions)."""
    data = pd.read_csv(EXAMPLE)
    keep = data["participant"].unique()[:n]
    data = data[data["participant"].isin(keep)].copy()
    if conditions:
        first = set(keep[: n // 2])
        data["condition"] = np.where(data["participant"].isin(first), "a", "b")
    path = tmp_path / f"subset{n}.csv"
    data.to_csv(path, index=False)
    return path


def test_fit_eb_writes_population_evidence_and_compare_uses_it(tmp_path, capsys):
    out = tmp_path / "eb"
    data = example_subset(tmp_path, 8)
    argv = ["fit", str(data), "--models", "guessing,prototype", "--method", "eb"]
    assert main([*argv, "--out", str(out), "--starts", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Empirical Bayes" in printed
    fits = pd.read_csv(out / "fits.csv")
    assert (fits["method"] == "eb").all() and np.isfinite(fits["log_evidence"]).all()
    assert {"post_sd_bias_1", "post_sd_log10_temperature", "post_sd_attention_1"} <= set(fits)
    assert not any(c.startswith("se_") for c in fits.columns)
    population = pd.read_csv(out / "population.csv")
    assert list(population["parameter"]) == ["bias_1", "attention_1", "temperature"]
    temperature = population[population["parameter"] == "temperature"].iloc[0]
    assert temperature["median_natural"] == pytest.approx(10 ** temperature["mean"])
    run = json.loads((out / "run.json").read_text())
    assert run["fitting"]["method"] == "eb" and "population.csv" in run["outputs"]
    em = run["models"]["prototype"]["em"]
    assert em["iterations"] >= 1 and isinstance(em["converged"], bool)

    assert main(["compare", str(out), "--bms-prior", "1/K"]) == 0
    printed = capsys.readouterr().out
    assert "Laplace log evidence" in printed and "1/K" in printed
    group = pd.read_csv(out / "group.csv")
    assert (group["bms_evidence"] == "log_evidence").all()
    assert (group["bms_prior"] == "1/K").all()
    recorded = {m: run["models"][m]["integrated_bic"] for m in ("guessing", "prototype")}
    assert dict(zip(group["model"], group["integrated_bic"], strict=True)) == pytest.approx(
        recorded
    )


def test_fit_eb_by_condition_gives_one_mean_per_condition(tmp_path):
    out = tmp_path / "cond"
    data = example_subset(tmp_path, 6, conditions=True)
    argv = ["fit", str(data), "--models", "guessing", "--method", "eb"]
    assert main([*argv, "--population-by", "condition", "--out", str(out)]) == 0
    population = pd.read_csv(out / "population.csv")
    assert sorted(population["condition"]) == ["a", "b"]


def test_compare_mixed_ml_and_eb_uses_bic_and_says_so():
    rng = np.random.default_rng(0)
    rows = []
    for p in range(6):
        for model, method in (("m1", "eb"), ("m2", "ml")):
            nll = 100 + rng.normal()
            rows.append(
                {
                    "participant": f"p{p}",
                    "model": model,
                    "method": method,
                    "log_evidence": -nll - 3 if method == "eb" else np.nan,
                    "nll": nll,
                    "aic": 2 * nll + 4,
                    "bic": 2 * nll + 2 * np.log(200),
                    "n_params": 2,
                    "n_trials": 200,
                }
            )
    fits = pd.DataFrame(rows)
    _, group = compare_fits(fits)
    assert (group["bms_evidence"] == "bic").all()
    assert "mixes empirical-Bayes and maximum-likelihood" in group.attrs["message"]
    assert group.attrs["alpha0"] == 1.0
    # with evidence for every model it is used, and the prior 1/K is 1/2 here
    fits["log_evidence"] = -fits["nll"]
    _, group = compare_fits(fits, prior="1/K")
    assert (group["bms_evidence"] == "log_evidence").all()
    assert group.attrs["alpha0"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("n", "argv", "message"),
    [
        (2, ["--method", "eb"], "at least 3 participants"),
        (4, ["--population", "diagonal"], "--population needs --method eb"),
        (4, ["--method", "eb", "--population-by", "condition"], "no condition column"),
    ],
)
def test_eb_errors_are_one_line(tmp_path, capsys, n, argv, message):
    data = example_subset(tmp_path, n)
    code = main(["fit", str(data), "--models", "guessing", "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unknown_bms_prior_is_one_line(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--bms-prior", "2"]) == 2
    err = capsys.readouterr().err
    assert "--bms-prior must be 1 or 1/K" in err and len(err.strip().splitlines()) == 1
