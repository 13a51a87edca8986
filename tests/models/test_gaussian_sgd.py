"""The original Gaussian learner (update="sgd"): closed-form gradients, the covariance band,
failures, the start rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from catmodel.models.base import state_tensors
from catmodel.models.covariance import FullMatrix, LogCholesky, Spectral
from catmodel.models.gaussian import Gaussian, halton
from catmodel.models.rollout import rollout_logits, torch_rollout

torch.manual_seed(0)


def _random_state(cov, n=4, j=3, d=3):
    g = torch.Generator().manual_seed(1)
    like = torch.zeros(1, dtype=torch.float64)
    state = cov.init((n, j), d, 0.7, like)
    noisy = tuple(s + 0.3 * torch.randn(s.shape, generator=g, dtype=torch.float64) for s in state)
    if isinstance(cov, FullMatrix):
        a = noisy[0]
        noisy = (a @ a.transpose(-1, -2) + 0.5 * torch.eye(d, dtype=torch.float64),)
    return noisy


@pytest.mark.parametrize("cov", [Spectral(0.05, 3.0), LogCholesky(), FullMatrix()])
def test_closed_form_density_gradients_match_autograd(cov):
    state = tuple(s.clone().requires_grad_(True) for s in _random_state(cov))
    g = torch.Generator().manual_seed(2)
    d = torch.randn((4, 3, 3), generator=g, dtype=torch.float64, requires_grad=True)
    e = torch.randn((4, 3), generator=g, dtype=torch.float64)
    log_a, ctx = cov.log_density(d, state)
    g_d, g_cov = cov.backward(e, ctx)
    auto = torch.autograd.grad((e * log_a).sum(), [d, *state])
    assert torch.allclose(g_d, auto[0], atol=1e-12, rtol=1e-10)
    for mine, ref in zip(g_cov, auto[1:], strict=True):
        if isinstance(cov, FullMatrix):  # symmetric gradient of a symmetric matrix
            ref = 0.5 * (ref + ref.transpose(-1, -2))
        assert torch.allclose(mine, ref, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("cov", [Spectral(0.05, 3.0), LogCholesky()])
def test_log_density_equals_torch_distribution(cov):
    state = _random_state(cov)
    x = torch.randn((4, 3, 3), dtype=torch.float64)
    log_a, _ = cov.log_density(x, state)
    sigma = cov.matrices(state)
    ref = torch.distributions.MultivariateNormal(
        torch.zeros(3, dtype=torch.float64), covariance_matrix=sigma
    ).log_prob(x)
    assert torch.allclose(log_a, ref, atol=1e-10)


@pytest.mark.parametrize("generative", [0.0, 0.7])
def test_learner_step_is_one_sgd_step_on_its_loss(small_batch, generative):
    """The closed-form update equals autograd's gradient of cross-entropy (+ generative)."""
    model = Gaussian(update="sgd", units_per_category=2, generative=generative)
    idx = torch.arange(3)
    lr = {
        "lr_mu": torch.full((3,), 0.1, dtype=torch.float64),
        "lr_cov": torch.full((3,), 0.2, dtype=torch.float64),
        "lr_w": torch.full((3,), 0.3, dtype=torch.float64),
    }
    state = model.init_state(small_batch, idx, lr)
    # walk a few trials so the weights are not zero
    for t in range(5):
        state, _ = model.step(state, t, small_batch.x[:, t], small_batch.feedback[:, t], lr)
    mu, w, _, _, _, _, cov, _ = state
    x, fb = small_batch.x[:, 5], small_batch.feedback[:, 5]
    new, _ = model.step(state, 5, x, fb, lr)
    params = [
        mu.clone().requires_grad_(True),
        w.clone().requires_grad_(True),
        *(c.clone().requires_grad_(True) for c in cov),
    ]
    log_a, _ = model.cov.log_density(x[:, None, :] - params[0], tuple(params[2:]))
    logits = (params[1] * log_a.exp()[:, None, :]).sum(-1)
    loss = torch.nn.functional.cross_entropy(logits, fb, reduction="sum")
    if generative:
        own = model.unit_category(2)[None, :] == fb[:, None]
        loss = (
            loss
            - generative
            * (torch.logsumexp(log_a.masked_fill(~own, -math.inf), -1) - math.log(2)).sum()
        )
    grads = torch.autograd.grad(loss, params)
    new_mu, new_w, *_ = new
    new_cov = new.cov
    assert torch.allclose(new_mu, mu - 0.1 * grads[0], atol=1e-12)
    assert torch.allclose(new_w, w - 0.3 * grads[1], atol=1e-12)
    for c_new, c_old, gr in zip(new_cov, cov, grads[2:], strict=True):
        expected = c_old - 0.2 * gr
        # theta is wrapped into [-pi, pi): compare angles modulo 2 pi
        diff = torch.remainder(c_new - expected + math.pi, 2 * math.pi) - math.pi
        assert diff.abs().max() < 1e-10


