"""The default Gaussian learner (update="natural"): its steps are natural-gradient steps of its
own loss (checked against autograd), every step is bounded at every rate in the box, the first
predictions are uniform, and it learns in many dimensions and on binary features."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from catmodel.data.trials import TrialTable
from catmodel.models.gaussian import Gaussian
from catmodel.models.gaussian_natural import _log_densities
from catmodel.models.rollout import rollout_logits, torch_rollout
from catmodel.simulate.designs import make_design
from catmodel.simulate.simulate import simulate_responses


def _walked_state(model, batch, rates, n_trials=6):
    """The state after a few trials, so that weights and units differ from the start."""
    idx = torch.arange(batch.n_learners)
    vals = {k: torch.full((len(idx),), v, dtype=torch.float64) for k, v in rates.items()}
    state = model.init_state(batch, idx, vals)
    for t in range(n_trials):
        state, _ = model.step(state, t, batch.x[:, t], batch.category[:, t], vals)
    return state, vals


def _loss(model, mu, sigma, w, x, y):
    """The learner's own loss: (-log p_y - g log sum_{j in y} a_j) / (1 + g)."""
    log_a, _ = _log_densities(x[:, None, :] - mu, sigma)
    r = torch.softmax(log_a, -1)
    p = (w * r[:, None, :]).sum(-1)
    p_y = p.gather(1, y[:, None])[:, 0]
    g = model.rule.generative
    own = model.unit_category(w.shape[1])[None, :] == y[:, None]
    log_own = torch.logsumexp(log_a.masked_fill(~own, -math.inf), -1)
    return ((-torch.log(p_y) - g * log_own) / (1.0 + g)).sum()


@pytest.mark.parametrize("generative", [0.0, 1.0, 2.5])
def test_mean_step_is_the_natural_gradient_of_the_loss(make_batch, generative):
    """mu <- mu - lr Sigma grad_mu(loss): the gradient in the unit's own metric."""
    batch = make_batch(n_features=3, n_categories=3, lengths=(20, 20))
    model = Gaussian(units_per_category=2, generative=generative)
    state, vals = _walked_state(model, batch, {"lr_mu": 0.3, "lr_cov": 0.2, "lr_w": 0.4})
    x, y = batch.x[:, 6], batch.category[:, 6]
    new, _ = model.step(state, 6, x, y, vals)
    mu = state.means.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_loss(model, mu, state.covariances, state.weights, x, y), mu)
    expected = state.means - 0.3 * (state.covariances @ grad[..., None])[..., 0]
    assert torch.allclose(new.means, expected, atol=1e-12)


def test_covariance_step_is_the_natural_gradient_to_first_order(make_batch):
    """(Sigma_new - Sigma) / lr -> -2 Sigma grad_Sigma(loss) Sigma as lr -> 0."""
    batch = make_batch(n_features=2, n_categories=2, lengths=(30, 30, 30))
    model = Gaussian()
    state, _ = _walked_state(model, batch, {"lr_mu": 0.2, "lr_cov": 0.3, "lr_w": 0.5}, 10)
    x, y = batch.x[:, 10], batch.category[:, 10]
    lr = 1e-7
    vals = {k: torch.full((3,), lr, dtype=torch.float64) for k in ("lr_mu", "lr_cov", "lr_w")}
    new, _ = model.step(state, 10, x, y, vals)
    sigma = state.covariances.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_loss(model, state.means, sigma, state.weights, x, y), sigma)
    grad = 0.5 * (grad + grad.transpose(-1, -2))
    expected = -2.0 * state.covariances @ grad @ state.covariances
    assert torch.allclose((new.covariances - state.covariances) / lr, expected, atol=1e-5)


def test_weight_step_is_the_natural_gradient_on_the_simplex(make_batch):
    """w_.j <- w_.j + (q_j / n_j) (t - w_.j) = (1 / n_j) w (grad - <w, grad>) for grad of
    log p_y, with the forgetful count n_j <- (1 - lr_w q_j) n_j + q_j."""
    batch = make_batch(n_features=2, n_categories=3, lengths=(20, 20))
    model = Gaussian(units_per_category=2)
    state, vals = _walked_state(model, batch, {"lr_mu": 0.3, "lr_cov": 0.2, "lr_w": 0.4})
    x, y = batch.x[:, 6], batch.category[:, 6]
    new, _ = model.step(state, 6, x, y, vals)
    w = state.weights.clone().requires_grad_(True)
    log_a, _ = _log_densities(x[:, None, :] - state.means, state.covariances)
    r = torch.softmax(log_a, -1)
    p = (w * r[:, None, :]).sum(-1)
    (grad,) = torch.autograd.grad(torch.log(p.gather(1, y[:, None])).sum(), w)
    natural = state.weights * (grad - (state.weights * grad).sum(1, keepdim=True))
    q = r * state.weights.gather(1, y[:, None, None].expand(-1, 1, r.shape[1]))[:, 0]
    q = q / p.detach().gather(1, y[:, None])
    counts = (1.0 - 0.4 * q) * state.counts + q
    assert torch.allclose(new.counts, counts, atol=1e-12)
    assert torch.allclose(new.weights, state.weights + natural / counts[:, None, :], atol=1e-12)


