"""The prototype learner against hand computations of running means and distances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catmodel.errors import SettingsError
from catmodel.models.prototype import Prototype
from catmodel.models.rollout import rollout_logits, torch_rollout
from catmodel.models.similarity import attention_weights_np


def _reference(x, feedback, k, w, r, delta=None):
    """Logits by hand: prototypes as plain means (or a delta rule), missing-category rule."""
    members = [[] for _ in range(k)]
    proto = [None] * k
    out = np.zeros((len(x), k))
    for t in range(len(x)):
        dist = np.full(k, np.nan)
        for c in range(k):
            if proto[c] is not None:
                dist[c] = np.sum(w * np.abs(x[t] - proto[c]) ** r) ** (1.0 / r)
        has = ~np.isnan(dist)
        logits = -dist
        logits[~has] = logits[has].mean() if has.any() else 0.0
        out[t] = logits
        fb = feedback[t]
        if fb >= 0:
            members[fb].append(x[t])
            if delta is None or proto[fb] is None:
                proto[fb] = np.mean(members[fb], axis=0) if delta is None else x[t].copy()
            else:
                proto[fb] = proto[fb] + delta * (x[t] - proto[fb])
    return out


@pytest.mark.parametrize("backend", ["kernel", "torch"])
@pytest.mark.parametrize("metric", ["city-block", "euclidean"])
def test_logits_are_distances_to_running_means(make_batch, backend, metric):
    batch = make_batch(n_features=3, n_categories=3, lengths=(30, 18), seed=21)
    model = Prototype(metric=metric)
    values = {
        "attention_1": np.array([0.7, -1.2]),
        "attention_2": np.array([-0.4, 0.3]),
        "temperature": np.array([0.2, 0.2]),
        "lapse": np.array([0.01, 0.01]),
    }
    logits = rollout_logits(model, batch, [0, 1], values, backend=backend).numpy()
    w = attention_weights_np(values, 3, 2)
    r = 1 if metric == "city-block" else 2
    for row in range(2):
        n = int(batch.n_trials[row])
        ref = _reference(batch.x[row, :n].numpy(), batch.feedback[row, :n].numpy(), 3, w[row], r)
        np.testing.assert_allclose(logits[row, :n], ref, rtol=0, atol=1e-12)


def test_final_prototypes_are_the_category_means(make_batch):
    batch = make_batch(n_features=2, n_categories=3, lengths=(40,), seed=22)
    model = Prototype()
    values = {
        "attention_1": torch.zeros(1),
        "temperature": torch.ones(1),
        "lapse": torch.full((1,), 0.01),
    }
    values = {k: v.double() for k, v in values.items()}
    _, states = torch_rollout(model, batch, torch.tensor([0]), values, keep_states=[39])
    proto, count = states[39]
    x, fb = batch.x[0].numpy(), batch.feedback[0].numpy()
    for c in range(3):
        np.testing.assert_allclose(proto[0, c].numpy(), x[fb == c].mean(0), atol=1e-12)
        assert count[0, c] == (fb == c).sum()


@pytest.mark.parametrize("backend", ["kernel", "torch"])
def test_delta_rule_prototypes(make_batch, backend):
    batch = make_batch(n_features=2, n_categories=2, lengths=(25,), seed=23)
    model = Prototype(delta=True)
    values = {
        "attention_1": np.array([0.3]),
        "lr_proto": np.array([0.2]),
        "temperature": np.array([0.3]),
        "lapse": np.array([0.01]),
    }
    logits = rollout_logits(model, batch, [0], values, backend=backend).numpy()[0]
    w = attention_weights_np(values, 2, 1)[0]
    ref = _reference(batch.x[0].numpy(), batch.feedback[0].numpy(), 2, w, 1, delta=0.2)
    np.testing.assert_allclose(logits, ref, rtol=0, atol=1e-12)
    # and it differs from the running mean (so the check can tell them apart)
    mean_ref = _reference(batch.x[0].numpy(), batch.feedback[0].numpy(), 2, w, 1)
    assert np.abs(mean_ref - ref).max() > 1e-3


def test_categories_without_a_prototype(batch_of):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "learner": "a",
            "participant": "a",
            "x1": [0.0, 1.0, 0.5, 3.0, 4.0],
            "x2": [1.0, 0.0, 3.0, 0.0, 2.0],
            "category": [0, 1, 0, 2, 1],
        }
    )
    batch = batch_of(frame, ["x1", "x2"], [0, 1, 2], standardize=False)
    model = Prototype()
    values = {
        "attention_1": np.array([0.0]),
        "temperature": np.array([1.0]),
        "lapse": np.array([0.0]),
    }
    logits = rollout_logits(model, batch, [0], values).numpy()[0]
    np.testing.assert_array_equal(logits[0], [0.0, 0.0, 0.0])  # nothing known: uniform
    # trial 2: only category 0 (at (0, 1)); distance to (1, 0) is 0.5 * 1 + 0.5 * 1 = 1
    np.testing.assert_allclose(logits[1], [-1.0, -1.0, -1.0])
    # trial 3: prototypes of 0 and 1; category 2 gets their mean logit
    d0 = 0.5 * 0.5 + 0.5 * 2.0  # (0.5, 3) to (0, 1)
    d1 = 0.5 * 0.5 + 0.5 * 3.0  # (0.5, 3) to (1, 0)
    np.testing.assert_allclose(logits[2], [-d0, -d1, -(d0 + d1) / 2])


def test_settings_are_checked():
    with pytest.raises(SettingsError):
        Prototype(metric="chebyshev")
    with pytest.raises(SettingsError):
        Prototype(delta="yes")
    assert [p.name for p in Prototype().learning_params(1, 2)] == []
    assert [p.name for p in Prototype(delta=True).learning_params(3, 2)] == [
        "attention_1",
        "attention_2",
        "lr_proto",
    ]
