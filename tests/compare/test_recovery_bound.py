"""The ceiling on recovery: posterior means in a box, checked against closed forms."""

import numpy as np
import pytest
from scipy import stats

from catmodel.compare.recovery import parameter_recovery
from catmodel.compare.recovery_bound import posterior_means_in_box, recovery_bound
from catmodel.models.registry import get_model

LOW = np.array([-2.0, -1.0])
HIGH = np.array([0.0, 1.0])


def _gaussian_in_box(means: np.ndarray, sds: np.ndarray):
    """log target: independent normals (one row of means/sds per participant) cut to the box."""

    def f(rows, scale):
        inside = np.all((scale >= LOW) & (scale <= HIGH), axis=1)
        z = (scale - means[rows]) / sds[rows]
        return np.where(inside, -0.5 * np.sum(z * z, axis=1), -np.inf)

    return f


def test_flat_likelihood_gives_the_box_centre():
    # a likelihood that says nothing leaves the prior: its mean is the box's centre
    centre = np.array([[-1.9, 0.9], [-0.5, -0.2], [-1.0, 0.0]])
    mean, ess = posterior_means_in_box(
        lambda rows, s: np.where(np.all((s >= LOW) & (s <= HIGH), axis=1), 0.0, -np.inf),
        centre,
        LOW,
        HIGH,
    )
    np.testing.assert_allclose(mean, np.tile((LOW + HIGH) / 2, (3, 1)), atol=0.03)
    assert np.all(ess > 500)


def test_truncated_normal_means():
    # posteriors cut by the box: the means of truncated normals (scipy), also at an edge
    means = np.array([[-1.0, 0.0], [-0.05, 0.9], [-1.9, -0.7]])
    sds = np.array([[0.1, 0.2], [0.3, 0.25], [0.2, 0.05]])
    expected = np.empty_like(means)
    for f in range(2):
        a = (LOW[f] - means[:, f]) / sds[:, f]
        b = (HIGH[f] - means[:, f]) / sds[:, f]
        expected[:, f] = stats.truncnorm.mean(a, b, loc=means[:, f], scale=sds[:, f])
    # the first stage starts from a poor guess (the box's centre)
    start = np.tile((LOW + HIGH) / 2, (3, 1))
    mean, _ = posterior_means_in_box(_gaussian_in_box(means, sds), start, LOW, HIGH)
    # Monte Carlo error: a few hundredths of an sd
    assert np.max(np.abs(mean - expected) / sds) < 0.05, (mean - expected) / sds
    assert abs(expected[1, 0] - means[1, 0]) > 0.1  # the edge case does shift the mean


def test_recovery_bound_reads_the_study_it_is_given():
    study = parameter_recovery(
        get_model("gaussian"), n_participants=6, n_trials=80, seed=3, starts=1
    )
    bound = recovery_bound(study)
    summary = bound.summary.set_index("parameter")
    # the bound pairs each posterior mean with its own participant's truth (the study's long
    # table lists participants in the batch's order): a misaligned truth gives other errors
    rec = study.recovery
    for i, name in enumerate(summary.index):
        truth = rec.loc[rec["parameter"] == name, "true_scale"].to_numpy()
        rmse = np.sqrt(np.mean((bound.posterior_mean[:, i] - truth) ** 2))
        assert summary.loc[name, "rmse_bound"] == pytest.approx(rmse)
        assert summary.loc[name, "r_fit"] == study.summary.set_index("parameter").loc[name, "r"]
    assert bound.posterior_mean.shape == (6, 4)
    low, high = study.fit.fits[0].pset.generating_scale_box()
    assert np.all((bound.posterior_mean >= low) & (bound.posterior_mean <= high))
    assert np.all(np.isfinite(summary[["r_bound", "rmse_bound"]].to_numpy()))


def test_a_sharp_likelihood_gives_its_peak():
    # a likelihood far narrower than the box: the posterior mean is its peak
    low, high = np.array([-3.0]), np.array([0.0])
    peaks = np.array([[-2.2], [-0.7]])

    def f(rows, s):
        inside = np.all((s >= low) & (s <= high), axis=1)
        return np.where(inside, -0.5 * np.sum(((s - peaks[rows]) / 0.01) ** 2, axis=1), -np.inf)

    mean, _ = posterior_means_in_box(f, np.full((2, 1), -1.5), low, high)
    np.testing.assert_allclose(mean, peaks, atol=0.002)
