"""Likelihood-ratio tests, with and without parameters on the boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from catmodel.compare.lrt import (
    chi2_mixture_sf,
    likelihood_ratio_test,
    lrt_from_fits,
    mixture_weights,
)


def test_regular_test_matches_scipy_chi2():
    nll_r = np.array([10.0, 12.5, 20.0, 7.0])
    nll_f = np.array([9.0, 10.0, 12.0, 7.0])
    res = likelihood_ratio_test(nll_r, nll_f, df=2)
    np.testing.assert_allclose(res.statistic, [2.0, 5.0, 16.0, 0.0])
    np.testing.assert_allclose(res.p_value, stats.chi2.sf([2.0, 5.0, 16.0, 0.0], 2), rtol=1e-12)
    assert res.reference == "chi2(2)"
    assert res.df == 2
    single = likelihood_ratio_test(103.2, 100.0, df=1)
    assert isinstance(single.p_value, float)
    assert single.p_value == pytest.approx(stats.chi2.sf(6.4, 1), rel=1e-12)


@pytest.mark.parametrize("df", [1, 2, 3])
def test_one_boundary_parameter_is_half_half_mixture(df):
    t = np.array([0.0, 0.3, 2.71, 3.84, 9.0])
    res = likelihood_ratio_test(t / 2.0 + 50.0, np.full(t.shape, 50.0), df=df, boundary=1)
    lower = np.where(t <= 0, 1.0, 0.0) if df == 1 else stats.chi2.sf(t, df - 1)
    np.testing.assert_allclose(res.p_value, 0.5 * lower + 0.5 * stats.chi2.sf(t, df), rtol=1e-12)
    assert res.p_value[0] == 1.0
    if df == 1:
        # The familiar one-sided critical value: 2.71 gives p ~ .05, not ~ .10.
        assert res.p_value[2] == pytest.approx(0.0498, abs=2e-4)
        assert res.reference == "0.5*chi2(0) + 0.5*chi2(1)"


def test_binomial_mixture_for_two_boundary_parameters():
    assert mixture_weights(3, 2) == {1: 0.25, 2: 0.5, 3: 0.25}
    t = np.array([0.5, 4.0, 7.8])
    expected = 0.25 * stats.chi2.sf(t, 1) + 0.5 * stats.chi2.sf(t, 2) + 0.25 * stats.chi2.sf(t, 3)
    np.testing.assert_allclose(chi2_mixture_sf(t, 3, 2), expected, rtol=1e-12)
    both = chi2_mixture_sf(t, 2, 2)  # 1/4 point mass + 1/2 chi2_1 + 1/4 chi2_2
    np.testing.assert_allclose(both, 0.5 * stats.chi2.sf(t, 1) + 0.25 * stats.chi2.sf(t, 2))


def _one_sided_normal_lrt(rng, n_reps, n_obs, extra_free_mean=False):
    # Full model: x ~ N(mu, 1) with mu >= 0 (and optionally y ~ N(nu, 1), nu free);
    # restricted: mu = 0 (and nu = 0). Data from the restricted model (the null).
    x = rng.normal(0.0, 1.0, size=(n_reps, n_obs))
    mu_hat = np.maximum(x.mean(axis=1), 0.0)
    nll_full = 0.5 * ((x - mu_hat[:, None]) ** 2).sum(axis=1)
    nll_restricted = 0.5 * (x**2).sum(axis=1)
    if extra_free_mean:
        y = rng.normal(0.0, 1.0, size=(n_reps, n_obs))
        nu_hat = y.mean(axis=1)
        nll_full = nll_full + 0.5 * ((y - nu_hat[:, None]) ** 2).sum(axis=1)
        nll_restricted = nll_restricted + 0.5 * (y**2).sum(axis=1)
    return nll_restricted, nll_full


def test_boundary_mixture_has_correct_size_under_the_null():
    n_reps = 20_000
    rng = np.random.default_rng(2024)
    nll_r, nll_f = _one_sided_normal_lrt(rng, n_reps, n_obs=20)
    p = likelihood_ratio_test(nll_r, nll_f, df=1, boundary=1).p_value
    naive = likelihood_ratio_test(nll_r, nll_f, df=1).p_value
    # Binomial SE of a rejection rate of .05 over 20 000 replications is 0.0015;
    # 4 SE keeps the test stable for any seed, while the naive chi2(1) reference
    # (size .025) is 16 SE away.
    for level in (0.01, 0.05, 0.10, 0.25):
        se = np.sqrt(level * (1 - level) / n_reps)
        assert abs(np.mean(p <= level) - level) < 4 * se
    assert np.mean(naive <= 0.05) < 0.035
    # Half the replications have mu_hat = 0, a point mass at p = 1.
    assert abs(np.mean(p == 1.0) - 0.5) < 4 * np.sqrt(0.25 / n_reps)


def test_boundary_plus_free_parameter_has_correct_size():
    n_reps = 20_000
    rng = np.random.default_rng(7)
    nll_r, nll_f = _one_sided_normal_lrt(rng, n_reps, n_obs=20, extra_free_mean=True)
    p = likelihood_ratio_test(nll_r, nll_f, df=2, boundary=1).p_value
    se = np.sqrt(0.05 * 0.95 / n_reps)
    assert abs(np.mean(p <= 0.05) - 0.05) < 4 * se
    # Under the mixture the p-values are uniform: check the whole distribution.
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_worse_full_fit_warns_and_clips():
    with pytest.warns(RuntimeWarning, match="optimum"):
        res = likelihood_ratio_test(np.array([10.0, 10.0]), np.array([10.5, 9.0]), df=1)
    np.testing.assert_allclose(res.statistic, [0.0, 2.0])
    assert res.p_value[0] == 1.0


def test_invalid_boundary():
    with pytest.raises(ValueError):
        likelihood_ratio_test(10.0, 9.0, df=1, boundary=2)
    with pytest.raises(ValueError):
        likelihood_ratio_test(10.0, 9.0, df=0)


def test_lrt_from_fits():
    fits = pd.DataFrame(
        {
            "participant": ["a", "a", "b", "b", "c"],
            "model": ["nodecay", "decay", "nodecay", "decay", "nodecay"],
            "nll": [100.0, 97.0, 80.0, 79.9, 60.0],
            "n_params": [2, 3, 2, 3, 2],
        }
    )
    out = lrt_from_fits(fits, restricted="nodecay", full="decay", boundary=1)
    assert out["participant"].tolist() == ["a", "b"]
    np.testing.assert_allclose(out["statistic"], [6.0, 0.2], rtol=1e-9)
    np.testing.assert_allclose(out["p_value"], 0.5 * stats.chi2.sf([6.0, 0.2], 1), rtol=1e-9)
    assert (out["df"] == 1).all()
