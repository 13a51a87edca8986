"""The trial-by-trial GCM against a direct computation of summed similarity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from catmodel.data.batch import batch_from_frame
from catmodel.errors import SettingsError
from catmodel.models.exemplar import Exemplar
from catmodel.models.params import ParameterSet
from catmodel.models.rollout import rollout_logits
from catmodel.models.similarity import attention_weights_np
from catmodel.simulate.designs import make_design
from catmodel.simulate.simulate import response_probabilities, sample_parameters


def _gcm(x, feedback, k, w, c, r=1, decay=0.0):
    """Logits log S_k(t) by the textbook formula, one double sum per trial."""
    out = np.zeros((len(x), k))
    for t in range(len(x)):
        s = np.zeros(k)
        has = np.zeros(k, dtype=bool)
        for i in range(t):
            if feedback[i] < 0:
                continue
            d = np.sum(w * np.abs(x[t] - x[i]) ** r) ** (1.0 / r)
            s[feedback[i]] += math.exp(-decay * (t - i)) * math.exp(-c * d)
            has[feedback[i]] = True
        logits = np.where(has, np.log(np.where(has, s, 1.0)), 0.0)
        logits[~has] = logits[has].mean() if has.any() else 0.0
        out[t] = logits
    return out


@pytest.mark.parametrize("backend", ["kernel", "torch"])
@pytest.mark.parametrize(
    ("metric", "memory_decay"), [("city-block", False), ("euclidean", False), ("city-block", True)]
)
def test_matches_a_direct_gcm_computation(make_batch, backend, metric, memory_decay):
    batch = make_batch(n_features=3, n_categories=3, binary=True, lengths=(24, 11), seed=31)
    model = Exemplar(metric=metric, memory_decay=memory_decay)
    values = {
        "attention_1": np.array([0.5, -2.0]),
        "attention_2": np.array([1.0, 0.0]),
        "sensitivity": np.array([2.5, 0.7]),
        "temperature": np.array([0.5, 0.5]),
        "lapse": np.array([0.01, 0.01]),
    }
    if memory_decay:
        values["decay"] = np.array([0.08, 0.3])
    logits = rollout_logits(model, batch, [0, 1], values, backend=backend).numpy()
    w = attention_weights_np(values, 3, 2)
    for row in range(2):
        n = int(batch.n_trials[row])
        ref = _gcm(
            batch.x[row, :n].numpy(),
            batch.feedback[row, :n].numpy(),
            3,
            w[row],
            values["sensitivity"][row],
            1 if metric == "city-block" else 2,
            values["decay"][row] if memory_decay else 0.0,
        )
        np.testing.assert_allclose(logits[row, :n], ref, rtol=0, atol=1e-12)


def _tiny(batch_of):
    # A at 0, B at 1, then probes at 0.5 without feedback (1-D, unstandardised)
    frame = pd.DataFrame(
        {
            "learner": "a",
            "participant": "a",
            "x1": [0.0, 1.0, 0.5, 0.5, 0.5, 0.5],
            "category": [0, 1, 0, 0, 0, 0],
            "feedback": [0, 1, None, None, None, None],
        }
    )
    return batch_of(frame, ["x1"], [0, 1], standardize=False)


def test_a_tiny_example_by_hand(batch_of):
    batch = _tiny(batch_of)
    c = 2.0
    logits = rollout_logits(
        Exemplar(), batch, [0], {"sensitivity": c, "temperature": 1.0, "lapse": 0.0}
    ).numpy()[0]
    np.testing.assert_allclose(logits[0], [0.0, 0.0])  # nothing stored
    # trial 2: only A stored, at distance 1: log S_A = -c; B takes the mean (= A's) logit
    np.testing.assert_allclose(logits[1], [-c, -c])
    # probes: one exemplar each at distance 0.5 -> equal summed similarity
    np.testing.assert_allclose(logits[2:], np.full((4, 2), -c * 0.5))


def test_decay_favours_the_recent_exemplar(batch_of):
    batch = _tiny(batch_of)
    c, decay = 2.0, 0.3
    model = Exemplar(memory_decay=True)
    logits = rollout_logits(
        model, batch, [0], {"sensitivity": c, "decay": decay, "temperature": 1.0, "lapse": 0.0}
    ).numpy()[0]
    for t in range(2, 6):
        # A was stored at trial 0, B at trial 1: strengths exp(-decay (t - i))
        np.testing.assert_allclose(
            logits[t], [-c * 0.5 - decay * t, -c * 0.5 - decay * (t - 1)], atol=1e-12
        )
    # the more recent exemplar (B) is preferred; with decay = 0 the two tie
    probs = response_probabilities(
        model, batch, {"sensitivity": c, "decay": decay, "temperature": 1.0, "lapse": 0.0}
    )[0]
    np.testing.assert_allclose(probs[2:, 1], 1 / (1 + math.exp(-decay)))
    tie = response_probabilities(
        model, batch, {"sensitivity": c, "decay": 0.0, "temperature": 1.0, "lapse": 0.0}
    )[0]
    np.testing.assert_allclose(tie[2:, 1], 0.5)


@pytest.mark.parametrize("backend", ["kernel", "torch"])
def test_log_space_keeps_vanishing_similarities_finite(batch_of, backend):
    # stimuli 100 apart with c = 50: exp(-5000) underflows, its log does not
    frame = pd.DataFrame(
        {
            "learner": "a",
            "participant": "a",
            "x1": [0.0, 100.0, 30.0, 30.0],
            "category": [0, 1, 0, 1],
        }
    )
    batch = batch_of(frame, ["x1"], [0, 1], standardize=False)
    logits = rollout_logits(
        Exemplar(),
        batch,
        [0],
        {"sensitivity": 50.0, "temperature": 1.0, "lapse": 0.0},
        backend=backend,
    ).numpy()[0]
    np.testing.assert_allclose(logits[1], [-5000.0, -5000.0])
    np.testing.assert_allclose(logits[2], [-1500.0, -3500.0])
    # two A exemplars at distances 30 and 0: log(exp(-1500) + 1) = 0 (the far one vanishes)
    np.testing.assert_allclose(logits[3], [0.0, -3500.0], atol=1e-12)


def test_settings_are_checked():
    with pytest.raises(SettingsError):
        Exemplar(metric="cosine")
    with pytest.raises(SettingsError):
        Exemplar(memory_decay=1)
    names = [p.name for p in Exemplar(memory_decay=True).params(2, 2)]
    assert names == ["attention_1", "sensitivity", "decay", "temperature", "lapse"]
    decay = Exemplar(memory_decay=True).params(2, 2)[2]
    assert decay.lower == 0.0 and decay.default == 0.0 and decay.scale == "linear"


def test_generating_box_gives_the_documented_ii_learning_curve():
    # the module docstring's curve (a): expected accuracy per 30-trial block on the ii task with
    # parameters drawn over the generating box (.630 in block 1, .756 in block 10 for 400
    # participants); a box whose temperatures make choices deterministic, or flat, breaks it
    model = Exemplar()
    frame = make_design("ii", 100, 300, block_size=30, seed=0)
    frame["learner"] = frame["participant"]
    batch = batch_from_frame(frame, ["x1", "x2"])
    values = sample_parameters(ParameterSet.for_model(model, 2, 2), batch.n_learners, seed=1)
    p = response_probabilities(model, batch, values).numpy()
    correct = np.take_along_axis(p, batch.category.numpy()[..., None], -1)[..., 0]
    blocks = correct.reshape(len(correct), 10, 30).mean(axis=(0, 2))
    assert 0.60 < blocks[0] < 0.66
    assert 0.73 < blocks[-1] < 0.78
    assert np.all(np.diff(blocks[:4]) > 0)
