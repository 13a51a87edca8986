"""The contract every registered model keeps, checked generically for each one.

Parametrised over ``available_models()`` (so models registered later are covered without
editing this file), each with its default settings plus the variants listed in ``VARIANTS``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from catmodel.errors import SettingsError
from catmodel.fitting.likelihood import Objective, torch_nll
from catmodel.models.base import LEARNING, state_tensors
from catmodel.models.params import ParameterSet
from catmodel.models.registry import available_models, get_model
from catmodel.models.rollout import as_value_tensors, rollout_logits
from catmodel.simulate.simulate import response_probabilities, simulate_responses

#: extra settings checked for the built-in models (the defaults are always checked)
VARIANTS: dict[str, list[dict]] = {
    "prototype": [{"delta": True}, {"metric": "euclidean"}],
    "exemplar": [{"memory_decay": True}, {"memory_decay": True, "metric": "euclidean"}],
    "alcove": [{"nodes": "seen"}, {"metric": "euclidean"}],
    "niw": [{"forgetting": True}, {"category_prior": 0.3}],
}


def _cases():
    out = []
    for name in sorted(available_models()):
        for settings in [{}, *VARIANTS.get(name, [])]:
            label = name + "".join(f"-{k}={v}" for k, v in settings.items())
            out.append(pytest.param(name, settings, id=label))
    return out


CASES = _cases()
#: (n_features, n_categories, binary features)
SHAPES = [(1, 2, False), (2, 3, False), (3, 2, True)]
SHAPE_IDS = ["D1K2", "D2K3", "D3K2bin"]


def _shape(model, n_features: int, n_categories: int) -> tuple[int, int]:
    """The data shape to check ``model`` on: the one asked for, or, for a model that refuses
    it (the decision-bound models need two categories and their features), two of each."""
    for d, k in ((n_features, n_categories), (max(n_features, 2), 2)):
        try:
            model.params(d, k)
        except SettingsError:
            continue
        return d, k
    raise AssertionError(f"{model.name} accepts neither {n_features} features nor two")


def _pset(model, batch):
    return ParameterSet.for_model(model, batch.n_features, batch.n_categories)


def _scale_draws(pset, n_random: int, seed: int, box: str = "fitting") -> np.ndarray:
    """Every corner of the box (at most 64) plus ``n_random`` uniform draws, scale coords."""
    lo, hi = pset.scale_bounds() if box == "fitting" else pset.generating_scale_box()
    f = len(lo)
    corners = np.array(list(itertools.product(*[(a, b) for a, b in zip(lo, hi, strict=True)])))
    corners = corners.reshape(-1, f)[:64]
    rng = np.random.default_rng(seed)
    return np.concatenate([corners, lo + (hi - lo) * rng.random((n_random, f))])


def _centre_values(pset) -> dict[str, np.ndarray]:
    lo, hi = pset.generating_scale_box()
    return pset.scale_to_natural(0.5 * (lo + hi)[None, :])


def _tile(values: dict[str, np.ndarray], n_rows: int) -> dict[str, np.ndarray]:
    """Values (V,) per vector -> (V * R,), vector-major, to go with ``np.tile(rows, V)``."""
    return {k: np.repeat(np.asarray(v, dtype=float), n_rows) for k, v in values.items()}


# --- declarations ------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "settings"), CASES)
def test_parameter_declarations(name, settings):
    model = get_model(name, **settings)
    checked = 0
    for d, k in [(1, 2), (2, 3), (3, 2), (4, 4)]:
        try:
            params = model.params(d, k)
        except SettingsError as error:  # a shape the model refuses: one line, and it says why
            assert "\n" not in str(error) and model.name in str(error)
            continue
        checked += 1
        names = [p.name for p in params]
        assert len(names) == len(set(names)), names
        for p in params:
            assert p.lower <= p.default <= p.upper, p
            g_lo, g_hi = p.generating_box
            assert p.lower <= g_lo < g_hi <= p.upper, p
            if p.scale == "log":
                assert p.lower > 0, p
        assert ("temperature" in names) == model.has_temperature
        assert all(p.name in names for p in model.choice_params())
    assert checked >= 1


# --- probabilities and likelihood over the whole box --------------------------------------
@pytest.mark.parametrize(("n_features", "n_categories", "binary"), SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(("name", "settings"), CASES)
def test_probabilities_and_likelihood_over_the_box(
    name, settings, n_features, n_categories, binary, make_batch
):
    model = get_model(name, **settings)
    n_features, n_categories = _shape(model, n_features, n_categories)
    batch = make_batch(n_features=n_features, n_categories=n_categories, binary=binary, seed=3)
    pset = _pset(model, batch)
    scale = _scale_draws(pset, 12, seed=4)
    n_vec, n_rows = len(scale), batch.n_learners
    values = _tile(pset.scale_to_natural(scale), n_rows)
    rows = np.tile(np.arange(n_rows), n_vec)

    probs = response_probabilities(model, batch, values, index=rows)
    mask = batch.mask[torch.as_tensor(rows)]
    real = probs[mask]
    assert torch.isfinite(real).all()
    assert (real >= 0).all()
    assert torch.allclose(real.sum(-1), torch.ones(len(real), dtype=real.dtype), atol=1e-12)

    nll = Objective(model, batch, pset).nll_at(rows, np.repeat(scale, n_rows, axis=0))
    assert np.isfinite(nll).all(), scale[~np.isfinite(nll).reshape(n_vec, n_rows).any(1)]

    # the torch rollout too (the backend of gradient fits and GPUs)
    tvals = as_value_tensors(values, batch.x, len(rows))
    torch_values = torch_nll(model, batch, torch.as_tensor(rows), tvals)
    assert torch.isfinite(torch_values).all()


# --- the kernel and the step function agree -----------------------------------------------
@pytest.mark.parametrize(("n_features", "n_categories", "binary"), SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(("name", "settings"), CASES)
def test_kernel_matches_step_function(name, settings, n_features, n_categories, binary, make_batch):
    model = get_model(name, **settings)
    n_features, n_categories = _shape(model, n_features, n_categories)
    batch = make_batch(n_features=n_features, n_categories=n_categories, binary=binary, seed=5)
    pset = _pset(model, batch)
    rows = np.arange(batch.n_learners)
    values = {k: np.repeat(v, len(rows)) for k, v in _centre_values(pset).items()}
    kernel = model.kernel_logits(batch, rows, values)
    if kernel is None:
        pytest.skip(f"{name} has no kernel for {settings}")
    torch_logits = rollout_logits(model, batch, rows, values, backend="torch")
    assert kernel.shape == tuple(torch_logits.shape)
    np.testing.assert_allclose(kernel, torch_logits.numpy(), rtol=0, atol=1e-10)
    # zero on padded trials
    assert np.all(kernel[~batch.mask.numpy()] == 0)
    # and at other points of the generating box
    scale = _scale_draws(pset, 6, seed=6, box="generating")[-6:]
    vals = _tile(pset.scale_to_natural(scale), len(rows))
    many = np.tile(rows, len(scale))
    a = rollout_logits(model, batch, many, vals, backend="kernel").numpy()
    b = rollout_logits(model, batch, many, vals, backend="torch").numpy()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


# --- simulation draws from the probabilities the likelihood scores ------------------------
@pytest.mark.parametrize(("name", "settings"), CASES)
def test_simulated_frequencies_match_probabilities(name, settings, make_batch):
    model = get_model(name, **settings)
    _, k = _shape(model, 2, 3)
    batch = make_batch(n_features=2, n_categories=k, seed=7)
    pset = _pset(model, batch)
    values = {k: float(v[0]) for k, v in _centre_values(pset).items()}
    n_runs = 4000
    draws = simulate_responses(model, batch, values, seed=11, n_runs=n_runs)
    probs = response_probabilities(model, batch, values)
    mask = batch.mask
    assert draws.shape == (n_runs, *mask.shape)
    assert (draws[:, ~mask] == -1).all()
    assert ((draws[:, mask] >= 0) & (draws[:, mask] < k)).all()
    freq = torch.stack([(draws == j).double().mean(0) for j in range(k)], -1)[mask]
    p = probs[mask]
    sd = torch.sqrt(p * (1 - p) / n_runs)
    # 5 sd per cell (a few hundred cells) plus one draw's worth of slack for p near 0 or 1
    assert ((freq - p).abs() <= 5 * sd + 1.0 / n_runs).all()


# --- learners are independent --------------------------------------------------------------
@pytest.mark.parametrize("backend", ["kernel", "torch"])
@pytest.mark.parametrize(("name", "settings"), CASES)
def test_batch_equals_loop(name, settings, backend, make_batch):
    model = get_model(name, **settings)
    _, k = _shape(model, 2, 3)
    batch = make_batch(n_features=2, n_categories=k, lengths=(9, 20, 4, 15), seed=8)
    pset = _pset(model, batch)
    rows = np.arange(batch.n_learners)
    scale = _scale_draws(pset, len(rows), seed=9, box="generating")[-len(rows) :]
    values = pset.scale_to_natural(scale)  # a different parameter vector per learner
    if (
        backend == "kernel"
        and model.kernel_logits(batch, rows[:1], {k: v[:1] for k, v in values.items()}) is None
    ):
        pytest.skip("no kernel")
    together = rollout_logits(model, batch, rows, values, backend=backend).numpy()
    for r in rows:
        one = {k: v[r : r + 1] for k, v in values.items()}
        n = int(batch.n_trials[r])
        alone_same_batch = rollout_logits(model, batch, [r], one, backend=backend).numpy()
        np.testing.assert_allclose(alone_same_batch[0], together[r], rtol=0, atol=1e-12)
        alone = rollout_logits(model, batch.select([r]), [0], one, backend=backend).numpy()
        np.testing.assert_allclose(alone[0, :n], together[r, :n], rtol=0, atol=1e-12)


# --- no feedback, no learning; logits come before the feedback -----------------------------
@pytest.mark.parametrize(("name", "settings"), CASES)
def test_trials_without_feedback_leave_the_state_unchanged(name, settings, make_batch):
    model = get_model(name, **settings)
    batch = make_batch(n_features=2, n_categories=2, lengths=(10, 10, 10), seed=10)
    pset = _pset(model, batch)
    rows = torch.arange(batch.n_learners)
    values = as_value_tensors(
        {k: np.repeat(v, 3) for k, v in _centre_values(pset).items()}, batch.x, 3
    )
    state = model.init_state(batch, rows, values)
    for t in range(6):
        fb = batch.category[:, t]  # learn from the first trials
        state, _ = model.step(state, t, batch.x[:, t], fb, values)
    before = [s.clone() for s in state_tensors(state)]
    none = torch.full((3,), -1, dtype=torch.long)
    after, logits_none = model.step(state, 6, batch.x[:, 6], none, values)
    for b, a in zip(before, state_tensors(after), strict=True):
        assert torch.equal(b, a)
    # and the input state was not modified
    for b, s in zip(before, state_tensors(state), strict=True):
        assert torch.equal(b, s)
    # the logits of a trial do not depend on its own feedback
    _, logits_fb = model.step(state, 6, batch.x[:, 6], batch.category[:, 6], values)
    assert torch.equal(logits_none, logits_fb)
    # a learning trial does change the state (so the check above can fail) — except for models
    # without any state to learn
    learned, _ = model.step(state, 6, batch.x[:, 6], batch.category[:, 6], values)
    if model.role == LEARNING:
        assert any(not torch.equal(b, a) for b, a in zip(before, learned, strict=True))


# --- gradients through the trajectory --------------------------------------------------------
def _to_natural_torch(p, s: torch.Tensor) -> torch.Tensor:
    if p.scale == "log":
        return 10.0**s
    if p.scale == "logit":
        return torch.sigmoid(s)
    return s


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_gradient_matches_finite_differences(name, settings, make_batch):
    model = get_model(name, **settings)
    _, k = _shape(model, 2, 3)
    batch = make_batch(n_features=2, n_categories=k, lengths=(14, 9), seed=12)
    pset = _pset(model, batch)
    free = pset.free
    if not free:
        pytest.skip("no free parameters")
    lo, hi = pset.generating_scale_box()
    rng = np.random.default_rng(13)
    point = lo + (hi - lo) * (0.3 + 0.4 * rng.random(len(lo)))
    if "temperature" in pset.free_names:
        # responses here are random: at a temperature near 1 the choice probabilities are not
        # saturated, so the NLL has gradients that finite differences resolve
        i = pset.free_names.index("temperature")
        f_lo, f_hi = pset.scale_bounds()
        point[i] = np.clip(0.0, f_lo[i], f_hi[i])
    rows = torch.arange(batch.n_learners)

    def nll(scale: torch.Tensor) -> torch.Tensor:
        values = {}
        for i, p in enumerate(free):
            values[p.name] = _to_natural_torch(p, scale[i]).expand(len(rows))
        for key, v in pset.fixed.items():
            values[key] = torch.full((len(rows),), v, dtype=torch.float64)
        return torch_nll(model, batch, rows, values).sum()

    s = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    value = nll(s)
    (grad,) = torch.autograd.grad(value, s)
    h = 1e-5
    fd = np.empty(len(point))
    for i in range(len(point)):
        e = torch.zeros(len(point), dtype=torch.float64)
        e[i] = h
        with torch.no_grad():
            fd[i] = float(nll(s.detach() + e) - nll(s.detach() - e)) / (2 * h)
    g = grad.numpy()
    assert np.abs(fd).max() > 1e-3  # the check below is not trivially met
    scale_ = np.maximum(np.abs(fd), 1e-2 * np.abs(fd).max() + 1e-8)
    assert np.all(np.abs(g - fd) <= 1e-5 * scale_), (pset.free_names, g, fd)