def test_weights_are_a_forgetful_running_average_of_the_feedback(make_batch):
    """Two units that never move share every stimulus (q = 1/2 each): the prediction is the
    running average of the one-hot feedback, from a uniform start counted as one observation,
    with counts that forget at the rate lr_w q."""
    batch = make_batch(n_features=2, n_categories=2, lengths=(12,))
    model = Gaussian(units_per_category=1, generative=0.0)
    fb = batch.category[:, :12]
    for lr_w in (1e-3, 0.3, 1.0):
        vals = {"lr_mu": 0.0, "lr_cov": 0.0, "lr_w": lr_w}
        vals = {k: torch.full((1,), v, dtype=torch.float64) for k, v in vals.items()}
        state = model.init_state(batch, torch.arange(1), vals)
        average, count = torch.full((2,), 0.5, dtype=torch.float64), 1.0
        for t in range(12):
            state, logits = model.step(state, t, batch.x[:, t], fb[:, t], vals)
            assert torch.allclose(logits[0], average, atol=1e-12)  # predicted before feedback
            count = (1.0 - 0.5 * lr_w) * count + 0.5
            average = average + 0.5 / count * (torch.nn.functional.one_hot(fb[0, t], 2) - average)
            assert torch.allclose(state.counts[0], torch.full((2,), count).double(), atol=1e-12)


@pytest.mark.parametrize("rate", [1e-3, 0.3, 1.0])
def test_every_step_is_bounded_at_every_rate_in_the_box(make_batch, rate):
    """Means never overshoot the stimulus, weights stay distributions, covariances stay in the
    band, whatever the rates (the stability condition rate * |e| <= 1)."""
    batch = make_batch(n_features=3, n_categories=3, lengths=(40, 40, 40))
    model = Gaussian(units_per_category=2, generative=0.0)
    lo, hi = (s**2 for s in model.settings["sd_band"])
    idx = torch.arange(3)
    vals = {k: torch.full((3,), rate, dtype=torch.float64) for k in ("lr_mu", "lr_cov", "lr_w")}
    state = model.init_state(batch, idx, vals)
    for t in range(int(batch.n_trials.min())):
        x = batch.x[:, t]
        new, logits = model.step(state, t, x, batch.category[:, t], vals)
        before = (x[:, None, :] - state.means).norm(dim=-1)
        after = (x[:, None, :] - new.means).norm(dim=-1)
        assert (after <= 2.0 * before + 1e-12).all()  # an away step moves at most |x - mu|
        assert (new.weights >= -1e-15).all() and (new.weights <= 1 + 1e-15).all()
        assert torch.allclose(new.weights.sum(1), torch.ones_like(new.weights.sum(1)))
        eig = torch.linalg.eigvalsh(new.covariances)
        assert (eig >= lo * (1 - 1e-9)).all() and (eig <= hi * (1 + 1e-9)).all()
        # the outputs are the learner's category probabilities
        assert torch.allclose(logits.sum(-1), torch.ones(3, dtype=torch.float64))
        assert torch.equal(model.own_probabilities(logits), logits)
        state = new


@pytest.mark.parametrize("backend", ["kernel", "torch"])
def test_a_weight_rate_beyond_the_box_stays_finite(make_batch, backend):
    """--bounds may widen lr_w past 1 (outside the stability condition): the forgetful count
    stops at zero (everything forgotten) instead of going negative, and the predictions stay
    distributions on both code paths."""
    batch = make_batch(n_features=2, n_categories=2, lengths=(40, 40))
    values = {"lr_mu": 0.3, "lr_cov": 0.3, "lr_w": 3.0, "temperature": 0.3, "lapse": 0.01}
    logits = rollout_logits(Gaussian(), batch, [0, 1], values, backend=backend)
    assert torch.isfinite(logits).all()
    assert (logits >= 0).all() and torch.allclose(logits.sum(-1), torch.ones(2, 40).double())


