"""Empirical-Bayes fits checked against references that share no code with them.

The guessing model has closed-form likelihoods: with K categories and biases ``b``,
``P(k) = softmax([b_1, .., b_{K-1}, 0])_k`` on every trial, so a participant's NLL depends on
their response counts only. Its Laplace log evidence is checked against numerical integration
(scipy.integrate) of ``exp(-NLL) x N(b; mu, Sigma)``, and the EM's population against the
marginal likelihood maximised directly (Gauss-Hermite quadrature, scipy.optimize).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

from catmodel.data.trials import TrialTable
from catmodel.errors import SettingsError
from catmodel.fitting.empirical_bayes import (
    fit_model_eb,
    integrated_bic,
    laplace,
    map_estimates,
)
from catmodel.fitting.fit import fit
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.population import Population
from catmodel.models.params import ParameterSet
from catmodel.models.registry import get_model

#: the Laplace log evidence of a guessing participant with 200 trials differs from the
#: integral by O(1/n): measured 0.0014-0.0018 (one bias) and 0.0030-0.0034 (two); a missing
#: constant or a wrong Hessian would be off by 0.1 or more
LAPLACE_TOL_1D = 0.005
LAPLACE_TOL_2D = 0.01


def guessing_table(biases: np.ndarray, n_trials: int, seed: int, conditions=None) -> TrialTable:
    """Trials of guessing participants: ``biases`` (P, K-1) log ratios to the last category;
    responses drawn from the softmax (the stimuli and true categories do not matter)."""
    rng = np.random.default_rng(seed)
    n_p, k = biases.shape[0], biases.shape[1] + 1
    probs = special.softmax(np.column_stack([biases, np.zeros(n_p)]), axis=1)
    rows = []
    for p in range(n_p):
        responses = rng.choice(k, size=n_trials, p=probs[p])
        for t in range(n_trials):
            row = {
                "participant": f"p{p:03d}",
                "trial": t + 1,
                "x1": rng.normal(),
                "category": t % k,
                "response": int(responses[t]),
            }
            if conditions is not None:
                row["condition"] = conditions[p]
            rows.append(row)
    return TrialTable.from_frame(pd.DataFrame(rows))


def response_counts(batch) -> np.ndarray:
    """(P, K) responses of each category, counted from the batch."""
    resp = batch.response.numpy()
    return np.stack([(resp == k).sum(axis=1) for k in range(batch.n_categories)], axis=1)


def closed_form_nll(b: np.ndarray, counts: np.ndarray) -> float:
    """NLL of the guessing model at biases ``b`` (K-1,) for response counts (K,)."""
    logp = special.log_softmax(np.append(b, 0.0))
    return -float(np.dot(counts, logp))


def evidence_at(batch, mean: np.ndarray, cov: np.ndarray):
    """Laplace log evidence of every participant of a guessing batch under N(mean, cov)."""
    model = get_model("guessing")
    pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    objective = Objective(model, batch, pset)
    pop = Population(
        names=pset.free_names,
        groups=["all"],
        mean=np.atleast_2d(mean),
        cov=np.atleast_2d(cov),
        counts=np.array([batch.n_learners]),
        diagonal=False,
    )
    group_of = np.zeros(batch.n_learners, dtype=np.int64)
    start = np.tile(np.atleast_1d(mean), (batch.n_learners, 1))
    step = map_estimates(objective, pop, group_of, np.arange(batch.n_learners), start, 0.1)
    return step, laplace(objective, pop, group_of, step)


def test_laplace_evidence_matches_integration_one_parameter():
    batch = guessing_table(np.array([[-1.0], [0.2], [1.5]]), 200, seed=1).to_batch()
    mean, sd = 0.3, 0.8
    step, post = evidence_at(batch, np.array([mean]), np.array([[sd**2]]))
    counts = response_counts(batch)
    for i in range(batch.n_learners):
        # the closed form is the same NLL the model computes
        assert closed_form_nll(step.scale[i], counts[i]) == pytest.approx(step.nll[i], abs=1e-8)
        peak = -closed_form_nll(step.scale[i], counts[i])  # rescales the integrand

        def integrand(b, counts=counts[i], peak=peak):
            return np.exp(-closed_form_nll(np.array([b]), counts) - peak) * stats.norm.pdf(
                b, mean, sd
            )

        value, _ = integrate.quad(integrand, -10, 10, points=[step.scale[i, 0]], epsabs=0)
        exact = np.log(value) + peak
        assert post.log_evidence[i] == pytest.approx(exact, abs=LAPLACE_TOL_1D)


def test_laplace_evidence_matches_integration_two_parameters():
    batch = guessing_table(np.array([[0.5, -0.3], [-1.0, 0.4]]), 200, seed=2).to_batch()
    mean = np.array([0.2, -0.1])
    cov = np.array([[0.5, 0.1], [0.1, 0.3]])
    step, post = evidence_at(batch, mean, cov)
    counts = response_counts(batch)
    prior = stats.multivariate_normal(mean, cov)
    for i in range(batch.n_learners):
        m = step.scale[i]
        peak = -closed_form_nll(m, counts[i]) + prior.logpdf(m)
        half = 8 * np.sqrt(np.diag(post.cov[i]))  # the posterior is negligible beyond

        def integrand(b2, b1, counts=counts[i], peak=peak):
            b = np.array([b1, b2])
            return np.exp(-closed_form_nll(b, counts) + prior.logpdf(b) - peak)

        value, _ = integrate.dblquad(
            integrand, m[0] - half[0], m[0] + half[0], m[1] - half[1], m[1] + half[1]
        )
        assert post.log_evidence[i] == pytest.approx(np.log(value) + peak, abs=LAPLACE_TOL_2D)


def marginal_ml(counts: np.ndarray) -> tuple[float, float]:
    """Population mean and sd of a one-bias guessing model maximising the exact marginal
    likelihood sum_i log int Binomial(k_i | sigmoid(b)) N(b; mu, sd) db (Gauss-Hermite)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)  # for N(0, 1)
    weights = weights / weights.sum()

    def negative(params):
        mu, log_sd = params
        b = mu + np.exp(log_sd) * nodes  # (Q,)
        loglik = counts[:, :1] * special.log_expit(b) + counts[:, 1:] * special.log_expit(-b)
        return -np.sum(special.logsumexp(loglik + np.log(weights), axis=1))

    res = optimize.minimize(negative, x0=[0.0, np.log(0.5)], method="Nelder-Mead", tol=1e-10)
    return float(res.x[0]), float(np.exp(res.x[1]))


