"""Parameter maps, choice-rule kernels, batched Nelder-Mead, trajectory gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from catmodel.errors import SettingsError
from catmodel.fitting.likelihood import Objective, torch_nll
from catmodel.fitting.neldermead import batched_nelder_mead
from catmodel.kernels.choice import choice_nll, profile_temperature
from catmodel.models.choice import response_log_likelihood
from catmodel.models.gaussian import Gaussian
from catmodel.models.params import ParameterSet
from catmodel.models.rollout import rollout_logits


def test_parameter_maps_round_trip_and_respect_overrides():
    model = Gaussian()
    pset = ParameterSet.for_model(
        model, 2, 2, fix={"lr_cov": 0.05}, bounds={"lr_w": (0.1, 5.0)}, free=["lapse"]
    )
    assert pset.free_names == ["lr_mu", "lr_w", "temperature", "lapse"]
    assert pset.fixed == {"lr_cov": 0.05}
    assert pset["lr_w"].lower == 0.1 and pset["lr_w"].upper == 5.0
    rng = np.random.default_rng(0)
    lo, hi = pset.scale_bounds()
    scale = lo + (hi - lo) * rng.random((50, 4))
    z = pset.scale_to_unconstrained(scale)
    assert np.allclose(pset.unconstrained_to_scale(z), scale, atol=1e-10)
    nat = pset.scale_to_natural(scale)
    assert np.allclose(nat["lr_cov"], 0.05)
    assert np.allclose(np.log10(nat["lr_mu"]), scale[:, 0])
    assert np.allclose(pset.natural_to_scale(nat), scale)
    assert pset.at_bound(np.array([lo[0], (lo[1] + hi[1]) / 2, hi[2], (lo[3] + hi[3]) / 2])) == [
        "lr_mu",
        "temperature",
    ]


def test_narrower_bounds_narrow_the_generating_box_and_far_values_stay_finite():
    pset = ParameterSet.for_model(Gaussian(), 2, 2, bounds={"lr_w": (0.1, 0.9), "lr_mu": (0.5, 1)})
    assert pset["lr_w"].generating == (0.1, 10**-0.25)  # [10^-1.75, 10^-0.25] cut at 0.1
    assert pset["lr_mu"].generating == (0.5, 0.5)  # wholly below the box: pinned to its edge
    assert pset["lr_cov"].generating == Gaussian().rule.learning_params()[1].generating
    # far unconstrained coordinates map to the box's edges without overflow warnings
    with np.errstate(over="raise"):
        edges = pset.unconstrained_to_scale(np.array([[-1e4] * 4, [1e4] * 4]))
        assert pset["temperature"].from_scale(400.0) == np.inf
    np.testing.assert_allclose(edges, np.stack(pset.scale_bounds()), atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fix": {"nope": 1.0}}, "no parameter 'nope'"),
        ({"fix": {"lapse": 0.1}, "free": ["lapse"]}, "both fixed and freed"),
        ({"bounds": {"lr_w": (2.0, 1.0)}}, "must be below"),
    ],
)
def test_parameter_overrides_fail_with_clear_messages(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        ParameterSet.for_model(Gaussian(), 2, 2, **kwargs)


def _logits(seed=0, n=6, t=50, k=3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((n, t, k), generator=g, dtype=torch.float64) * 3
    resp = torch.randint(-1, k, (n, t), generator=g)
    return logits, resp


@pytest.mark.parametrize("k", [2, 3])  # two categories take a logistic path of their own
def test_choice_kernel_equals_the_torch_choice_rule(k):
    logits, resp = _logits(k=k)
    tau = torch.tensor([0.1, 0.3, 1.0, 3.0, 10.0, 0.5], dtype=torch.float64)
    lapse = torch.tensor([0.0, 0.01, 0.1, 0.02, 0.3, 0.0], dtype=torch.float64)
    ref = -response_log_likelihood(logits, resp, tau, lapse)
    mine = choice_nll(logits.numpy(), resp.numpy(), np.arange(6), (1 / tau).numpy(), lapse.numpy())
    assert np.allclose(mine, ref.numpy(), rtol=1e-12)


def _nll_over_grid(logits, resp, i, log_beta, lapse):
    """Learner ``i``'s NLL at every log(1/temperature) of a grid."""
    n = len(log_beta)
    return choice_nll(
        np.repeat(logits.numpy()[i : i + 1], n, 0),
        resp.numpy(),
        np.full(n, i),
        np.exp(log_beta),
        np.full(n, lapse),
    )


@pytest.mark.parametrize("k", [2, 3])
def test_choice_kernels_without_a_lapse_survive_probabilities_that_underflow(k):
    """Without a lapse a chosen probability of exp(-2000) is 0 in floating point: the NLL
    is still its exact 2000-odd (torch's log-softmax), and the profile started where every
    choice saturates still finds the minimum a grid finds."""
    logits, resp = _logits(seed=4, k=k)
    beta = np.full(6, 1000.0)  # temperature 1e-3
    zero = np.zeros(6)
    ref = -response_log_likelihood(logits, resp, torch.tensor(1 / beta), torch.tensor(zero))
    mine = choice_nll(logits.numpy(), resp.numpy(), np.arange(6), beta, zero)
    assert np.isfinite(mine).all() and mine.min() > 1000
    assert np.allclose(mine, ref.numpy(), rtol=1e-12)
    for lapse in (0.0, 0.01):
        lapses = np.full(6, lapse)
        lo, hi = -np.log(10.0), np.log(1000.0)
        nll, _ = profile_temperature(
            logits.numpy(), resp.numpy(), np.arange(6), lapses, lo, hi, np.full(6, hi), 1e-9, 60
        )
        grid = np.linspace(lo, hi, 2001)
        for i in range(6):
            assert nll[i] <= _nll_over_grid(logits, resp, i, grid, lapse).min() + 1e-7