def test_toward_steps_move_a_fraction_of_the_way(make_batch):
    """With the generative term alone acting (weights uniform), the feedback category's unit
    moves the fraction lr_mu g / (1 + g) of the way to the stimulus."""
    batch = make_batch(n_features=2, n_categories=2, lengths=(5,))
    model = Gaussian(generative=1.0)
    vals = {k: torch.full((1,), 0.6, dtype=torch.float64) for k in ("lr_mu", "lr_cov", "lr_w")}
    state = model.init_state(batch, torch.arange(1), vals)
    x, y = batch.x[:, 0], batch.category[:, 0]
    new, logits = model.step(state, 0, x, y, vals)
    j = int(y[0])
    assert torch.allclose(new.means[0, j], state.means[0, j] + 0.3 * (x[0] - state.means[0, j]))
    assert torch.allclose(new.means[0, 1 - j], state.means[0, 1 - j])  # the other unit waits
    assert torch.allclose(logits, torch.full_like(logits, 0.5))  # uniform at first


def test_the_module_documents_the_start_rule_the_code_uses(make_batch):
    import catmodel.models.gaussian_natural as natural
    from catmodel.models.gaussian_units import halton

    batch = make_batch(n_features=2, n_categories=3)
    means, sd0 = Gaussian(units_per_category=3).start_means_and_sd(batch)
    mean, sd = np.asarray(batch.stim_mean), np.asarray(batch.stim_sd)
    # the m-th unit of every category at mean + 0.5 sd (2 h_m - 1), the first at the mean
    offsets = np.vstack([np.zeros((1, 2)), 0.5 * sd * (2 * halton(2, 2) - 1)])
    assert np.allclose(means, np.tile(mean + offsets, (3, 1)))
    assert sd0 == pytest.approx(np.mean(sd))
    doc = " ".join(natural.__doc__.split())
    assert "``mean + 0.5 sd (2 h_m - 1)``" in doc and "``mean(sd)``" in doc


@pytest.mark.parametrize("units", [1, 2, 3])
def test_first_predictions_are_uniform(make_batch, units):
    batch = make_batch(n_features=3, n_categories=4, lengths=(8, 8))
    model = Gaussian(units_per_category=units)
    logits = rollout_logits(model, batch, np.arange(2), {"lr_mu": 0.5, "lr_cov": 0.5, "lr_w": 0.5})
    assert torch.allclose(logits[:, 0], torch.full((2, 4), 0.25, dtype=torch.float64))


@pytest.mark.parametrize("units, generative, n_features", [(1, 1.0, 2), (2, 0.5, 3), (2, 0.0, 4)])
def test_kernel_matches_step_over_the_whole_box(make_batch, units, generative, n_features):
    batch = make_batch(n_features=n_features, n_categories=3, lengths=(40, 25, 33))
    model = Gaussian(units_per_category=units, generative=generative)
    rng = np.random.default_rng(3)
    idx = np.repeat(np.arange(3), 8)
    vals = {k: 10 ** rng.uniform(-3, 0, len(idx)) for k in ("lr_mu", "lr_cov", "lr_w")}
    kernel = rollout_logits(model, batch, idx, vals, backend="kernel")
    step = rollout_logits(model, batch, idx, vals, backend="torch")
    assert torch.allclose(kernel, step, atol=1e-10, rtol=0)


def test_density_activation_is_a_separate_candidate(make_batch):
    """activation=density: linear weights from zero and the same bounded steps (torch only)."""
    batch = make_batch(n_features=2, n_categories=2)
    model = Gaussian(activation="density")
    assert model.kernel_logits(batch, np.arange(3), {}) is None
    vals = {k: torch.full((3,), 0.5, dtype=torch.float64) for k in ("lr_mu", "lr_cov", "lr_w")}
    logits, _ = torch_rollout(model, batch, torch.arange(3), vals)
    assert torch.isfinite(logits).all() and (logits[:, 0] == 0).all()


LEARNABLE = [
    ("distortion", {"dims": 2}),
    ("distortion", {"dims": 4}),
    ("distortion", {"dims": 8}),
    ("distortion", {"dims": 16}),
    ("distortion", {"dims": 20}),
    ("5-4", {}),
    ("shj-1", {}),
    ("shj-2", {}),
]


@pytest.mark.parametrize("design, options", LEARNABLE)
def test_learns_at_its_defaults_in_any_dimension_and_on_binary_features(design, options):
    """200 simulated participants at the model's default parameters (what `catmodel simulate`
    uses without --params): mean accuracy in the last training block above .75."""
    frame = make_design(design, 200, seed=5, **options)
    table = TrialTable.from_frame(frame)
    batch = table.to_batch()
    model = Gaussian()
    values = {p.name: p.default for p in model.params(batch.n_features, batch.n_categories)}
    responses = simulate_responses(model, batch, values, seed=6)[0]
    learned = (batch.feedback >= 0) & batch.mask
    last = torch.stack([batch.block[i][learned[i]].max() for i in range(batch.n_learners)])
    in_last = learned & (batch.block == last[:, None])
    correct = (responses == batch.category) & in_last
    accuracy = correct.sum(1).double() / in_last.sum(1).double()
    assert accuracy.mean() > 0.75