def test_em_recovers_the_population_and_matches_the_marginal_likelihood():
    rng = np.random.default_rng(5)
    true_mean, true_sd, n_p = 0.5, 0.7, 200
    table = guessing_table(rng.normal(true_mean, true_sd, (n_p, 1)), 100, seed=6)
    batch = table.to_batch()
    result = fit(batch, "guessing", method="eb", starts=2)
    pop = result.fits[0].population
    assert pop.converged
    mu_ref, sd_ref = marginal_ml(response_counts(batch))
    # Laplace EM against the exact marginal maximum (Laplace errors of O(1/trials))
    assert pop.mean[0, 0] == pytest.approx(mu_ref, abs=0.02)
    assert pop.sd[0] == pytest.approx(sd_ref, abs=0.03)
    # and both near the truth: the mean within 3 standard errors
    assert abs(pop.mean[0, 0] - true_mean) < 3 * pop.se_mean()[0, 0]
    assert pop.sd[0] == pytest.approx(true_sd, abs=0.15)
    frame = result.to_frame()
    assert (frame["method"] == "eb").all()
    assert np.isfinite(frame["log_evidence"]).all()
    assert "post_sd_bias_1" in frame and "se_bias_1" not in frame
    # shrinkage: the MAPs spread less than the ML estimates
    ml = fit(batch, "guessing", starts=2, ci="wald").fits[0]
    assert np.std(result.fits[0].scale) < np.std(ml.scale)


def test_posterior_means_match_numerical_integration():
    # 6 trials and strong biases: skewed posteriors whose means lie well off their MAPs
    rng = np.random.default_rng(12)
    batch = guessing_table(rng.normal(2.0, 1.0, (30, 1)), 6, seed=13).to_batch()
    fitted = fit(batch, "guessing", method="eb", starts=1, ci="wald").fits[0]
    mean, sd = fitted.population.mean[0, 0], fitted.population.sd[0]
    grid = np.linspace(mean - 12 * sd, mean + 12 * sd, 20_001)
    reference = []
    for counts in response_counts(batch):
        log_post = np.array([-closed_form_nll(np.array([b]), counts) for b in grid])
        post = np.exp(log_post - 0.5 * ((grid - mean) / sd) ** 2 - log_post.max())
        reference.append(np.sum(grid * post) / np.sum(post))
    reference = np.array(reference)
    # importance draws (antithetic pairs) against the integral; measured max error 0.021
    np.testing.assert_allclose(fitted.posterior_mean[:, 0], reference, atol=0.03)
    assert np.median(np.abs(fitted.scale[:, 0] - reference)) > 0.06  # the MAP is off by more
    frame = fitted.to_frame()
    np.testing.assert_array_equal(frame["post_mean_bias_1"], fitted.posterior_mean[:, 0])


