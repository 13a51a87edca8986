"""The guessing model: probabilities equal the biases, on every trial, whatever happens."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catmodel.fitting.likelihood import Objective
from catmodel.models.guessing import Guessing
from catmodel.models.params import ParameterSet
from catmodel.simulate.simulate import response_probabilities


@pytest.mark.parametrize("n_categories", [2, 3, 4])
def test_probabilities_equal_the_biases(make_batch, n_categories):
    batch = make_batch(n_features=2, n_categories=n_categories, seed=51)
    rng = np.random.default_rng(52)
    logs = rng.uniform(-2, 2, (batch.n_learners, n_categories - 1))
    values = {f"bias_{k + 1}": logs[:, k] for k in range(n_categories - 1)}
    b = np.exp(np.c_[logs, np.zeros(batch.n_learners)])
    b /= b.sum(1, keepdims=True)
    for backend_values in (values, {k: torch.as_tensor(v) for k, v in values.items()}):
        probs = response_probabilities(Guessing(), batch, backend_values).numpy()
        for row in range(batch.n_learners):
            n = int(batch.n_trials[row])
            np.testing.assert_allclose(probs[row, :n], np.tile(b[row], (n, 1)), atol=1e-14)


def test_likelihood_is_the_sum_of_log_biases(make_batch):
    batch = make_batch(n_features=1, n_categories=3, seed=53)
    model = Guessing()
    pset = ParameterSet.for_model(model, 1, 3)
    assert pset.free_names == ["bias_1", "bias_2"]  # no temperature, no lapse
    scale = np.array([[0.4, -1.1]])
    b = np.exp([0.4, -1.1, 0.0])
    b /= b.sum()
    rows = np.arange(batch.n_learners)
    nll = Objective(model, batch, pset).nll_at(rows, np.repeat(scale, len(rows), axis=0))
    for row in rows:
        resp = batch.response[row].numpy()
        expected = -np.log(b[resp[resp >= 0]]).sum()
        assert nll[row] == pytest.approx(expected, rel=1e-12)
