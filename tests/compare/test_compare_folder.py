"""Comparison of a fit folder: nested likelihood-ratio tests, conditions, cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from catmodel.cli.main import main
from catmodel.compare.crossval import cross_validate
from catmodel.compare.recovery import simulate_participants
from catmodel.fitting.fit import fit_model
from catmodel.fitting.likelihood import Objective
from catmodel.models.params import ParameterSet
from catmodel.models.registry import get_model


@pytest.fixture(scope="module")
def two_conditions(tmp_path_factory):
    """Eight simulated exemplar learners in two conditions, written as a trial file."""
    model = get_model("exemplar")
    table, _, _ = simulate_participants(model, "ii", 8, 120, seed=5)
    frame = table.frame
    frame["condition"] = np.where(frame["participant"].isin(table.learners[:4]), "a", "b")
    path = tmp_path_factory.mktemp("cond") / "trials.csv"
    cols = ["participant", "trial", "block", "x1", "x2", "category", "response", "condition"]
    frame[cols].to_csv(path, index=False)
    return path


def test_compare_runs_nested_tests_and_condition_statistics(two_conditions, tmp_path):
    out = tmp_path / "fit"
    assert (
        main(
            [
                "fit",
                str(two_conditions),
                "--models",
                "exemplar,exemplar-decay",
                "--starts",
                "2",
                "--candidates",
                "32",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    fits = pd.read_csv(out / "fits.csv")
    assert set(fits["model"]) == {"exemplar", "exemplar-decay"}
    assert "decay" in fits and fits.loc[fits["model"] == "exemplar", "decay"].isna().all()
    assert main(["compare", str(out)]) == 0
    lrt = pd.read_csv(out / "lrt.csv")
    assert len(lrt) == 8 and (lrt["df"] == 1).all()
    assert lrt["reference"].str.contains("chi").all()
    assert lrt["p_value"].between(0, 1).all()
    # the mixture reference halves the plain chi-square(1) tail for positive statistics
    from scipy.stats import chi2

    pos = lrt["statistic"] > 1e-9
    assert np.allclose(lrt.loc[pos, "p_value"], 0.5 * chi2.sf(lrt.loc[pos, "statistic"], 1))
    stats = pd.read_csv(out / "group_stats.csv")
    assert {"model", "parameter", "term", "estimate", "p"} <= set(stats.columns)
    assert set(stats["parameter"]) >= {"sensitivity", "temperature"}


def test_leave_one_block_out_scores_held_out_responses_of_a_learner_that_saw_them():
    model = get_model("gaussian")
    # learners at the model's defaults (not drawn): every one learns the task
    values = {p.name: np.full(3, p.default) for p in model.learning_params(2, 2)}
    values["temperature"] = np.full(3, model.temperature_param.default)
    values["lapse"] = np.full(3, 0.01)
    _, batch, _ = simulate_participants(
        model, "two-gaussian", 3, 120, seed=2, values=values, block_size=40
    )
    cv = cross_validate(batch, [model], scheme="leave-one-block-out", starts=2, candidates=32)
    assert len(cv) == 3 and (cv["folds"] == 3).all()
    assert (cv["n_scored"] == 120).all()  # every response is held out exactly once
    # recompute the first fold by hand: fit without block 1's responses, score block 1
    pset = ParameterSet.for_model(model, 2, 2)
    block1 = batch.block == 1
    train = batch.with_responses(
        torch.where(block1, torch.full_like(batch.response, -1), batch.response)
    )
    fit = fit_model(model, train, pset, starts=2, candidates=32)
    test = batch.with_responses(
        torch.where(block1, batch.response, torch.full_like(batch.response, -1))
    )
    held_out = Objective(model, test, pset).nll_at(np.arange(3), fit.scale)
    # better than chance on the held-out first block, summed over the learners (one learner
    # fitted to the later, confident blocks may be worse than chance on its first block)
    assert held_out.sum() < 3 * 40 * np.log(2)
    # the held-out block's feedback still shapes the learner: removing it changes the
    # predictions of the next block
    no_feedback = test.with_feedback(
        torch.where(block1, torch.full_like(batch.feedback, -1), batch.feedback)
    )
    later = batch.block == 2
    test2 = batch.with_responses(
        torch.where(later, batch.response, torch.full_like(batch.response, -1))
    )
    seen = Objective(model, test2, pset).nll_at(np.arange(3), fit.scale)
    unseen = Objective(model, test2.with_feedback(no_feedback.feedback), pset).nll_at(
        np.arange(3), fit.scale
    )
    assert not np.allclose(seen, unseen)  # block 1's feedback shapes later predictions
    total = cv["cv_nll"].to_numpy()
    assert np.all(total > held_out - 1e-9)


def test_forward_cross_validation_predicts_only_later_blocks():
    model = get_model("prototype")
    _, batch, _ = simulate_participants(model, "two-gaussian", 2, 120, seed=3, block_size=40)
    cv = cross_validate(batch, [model], scheme="forward", starts=2, candidates=32)
    assert (cv["folds"] == 2).all()
    assert (cv["n_scored"] == 80).all()  # blocks 2 and 3, never block 1


def fit_folder(data, out, *options):
    """``catmodel fit`` with a small search; asserts it succeeded."""
    command = ["fit", str(data), "--starts", "1", "--candidates", "16", "--out", str(out)]
    assert main([*command, *options]) == 0
    return out


def test_compare_a_fit_with_a_freed_lapse_and_conditions(two_conditions, tmp_path, capsys):
    """The lapse is logit-scaled; condition statistics compare it as log-odds (issue 9)."""
    out = fit_folder(two_conditions, tmp_path / "fit", "--models", "prototype", "--free", "lapse")
    capsys.readouterr()
    assert main(["compare", str(out)]) == 0
    stats = pd.read_csv(out / "group_stats.csv")
    lapse = stats[stats["parameter"] == "lapse"]
    assert len(lapse) == 3 and (lapse["response"] == "logit(lapse)").all()
    temperature = stats[stats["parameter"] == "temperature"]
    assert (temperature["response"] == "log10(temperature)").all()
    printed = capsys.readouterr().out
    for name in ("comparison.csv", "group.csv", "group_stats.csv"):
        assert f"wrote {out / name}" in printed


def test_compare_checks_everything_before_writing_anything(two_conditions, tmp_path, capsys):
    """A run record whose scale the condition statistics cannot use stops compare with one
    line, and no table is written (before, comparison.csv and group.csv were)."""
    import json

    out = fit_folder(two_conditions, tmp_path / "fit", "--models", "prototype")
    run = json.loads((out / "run.json").read_text())
    run["models"]["prototype"]["parameters"]["free"]["temperature"]["scale"] = "probit"
    (out / "run.json").write_text(json.dumps(run))
    capsys.readouterr()
    assert main(["compare", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "probit" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "fits.csv",
        "run.json",
        "starts.csv",
        "trials.csv.gz",
    ]