def test_too_few_participants_stop():
    batch = guessing_table(np.array([[0.0], [0.5]]), 50, seed=3).to_batch()
    with pytest.raises(SettingsError, match="at least 3 participants"):
        fit(batch, "guessing", method="eb")


def test_unknown_method_and_population_stop():
    batch = guessing_table(np.zeros((3, 1)), 20, seed=3).to_batch()
    with pytest.raises(SettingsError, match="unknown method"):
        fit(batch, "guessing", method="bayes")
    with pytest.raises(SettingsError, match="unknown population"):
        fit(batch, "guessing", method="eb", population="block")


def test_diagonal_population_and_the_automatic_fallback():
    rng = np.random.default_rng(7)
    # two correlated biases: the full covariance finds the correlation, the diagonal not
    z = rng.normal(size=40)
    biases = np.column_stack([0.8 * z, 0.6 * z + 0.5 * rng.normal(size=40)])  # r = .77
    batch = guessing_table(biases, 100, seed=8).to_batch()
    model = get_model("guessing")
    full = fit_model_eb(model, batch, population="full", starts=1).population
    diag = fit_model_eb(model, batch, population="diagonal", starts=1).population
    assert not full.diagonal and diag.diagonal
    assert full.cov[0, 1] / np.sqrt(full.cov[0, 0] * full.cov[1, 1]) > 0.5
    assert diag.cov[0, 1] == 0.0
    # 3 participants for 2 parameters (fewer than 4): diagonal, and a note says so
    notes: list[str] = []
    few = fit_model_eb(model, batch.select([0, 1, 2]), starts=1, notes=notes)
    assert few.population.diagonal
    assert any("diagonal" in note for note in notes)


def test_one_mean_per_condition():
    rng = np.random.default_rng(9)
    conditions = ["low"] * 40 + ["high"] * 40
    means = np.where(np.array(conditions) == "low", -0.8, 0.8)
    batch = guessing_table((means + 0.4 * rng.normal(size=80))[:, None], 100, 10, conditions)
    batch = batch.to_batch()
    result = fit(batch, "guessing", method="eb", population_by="condition", starts=1)
    pop = result.fits[0].population
    by = dict(zip(pop.groups, pop.mean[:, 0], strict=True))
    assert by["low"] == pytest.approx(-0.8, abs=0.25)
    assert by["high"] == pytest.approx(0.8, abs=0.25)
    table = result.fits[0].population_frame()
    assert list(table["condition"]) == pop.groups
    # without conditions the grouping is refused
    plain = guessing_table(np.zeros((4, 1)), 20, seed=3).to_batch()
    with pytest.raises(SettingsError, match="no condition column"):
        fit(plain, "guessing", method="eb", population_by="condition")


def test_integrated_bic_counts_population_parameters():
    pop = Population(
        names=["a", "b"],
        groups=["all"],
        mean=np.zeros((1, 2)),
        cov=np.eye(2),
        counts=np.array([10]),
        diagonal=False,
    )
    log_evidence = np.full(10, -50.0)
    # 2 means + 3 covariance entries, 1000 trials
    assert integrated_bic(log_evidence, pop, np.full(10, 100)) == pytest.approx(
        1000.0 + 5 * np.log(1000)
    )


def test_every_parameter_fixed_gives_the_likelihood_as_evidence():
    # no free parameter: the evidence of each participant is its likelihood, and the EM
    # (over an empty population) stops at once
    table = guessing_table(np.array([[0.5], [-0.3], [0.0], [1.0]]), 60, seed=4)
    result = fit(table.to_batch(), "guessing", method="eb", fix={"bias_1": 0.0})
    only = result.fits[0]
    np.testing.assert_allclose(only.log_evidence, -only.nll)
    np.testing.assert_allclose(only.nll, 60 * np.log(2.0))
    assert only.population.converged