@pytest.mark.parametrize("k", [2, 3])
def test_temperature_profile_finds_the_minimum_over_a_fine_grid(k):
    logits, resp = _logits(seed=3, k=k)
    lapse = np.full(6, 0.01)
    lo, hi = -np.log(10.0), -np.log(1e-3)
    nll, log_beta = profile_temperature(
        logits.numpy(), resp.numpy(), np.arange(6), lapse, lo, hi, np.zeros(6), 1e-9, 60
    )
    grid = np.linspace(lo, hi, 4001)
    for i in range(6):
        assert nll[i] <= _nll_over_grid(logits, resp, i, grid, 0.01).min() + 1e-7
        assert (
            abs(
                nll[i]
                - choice_nll(
                    logits.numpy()[i : i + 1],
                    resp.numpy(),
                    np.array([i]),
                    np.exp(log_beta[i : i + 1]),
                    lapse[:1],
                )[0]
            )
            < 1e-9
        )


def test_batched_nelder_mead_matches_scipy_on_rosenbrock_and_quadratics():
    def rosen(x):
        return np.sum(100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2, axis=1)

    centres = np.array([[1.0, 1.0, 1.0], [0.5, -2.0, 3.0], [0.0, 0.0, 0.0]])

    def fun(idx, x):
        out = np.where(idx == 0, rosen(x), np.sum((x - centres[idx]) ** 2, axis=1))
        return out, x[:, :1]

    x0 = np.array([[-1.2, 1.0, 0.5], [0.0, 0.0, 0.0], [3.0, -1.0, 2.0]])
    res = batched_nelder_mead(fun, x0, fatol=1e-10, xatol=1e-8, max_iter=5000)
    assert res.converged.all()
    ref = minimize(
        lambda v: rosen(v[None])[0],
        x0[0],
        method="Nelder-Mead",
        options={"fatol": 1e-10, "xatol": 1e-8, "maxiter": 5000, "adaptive": True},
    )
    assert np.allclose(res.x[0], ref.x, atol=1e-5)
    assert np.allclose(res.x[1:], centres[1:], atol=1e-6)
    assert np.allclose(res.aux[:, 0], res.x[:, 0])


SGD_RATES = {"lr_mu": [0.02, 0.05, 0.01], "lr_cov": [0.1, 0.3, 0.05], "lr_w": [1.0, 2.0, 0.5]}
NATURAL_RATES = {"lr_mu": [0.05, 0.3, 0.01], "lr_cov": [0.1, 0.2, 0.03], "lr_w": [0.3, 0.6, 0.1]}


@pytest.mark.parametrize(
    "model, rates",
    [
        (Gaussian(update="sgd", momentum=0.3, units_per_category=2), SGD_RATES),
        (Gaussian(units_per_category=2), NATURAL_RATES),
    ],
    ids=["sgd", "natural"],
)
def test_trajectory_gradients_match_finite_differences(small_batch, model, rates):
    """d NLL / d parameters through every learning step equals central differences."""
    idx = torch.arange(3)
    base = {**rates, "temperature": [0.3, 0.2, 0.5], "lapse": [0.01, 0.02, 0.05]}
    values = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in base.items()}
    nll = torch_nll(model, small_batch, idx, values)
    grads = torch.autograd.grad(nll.sum(), list(values.values()))
    for (name, v), g in zip(values.items(), grads, strict=True):
        for i in range(3):
            h = 1e-6 * abs(base[name][i])
            up = {k: t.detach().clone() for k, t in values.items()}
            down = {k: t.detach().clone() for k, t in values.items()}
            up[name][i] += h
            down[name][i] -= h
            fd = (
                torch_nll(model, small_batch, idx, up)[i]
                - torch_nll(model, small_batch, idx, down)[i]
            ) / (2 * h)
            assert g[i].item() == pytest.approx(fd.item(), rel=1e-5, abs=1e-7), name
        assert torch.isfinite(v).all()


def test_objective_profiles_temperature_exactly(small_batch):
    model = Gaussian()
    pset = ParameterSet.for_model(model, 2, 2)
    obj = Objective(model, small_batch, pset)
    assert obj.search_names == ["lr_mu", "lr_cov", "lr_w"]
    scale = np.array([[-2.0, -1.0, 0.0]] * 3)
    nll, full = obj(np.arange(3), scale)
    at = obj.nll_at(np.arange(3), full)
    assert np.allclose(nll, at, atol=1e-9)
    # the profiled temperature beats any other on a grid
    grid = np.linspace(*pset["temperature"].scale_bounds, 200)
    for i in range(3):
        pts = np.repeat(full[i : i + 1], len(grid), 0)
        pts[:, 3] = grid
        assert nll[i] <= obj.nll_at(np.full(len(grid), i), pts).min() + 1e-7
    logits = rollout_logits(
        model, small_batch, torch.arange(3), {k: v for k, v in pset.scale_to_natural(full).items()}
    )
    assert logits.shape == (3, small_batch.max_trials, 2)
