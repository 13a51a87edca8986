"""ALCOVE against hand computations of Kruschke's (1992) equations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from catmodel.errors import SettingsError
from catmodel.models.alcove import Alcove, session_nodes
from catmodel.models.rollout import as_value_tensors, rollout_logits, torch_rollout


def _kruschke(xs, fbs, nodes, active_from, c, lr_w, lr_a, k, r=1):
    """Kruschke's equations written out: outputs per trial, state after each trial and the
    attention strengths before clipping."""
    n_nodes, d_feat = nodes.shape
    alpha = np.full(d_feat, 1.0 / d_feat)
    w = np.zeros((k, n_nodes))
    outputs, states, unclipped = [], [], []
    for t, (x, fb) in enumerate(zip(xs, fbs, strict=True)):
        a = np.zeros(n_nodes)
        dist = np.zeros(n_nodes)
        for j in range(n_nodes):
            if active_from[j] <= t:
                if r == 1:
                    dist[j] = sum(alpha[d] * abs(nodes[j, d] - x[d]) for d in range(d_feat))
                else:
                    dist[j] = math.sqrt(
                        sum(alpha[d] * (nodes[j, d] - x[d]) ** 2 for d in range(d_feat))
                    )
                a[j] = math.exp(-c * dist[j])
        o = w @ a
        outputs.append(o)
        raw = alpha.copy()
        if fb >= 0:
            teacher = np.array([max(1.0, o[q]) if q == fb else min(-1.0, o[q]) for q in range(k)])
            err = teacher - o
            d_alpha = np.zeros(d_feat)
            for j in range(n_nodes):
                back = sum(err[q] * w[q, j] for q in range(k))
                for d in range(d_feat):
                    if r == 1:
                        dd = abs(nodes[j, d] - x[d])
                    else:
                        dd = (nodes[j, d] - x[d]) ** 2 / (2 * dist[j]) if dist[j] > 0 else 0.0
                    d_alpha[d] -= lr_a * back * a[j] * c * dd
            w = w + lr_w * np.outer(err, a)
            raw = alpha + d_alpha
            alpha = np.maximum(raw, 0.0)
        outputs[-1] = o
        states.append((alpha.copy(), w.copy()))
        unclipped.append(raw)
    return np.array(outputs), states, unclipped


def _frame(xs, cats, feedback=None):
    xs = np.asarray(xs, dtype=float)
    frame = pd.DataFrame({"learner": "a", "participant": "a", "category": cats})
    if feedback is not None:
        frame["feedback"] = feedback
    for d in range(xs.shape[1]):
        frame[f"x{d + 1}"] = xs[:, d]
    return frame, [f"x{d + 1}" for d in range(xs.shape[1])]


def _run(model, batch, values, keep):
    vals = as_value_tensors(values, batch.x, 1)
    logits, states = torch_rollout(model, batch, torch.tensor([0]), vals, keep_states=keep)
    return logits[0].numpy(), states


def test_first_trial_by_hand(batch_of):
    # three stimuli in 2-D (unstandardised), the first one with feedback A
    xs = [[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]]
    frame, features = _frame(xs, [0, 1, 1])
    batch = batch_of(frame, features, [0, 1], standardize=False)
    c, lr_w = 2.0, 0.1
    values = {"specificity": c, "lr_w": lr_w, "lr_attn": 0.05, "temperature": 1.0, "lapse": 0.0}
    logits, states = _run(Alcove(), batch, values, keep=[0])
    np.testing.assert_array_equal(logits[0], [0.0, 0.0])  # weights start at 0
    attention, weights, *_ = states[0]
    # a_j = exp(-c * (1/2 |h_j1 - 0| + 1/2 |h_j2 - 0|)), errors (+1, -1): w = lr_w err a
    a = np.exp(-c * np.array([0.0, 0.5, 1.5]))
    np.testing.assert_allclose(weights[0].numpy(), [lr_w * a, -lr_w * a], atol=1e-15)
    # the weights were 0, so no error reached attention
    np.testing.assert_array_equal(attention[0].numpy(), [0.5, 0.5])
    # trial 2's outputs use the learned weights
    a2 = np.exp(-c * np.array([0.5, 0.0, 1.0]))
    np.testing.assert_allclose(logits[1], [lr_w * a @ a2, -lr_w * a @ a2], atol=1e-15)


@pytest.mark.parametrize("backend", ["kernel", "torch"])
@pytest.mark.parametrize(
    ("metric", "nodes"),
    [("city-block", "session"), ("euclidean", "session"), ("city-block", "seen")],
)
def test_trials_match_kruschkes_equations(batch_of, backend, metric, nodes):
    rng = np.random.default_rng(41)
    xs = rng.integers(0, 3, (12, 3)).astype(float)
    cats = rng.integers(0, 3, 12)
    feedback = cats.astype(object)
    feedback[4] = None
    frame, features = _frame(xs, cats, feedback)
    batch = batch_of(frame, features, [0, 1, 2], standardize=False)
    model = Alcove(metric=metric, nodes=nodes)
    c, lr_w, lr_a = 1.3, 0.2, 0.08
    values = {"specificity": c, "lr_w": lr_w, "lr_attn": lr_a, "temperature": 1.0, "lapse": 0.0}
    node_pos, first, n_nodes = session_nodes(batch)
    h = node_pos[0, : n_nodes[0]]
    active_from = first[0, : n_nodes[0]] if nodes == "seen" else np.zeros(n_nodes[0])
    fbs = batch.feedback[0].numpy()
    ref, ref_states, _ = _kruschke(
        xs, fbs, h, active_from, c, lr_w, lr_a, 3, 1 if metric == "city-block" else 2
    )
    logits = rollout_logits(model, batch, [0], values, backend=backend).numpy()[0]
    np.testing.assert_allclose(logits, ref, rtol=0, atol=1e-12)
    assert np.abs(ref[1:]).min() > 0  # learning happened on every trial after the first
    if backend == "torch":
        _, states = _run(model, batch, values, keep=[1, 11])
        for t in (1, 11):
            attention, weights, *_ = states[t]
            np.testing.assert_allclose(attention[0].numpy(), ref_states[t][0], atol=1e-12)
            np.testing.assert_allclose(
                weights[0, :, : n_nodes[0]].numpy(), ref_states[t][1], atol=1e-12
            )
        assert not np.allclose(ref_states[11][0], ref_states[1][0])  # attention did learn


def test_humble_teacher_leaves_outputs_beyond_the_targets_alone(batch_of):
    # two overlapping nodes (a = e^-1 between them): each capped step puts the trained
    # stimulus's outputs exactly on the targets, and the neighbour's training then carries
    # the first stimulus's outputs beyond them (+1.23, -1.23)
    frame, features = _frame([[0.0], [1.0], [0.0], [0.0]], [0, 0, 0, 0])
    batch = batch_of(frame, features, [0, 1], standardize=False)
    values = {"specificity": 1.0, "lr_w": 2.0, "lr_attn": 0.0, "temperature": 1.0, "lapse": 0.0}
    logits, states = _run(Alcove(), batch, values, keep=[1, 2])
    assert logits[2][0] > 1.2 and logits[2][1] < -1.2
    for a, b in zip(states[1][:2], states[2][:2], strict=True):
        assert torch.equal(a, b)  # no error, no change (a strict teacher would pull back)
    np.testing.assert_array_equal(logits[3], logits[2])


def test_weight_steps_stop_at_the_no_overshoot_limit(batch_of):
    # one node (a = 1): lr_w = 2 would overshoot to (+2, -2); the capped step lands on (+1, -1)
    frame, features = _frame([[0.0], [0.0]], [0, 0])
    batch = batch_of(frame, features, [0, 1], standardize=False)
    for lr_w, expected in ((2.0, [1.0, -1.0]), (0.25, [0.25, -0.25])):
        values = {"specificity": 1.0, "lr_w": lr_w, "lr_attn": 0.0, "temperature": 1.0}
        for backend in ("kernel", "torch"):
            logits = rollout_logits(Alcove(), batch, [0], {**values, "lapse": 0.0}, backend=backend)
            np.testing.assert_allclose(logits.numpy()[0, 1], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", ["kernel", "torch"])
def test_attention_is_clipped_at_zero(batch_of, backend):
    # dimension 2 varies within categories only: its attention is driven below zero
    xs = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]] * 3
    cats = [0, 1, 0, 1] * 3
    frame, features = _frame(xs, cats)
    batch = batch_of(frame, features, [0, 1], standardize=False)
    c, lr_w, lr_a = 1.0, 0.1, 5.0
    values = {"specificity": c, "lr_w": lr_w, "lr_attn": lr_a, "temperature": 1.0, "lapse": 0.0}
    h = np.array(xs[:4])
    ref, _, raw = _kruschke(np.array(xs), np.array(cats), h, np.zeros(4), c, lr_w, lr_a, 2)
    assert min(r[1] for r in raw) < 0  # the update would make attention negative...
    logits = rollout_logits(Alcove(), batch, [0], values, backend=backend).numpy()[0]
    np.testing.assert_allclose(logits, ref, rtol=0, atol=1e-12)
    _, states = _run(Alcove(), batch, values, keep=list(range(12)))
    clipped = [t for t in range(12) if raw[t][1] < 0]
    for t in clipped:
        assert states[t][0][0, 1].item() == 0.0  # ...and is clipped at exactly 0
    assert all(states[t][0][0].min().item() >= 0 for t in range(12))


def test_seen_nodes_learn_only_after_their_first_presentation(batch_of):
    frame, features = _frame([[0.0], [1.0], [2.0]], [0, 1, 0])
    batch = batch_of(frame, features, [0, 1], standardize=False)
    values = {"specificity": 1.0, "lr_w": 0.5, "lr_attn": 0.0, "temperature": 1.0, "lapse": 0.0}
    for nodes, learned in [("session", True), ("seen", False)]:
        _, states = _run(Alcove(nodes=nodes), batch, values, keep=[0])
        weights = states[0][1][0].numpy()  # nodes in order of presentation: 0, 1, 2
        assert (np.abs(weights[:, 1:]) > 0).all() == learned
        assert (np.abs(weights[:, 0]) > 0).all()


def test_settings_are_checked():
    with pytest.raises(SettingsError):
        Alcove(nodes="grid")
    with pytest.raises(SettingsError):
        Alcove(metric="minkowski-3")
    assert [p.name for p in Alcove().params(3, 2)] == [
        "specificity",
        "lr_w",
        "lr_attn",
        "temperature",
        "lapse",
    ]
