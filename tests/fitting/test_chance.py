"""A learner that never moves off chance is named, and its fit is not converged (issue 10,
part 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from catmodel.cli.main import main
from catmodel.data import TrialTable
from catmodel.fitting.fit import CHANCE_TOLERANCE, fit
from catmodel.fitting.likelihood import Objective, chance_predictions
from catmodel.models.params import ParameterSet
from catmodel.models.registry import get_model
from tests.conftest import small_frame


def no_feedback_for(frame, learners):
    """The trials with feedback, except that ``learners`` never get any: no learning model
    can learn from their data."""
    frame = frame.copy()
    frame["feedback"] = frame["category"].astype(float)
    frame.loc[frame["participant"].isin(learners), "feedback"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table():
    return TrialTable.from_frame(no_feedback_for(small_frame(n_learners=3, seed=1), ["p1"]))


@pytest.mark.parametrize("name", ["gaussian", "prototype", "exemplar", "alcove"])
def test_without_feedback_every_learner_predicts_exactly_chance(table, name):
    model = get_model(name)
    batch = table.to_batch()
    pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    lo, hi = pset.scale_bounds()
    scale = lo + (hi - lo) * np.random.default_rng(0).random((3, len(lo)))
    objective = Objective(model, batch, pset)
    assert chance_predictions(objective, np.arange(3), scale, CHANCE_TOLERANCE).tolist() == [
        False,
        True,
        False,
    ]


def test_fit_names_the_participants_a_learning_model_fits_at_chance(table):
    # guessing with its bias fixed at 0 predicts exactly 1/2 everywhere, by design: not named
    result = fit(table, ["prototype", "exemplar", "guessing"], starts=3, fix={"bias_1": 0.0})
    for f in result.fits:
        if f.name == "guessing":
            assert not f.at_chance.any() and f.converged.isna().all()  # no start to compare
        else:
            assert f.at_chance.tolist() == [False, True, False]
            assert f.converged.tolist()[1] is False  # a flat likelihood is not converged
    chance = [note for note in result.notes if "predicts chance" in note]
    assert chance == [
        f"warning: {name} predicts chance on every trial (every response probability within "
        "1e-06 of 1/K) at the best fit of participant p1: it learned nothing from their data, "
        "its likelihood is flat there, and these fits are reported as not converged"
        for name in ("prototype", "exemplar")
    ]
    assert str(result).endswith(chance[-1])


def test_fit_command_prints_and_records_the_chance_warning(tmp_path, capsys):
    frame = no_feedback_for(small_frame(n_learners=2, seed=3), ["p0"])
    frame.to_csv(tmp_path / "trials.csv", index=False)
    out = tmp_path / "fit"
    command = ["fit", str(tmp_path / "trials.csv"), "--models", "prototype", "--starts", "2"]
    assert main([*command, "--features", "x1,x2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    warnings = [line for line in printed.splitlines() if "predicts chance" in line]
    assert len(warnings) == 1 and "participant p0:" in warnings[0]
    assert json.loads((out / "run.json").read_text())["warnings"] == warnings