def test_no_feedback_trials_leave_the_state_unchanged(small_batch):
    model = Gaussian(update="sgd", momentum=0.5)
    idx = torch.arange(3)
    vals = {"lr_mu": 0.1, "lr_cov": 0.1, "lr_w": 0.5}
    vals = {k: torch.full((3,), v, dtype=torch.float64) for k, v in vals.items()}
    state = model.init_state(small_batch, idx, vals)
    state, _ = model.step(state, 0, small_batch.x[:, 0], small_batch.feedback[:, 0], vals)
    after, _ = model.step(state, 1, small_batch.x[:, 1], torch.full((3,), -1), vals)
    for a, b in zip(state_tensors(state), state_tensors(after), strict=True):
        assert torch.equal(a, b)


def test_eigenvalues_stay_in_the_band_at_absurd_learning_rates(small_batch):
    """Every covariance keeps its eigenvalues in [sd_min^2, sd_max^2], in float32 too."""
    for dtype in (torch.float64, torch.float32):
        batch = small_batch.to(dtype=dtype)
        model = Gaussian(update="sgd", momentum=0.9, generative=1.0, sd_band=(0.01, 2.0))
        idx = torch.arange(3).repeat(3)
        lr = torch.tensor([1e-3, 1.0, 1e3], dtype=dtype).repeat_interleave(3)
        vals = {"lr_mu": lr, "lr_cov": lr, "lr_w": lr}
        logits, kept = torch_rollout(model, batch, idx, vals, keep_states=[30, 59])
        assert torch.isfinite(logits).all()
        for t in (30, 59):
            sigma = model.cov.matrices(kept[t].cov).double()
            eig = torch.linalg.eigvalsh(sigma)
            assert eig.min() >= 0.01**2 * (1 - 1e-5)
            assert eig.max() <= 2.0**2 * (1 + 1e-5)
            assert torch.isfinite(
                torch.stack([s.double().sum() for s in state_tensors(kept[t])])
            ).all()


def test_original_full_matrix_reports_the_failing_trial_instead_of_crashing(small_batch):
    model = Gaussian(update="sgd", covariance="full", momentum=0.3)
    idx = torch.arange(3)
    vals = {
        k: torch.full((3,), v, dtype=torch.float64)
        for k, v in {"lr_mu": 0.01, "lr_cov": 50.0, "lr_w": 5.0}.items()
    }
    logits, kept = torch_rollout(model, small_batch, idx, vals, keep_states=[45])
    failed_at = kept[45].failed_at
    assert (failed_at >= 0).all(), "a huge lr_cov should break the raw matrix"
    for i, t in enumerate(failed_at.tolist()):
        assert torch.isnan(logits[i, t:45]).all() and torch.isfinite(logits[i, :t]).all()


def test_start_rule_is_deterministic_distinct_and_ignores_categories(small_batch):
    model = Gaussian(update="sgd", units_per_category=3)
    means, sd0 = model.start_means_and_sd(small_batch)
    assert means.shape == (6, 2)
    assert len({tuple(np.round(m, 12)) for m in means}) == 6
    assert sd0 == pytest.approx(0.3 * np.mean(small_batch.stim_sd))
    shuffled = small_batch.with_feedback(torch.flip(small_batch.feedback, [1]))
    assert np.array_equal(model.start_means_and_sd(shuffled)[0], means)
    assert np.allclose(halton(3, 2), [[0.5, 1 / 3], [0.25, 2 / 3], [0.75, 1 / 9]])


def test_the_module_documents_the_start_rule_the_code_uses(small_batch):
    import catmodel.models.gaussian_sgd as gaussian

    model = Gaussian(update="sgd", units_per_category=2)
    means, sd0 = model.start_means_and_sd(small_batch)
    mean, sd = np.asarray(small_batch.stim_mean), np.asarray(small_batch.stim_sd)
    # the documented rule, computed as the docstring writes it
    assert np.allclose(means, mean + sd * (2 * halton(4, 2) - 1))
    assert sd0 == pytest.approx(0.3 * np.mean(sd))
    doc = " ".join(gaussian.__doc__.split())
    assert "``mean + sd * (2 h_{j+1} - 1)``" in doc
    assert "``0.3 * mean(sd)``" in doc


def test_kernel_agrees_with_step_function(small_batch):
    model = Gaussian(update="sgd", units_per_category=2, momentum=0.3, generative=0.5)
    idx = torch.tensor([0, 1, 2, 2])
    vals = {
        "lr_mu": torch.tensor([0.01, 0.03, 0.003, 0.05], dtype=torch.float64),
        "lr_cov": torch.tensor([0.1, 0.3, 0.01, 0.5], dtype=torch.float64),
        "lr_w": torch.tensor([1.0, 3.0, 0.3, 2.0], dtype=torch.float64),
    }
    a = rollout_logits(model, small_batch, idx, vals, backend="kernel")
    b = rollout_logits(model, small_batch, idx, vals, backend="torch")
    assert torch.allclose(a, b, atol=1e-10)
