"""Strategy recovery: simulated strategies are assigned back to themselves (slow), and the
pieces of the study (batch concatenation, expected accuracies) on small data."""

from __future__ import annotations

import numpy as np
import pytest

from catmodel.compare.recovery import simulate_participants
from catmodel.compare.strategy_recovery import (
    concat_batches,
    expected_accuracies,
    strategy_recovery,
)
from catmodel.models.registry import get_model


def test_concatenated_batches_keep_every_learner():
    model = get_model("glc")
    _, a, _ = simulate_participants(model, "ii", 3, 20, seed=1)
    _, b, _ = simulate_participants(model, "rb", 2, 30, seed=2)
    both = concat_batches([a, b])
    assert both.n_learners == 5 and both.max_trials == 30
    assert both.n_trials.tolist() == [20, 20, 20, 30, 30]
    np.testing.assert_array_equal(both.x[3].numpy(), b.x[0].numpy())
    assert (both.response[:3, 20:] == -1).all()


def test_generating_boxes_agree_with_their_own_bound():
    # the documented sense of the boxes: a participant responds as its own bound says on at
    # least 70% of trials (expected), on both designs
    for name in ["ud_x1", "ud_x2", "cj", "glc", "gqc"]:
        model = get_model(name)
        for design in ("ii", "rb"):
            _, batch, values = simulate_participants(model, design, 50, 100, seed=3)
            own, _ = expected_accuracies(model, batch, values)
            assert own.min() >= 0.7, (name, design, own.min())


@pytest.mark.slow
def test_strategies_are_recovered():
    # the quick study (10 simulated participants per strategy and design; the 100-participant
    # study of the issue takes about half an hour here and is `python -m
    # analyses.strategy_recovery`). Every strategy but the quadratic bound comes back to
    # itself at least 80% of the time; a quadratic bound is often taken for a conjunction (a
    # corner mimics a parabola: the README's stated shortfall), but for nothing else.
    study = strategy_recovery(n_participants=10, n_trials=100, seed=0)
    diagonal = study.diagonal()
    linear = [i for i in diagonal.index if "gqc" not in str(i)]
    assert (diagonal[linear] >= 0.8).all(), diagonal
    confusion = study.confusion
    for design in ("ii", "rb"):
        row = confusion.loc[(design, "gqc")]
        assert row["gqc"] + row["cj"] >= 0.95, row
