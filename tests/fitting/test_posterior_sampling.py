"""Importance-sampled posteriors against exact answers: a Gaussian target (moments and
quantiles in closed form) and a skewed one-dimensional target (numerical integration)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from catmodel.fitting.posterior_sampling import sample_posterior, weighted_quantiles


def gaussian_targets():
    """Two participants' Gaussian posteriors N(m, C): means (2, 2), covariances (2, 2, 2) and
    the log target (up to constants) that :func:`sample_posterior` takes."""
    means = np.array([[0.3, -1.0], [2.0, 0.5]])
    covs = np.array([[[0.04, 0.01], [0.01, 0.09]], [[0.25, -0.1], [-0.1, 0.16]]])
    precisions = np.linalg.inv(covs)

    def log_target(rows, scale):
        d = scale - means[rows]
        return -0.5 * np.einsum("li,lij,lj->l", d, precisions[rows], d)

    return means, covs, log_target


def test_gaussian_targets_are_recovered_from_a_misplaced_proposal():
    # the proposal is centred off the mode and too narrow
    means, covs, log_target = gaussian_targets()
    got = sample_posterior(log_target, means + 0.05, 0.6 * covs, n_draws=20_000, seed=1)
    np.testing.assert_allclose(got.mean, means, atol=0.02)
    np.testing.assert_allclose(got.cov, covs, rtol=0.08, atol=0.004)
    z = stats.norm.ppf(0.975)
    sd = np.sqrt(np.einsum("pii->pi", covs))
    np.testing.assert_allclose(got.low, means - z * sd, atol=0.04)
    np.testing.assert_allclose(got.high, means + z * sd, atol=0.04)
    assert (got.ess > 2_000).all()


def test_skewed_target_quantiles_match_numerical_integration():
    # a log-gamma-like posterior: exp(a t - b e^t), skewed to the left; its Laplace
    # approximation is symmetric, so the sampled interval must move off it
    a, b = 3.0, 2.0

    def logp(t):
        return a * t - b * np.exp(t)

    mode = np.log(a / b)
    curvature = b * np.exp(mode)
    norm, _ = integrate.quad(lambda t: np.exp(logp(t)), -30, 10)

    def cdf(x):
        return integrate.quad(lambda t: np.exp(logp(t)), -30, x)[0] / norm

    lo = optimize.brentq(lambda x: cdf(x) - 0.025, -10, mode)
    hi = optimize.brentq(lambda x: cdf(x) - 0.975, mode, 5)
    got = sample_posterior(
        lambda rows, s: logp(s[:, 0]),
        np.array([[mode]]),
        np.array([[[1.0 / curvature]]]),
        n_draws=40_000,
        seed=2,
    )
    assert abs(got.low[0, 0] - lo) < 0.03 and abs(got.high[0, 0] - hi) < 0.03
    laplace_lo = mode - 1.96 / np.sqrt(curvature)
    assert abs(laplace_lo - lo) > 0.1  # the check has teeth: Laplace is off by more


def test_weighted_quantiles_with_equal_weights_are_the_midpoint_rule():
    values = np.array([[3.0, 1.0, 2.0, 4.0]])
    weights = np.full((1, 4), 0.25)
    got = weighted_quantiles(values, weights, np.array([0.125, 0.5, 0.875]))
    np.testing.assert_allclose(got, [[1.0, 2.5, 4.0]])


def test_impossible_draws_get_no_weight():
    # half the space is impossible (-inf): every interval stays in the possible half
    def log_target(rows, scale):
        return np.where(scale[:, 0] > 0, -0.5 * scale[:, 0] ** 2, -np.inf)

    got = sample_posterior(log_target, np.array([[0.5]]), np.array([[[1.0]]]), seed=3)
    assert got.low[0, 0] > 0
    # a half-normal's 97.5% quantile
    assert abs(got.high[0, 0] - stats.halfnorm.ppf(0.975)) < 0.15


def test_no_free_parameters_is_a_point_posterior():
    # a model with every parameter fixed: nothing to sample, and the target is never called
    def log_target(rows, scale):
        raise AssertionError("no draws to evaluate")

    got = sample_posterior(log_target, np.zeros((3, 0)), np.zeros((3, 0, 0)))
    assert got.mean.shape == got.low.shape == (3, 0) and got.cov.shape == (3, 0, 0)


def test_adaptive_rounds_rescue_a_proposal_far_too_narrow():
    # a target N(m, C) whose Laplace stand-in is a tenth of its sd and off its centre: the
    # first proposal's weights collapse onto a few draws (and its intervals with them); the
    # adaptive rounds recover the closed-form moments and quantiles, and participants whose
    # first proposal was fine draw nothing more
    means = np.array([[0.0, 1.0], [0.5, -0.5]])
    covs = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.2, 0.0], [0.0, 0.3]]])
    precisions = np.linalg.inv(covs)
    calls = []

    def log_target(rows, scale):
        calls.append(np.bincount(rows, minlength=2))
        d = scale - means[rows]
        return -0.5 * np.einsum("li,lij,lj->l", d, precisions[rows], d)

    centres = means + np.array([[0.6, -0.4], [0.0, 0.0]])
    proposal_covs = np.stack([0.01 * covs[0], covs[1]])
    plain = sample_posterior(log_target, centres, proposal_covs, n_draws=4_000, seed=5)
    assert plain.ess[0] < 30 and plain.ess[1] > 1_000
    calls.clear()
    got = sample_posterior(
        log_target, centres, proposal_covs, n_draws=4_000, seed=5, adapt_rounds=2
    )
    assert got.ess[0] > 1_000
    assert all(c[1] == 0 for c in calls[1:])  # the well-served participant drew once
    z = stats.norm.ppf(0.975)
    sd = np.sqrt(np.einsum("pii->pi", covs))
    np.testing.assert_allclose(got.mean, means, atol=0.05)
    np.testing.assert_allclose(got.cov, covs, rtol=0.1, atol=0.01)
    np.testing.assert_allclose(got.low, means - z * sd, atol=0.08)
    np.testing.assert_allclose(got.high, means + z * sd, atol=0.08)
    # the check has teeth: without the rounds the first participant's interval is far off
    assert np.abs(plain.low[0] - (means[0] - z * sd[0])).max() > 0.3


def test_antithetic_pairs_cancel_the_noise_of_a_symmetric_posterior_mean():
    # a Gaussian target centred on the proposal: mirrored draws have equal weights, so the
    # weighted mean is the centre exactly, while independent draws scatter around it
    means, covs, log_target = gaussian_targets()
    paired = sample_posterior(log_target, means, covs, n_draws=512, seed=3, antithetic=True)
    np.testing.assert_allclose(paired.mean, means, atol=1e-12)
    independent = sample_posterior(log_target, means, covs, n_draws=512, seed=3)
    assert np.abs(independent.mean - means).max() > 1e-3
    # the spread is still the target's (pairs are draws from the proposal all the same)
    np.testing.assert_allclose(paired.cov, covs, rtol=0.25)
    with pytest.raises(ValueError, match="even number of draws"):
        sample_posterior(log_target, means, covs, n_draws=511, antithetic=True)


def test_antithetic_means_of_a_skewed_target_match_numerical_integration():
    a, b = 3.0, 2.0  # the log-gamma-like target above, whose mean lies left of its mode

    def logp(t):
        return a * t - b * np.exp(t)

    mode = np.log(a / b)
    norm, _ = integrate.quad(lambda t: np.exp(logp(t)), -30, 10)
    mean, _ = integrate.quad(lambda t: t * np.exp(logp(t)) / norm, -30, 10)
    got = sample_posterior(
        lambda rows, s: logp(s[:, 0]),
        np.array([[mode]]),
        np.array([[[1.0 / (b * np.exp(mode))]]]),
        n_draws=512,
        seed=4,
        antithetic=True,
    )
    assert abs(got.mean[0, 0] - mean) < 0.01
    assert abs(mode - mean) > 0.1  # the check has teeth: the mode is off by more
