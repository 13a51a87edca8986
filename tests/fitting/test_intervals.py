"""Wald and profile-likelihood intervals against closed forms, and wired into fit and the
command line (issue 10, part 4)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import catmodel.fitting.intervals as intervals
from catmodel.cli.main import main
from catmodel.compare.recovery import simulate_participants
from catmodel.errors import SettingsError
from catmodel.fitting.fit import fit
from catmodel.fitting.intervals import profile_intervals, profile_threshold, wald_intervals
from catmodel.fitting.likelihood import Objective
from catmodel.models.registry import get_model
from tests.conftest import REPO

EXAMPLE = REPO / "data" / "example.csv.gz"


def test_wald_intervals_are_z_standard_errors_either_side():
    scale = np.array([[0.0, -2.0], [1.0, 3.0]])
    se = np.array([[0.5, np.nan], [0.1, 2.0]])
    w = wald_intervals(scale, se)
    assert np.allclose(w.low[0, 0], -0.5 * 1.959964, rtol=1e-6)
    assert np.allclose(w.high[1], [1.0 + 0.1 * 1.959964, 3.0 + 2.0 * 1.959964], rtol=1e-6)
    assert np.isnan(w.low[0, 1]) and np.isnan(w.high[0, 1])  # no standard error, no interval
    assert np.allclose(wald_intervals(scale, se, level=0.9).high[1, 0], 1.0 + 0.1 * 1.644854)
    assert not (w.low_at_edge.any() or w.high_at_edge.any())


def test_profile_threshold_is_half_the_chi2_quantile():
    assert profile_threshold(0.95) == pytest.approx(1.920729, rel=1e-6)
    assert profile_threshold(0.99) == pytest.approx(0.5 * stats.chi2.ppf(0.99, 1))


def quadratic_problems(seed=0, n=5, f=3):
    """NLLs 0.5 (x - m)' A (x - m) with correlated A, as ``nll_at(rows, points)``."""
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(n, f, f))
    a = b @ b.transpose(0, 2, 1) + 0.5 * np.eye(f)
    m = rng.uniform(-1, 1, size=(n, f))

    def nll_at(rows, points):
        d = points - m[rows]
        return 0.5 * np.einsum("ni,nij,nj->n", d, a[rows], d)

    return nll_at, a, m


def test_profile_of_a_quadratic_is_the_closed_form():
    """m_i ± sqrt(chi2_1(level) (A^-1)_ii): the profile of a quadratic is a parabola."""
    nll_at, a, m = quadratic_problems()
    n, f = m.shape
    lower, upper = np.full(f, -20.0), np.full(f, 20.0)
    half = np.sqrt(stats.chi2.ppf(0.95, 1) * np.diagonal(np.linalg.inv(a), axis1=1, axis2=2))
    # a first step far from the answer: the search must find it on its own
    out = profile_intervals(
        nll_at, np.arange(n), m, np.zeros(n), lower, upper, np.full((n, f), 0.01)
    )
    assert np.allclose(out.low, m - half, atol=0.01 * half.max())
    assert np.allclose(out.high, m + half, atol=0.01 * half.max())
    assert not (out.low_at_edge.any() or out.high_at_edge.any())
    # ... and at another level
    out90 = profile_intervals(nll_at, np.arange(n), m, np.zeros(n), lower, upper, half, level=0.9)
    half90 = half * np.sqrt(stats.chi2.ppf(0.9, 1) / stats.chi2.ppf(0.95, 1))
    assert np.allclose(out90.high, m + half90, atol=0.01 * half.max())


def test_a_parameter_minimised_exactly_by_the_objective_gives_the_same_closed_form():
    """``inner``: the objective minimises parameter k itself (as the fit's objective profiles
    the temperature); every interval is still m_i ± sqrt(chi2_1 (A^-1)_ii), and the profiles
    of the other parameters go through that exact minimum."""
    nll_at, a, m = quadratic_problems(seed=3)
    n, f = m.shape
    k = 1
    calls = []

    def nll_min(rows, points):
        # the quadratic's minimum over coordinate k, the others held: a closed form
        calls.append(points.copy())
        d = points - m[rows]
        d[:, k] = 0.0
        a_r = a[rows]
        d[:, k] = -np.einsum("nj,nj->n", a_r[:, k, :], d) / a_r[:, k, k]
        full = m[rows] + d
        return nll_at(rows, full), full

    lower, upper = np.full(f, -20.0), np.full(f, 20.0)
    half = np.sqrt(stats.chi2.ppf(0.95, 1) * np.diagonal(np.linalg.inv(a), axis1=1, axis2=2))
    out = profile_intervals(
        nll_at, np.arange(n), m, np.zeros(n), lower, upper, half, inner=(k, nll_min)
    )
    assert np.allclose(out.low, m - half, atol=0.01 * half.max())
    assert np.allclose(out.high, m + half, atol=0.01 * half.max())
    assert calls  # the other parameters' profiles went through the exact minimum


def test_a_side_that_reaches_the_box_ends_there_and_is_flagged():
    nll_at, a, m = quadratic_problems(seed=1, n=2, f=2)
    half = np.sqrt(stats.chi2.ppf(0.95, 1) * np.diagonal(np.linalg.inv(a), axis1=1, axis2=2))
    lower = np.array([m[:, 0].max() - 0.5 * half[:, 0].min(), -20.0])  # cuts both lower ends
    upper = np.full(2, 20.0)
    out = profile_intervals(nll_at, np.arange(2), m, np.zeros(2), lower, upper, half)
    assert out.low_at_edge[:, 0].all() and np.allclose(out.low[:, 0], lower[0])
    assert not out.high_at_edge.any() and not out.low_at_edge[:, 1].any()
    assert np.allclose(out.high[:, 0], m[:, 0] + half[:, 0], atol=0.01)


def binomial_nll(k, n):
    """NLL of k successes in n trials as a function of the logit of the success rate."""

    def nll(theta):
        p = 1.0 / (1.0 + np.exp(-theta))
        return -(k * np.log(p) + (n - k) * np.log1p(-p))

    return nll


def test_one_parameter_profile_is_the_likelihood_ratio_interval():
    """A numerical likelihood with no other parameter: the ends solve NLL = min + 1.92
    (found here by root finding), or stop at the box."""
    cases = [(7, 20), (33, 40), (1, 25)]  # the last one's lower end lies beyond the box
    lower, upper = np.array([-4.0]), np.array([4.0])
    nlls = [binomial_nll(k, n) for k, n in cases]
    best = np.array([[np.log(k / (n - k))] for k, n in cases])
    best_nll = np.array([g(b[0]) for g, b in zip(nlls, best, strict=True)])

    def nll_at(rows, points):
        return np.array([nlls[r](x[0]) for r, x in zip(rows, points, strict=True)])

    out = profile_intervals(
        nll_at, np.arange(3), best, best_nll, lower, upper, np.full((3, 1), 0.3)
    )
    thr = profile_threshold()
    for i, g in enumerate(nlls):

        def rise(t, i=i, g=g):
            return g(t) - best_nll[i] - thr

        high = optimize.brentq(rise, best[i, 0], upper[0])
        assert out.high[i, 0] == pytest.approx(high, abs=0.01)
        if rise(lower[0]) > 0:
            low = optimize.brentq(rise, lower[0], best[i, 0])
            assert out.low[i, 0] == pytest.approx(low, abs=0.01) and not out.low_at_edge[i, 0]
        else:
            assert out.low[i, 0] == lower[0] and out.low_at_edge[i, 0]
    assert out.low_at_edge[:, 0].tolist() == [False, False, True]


def test_every_step_minimises_every_open_problem_in_one_batch(monkeypatch):
    """Batched as the fit is: the first step holds every fit x parameter x side at once,
    skipped parameters cost nothing, and the steps are few."""
    nll_at, _, m = quadratic_problems(seed=2, n=4, f=3)
    steps = []
    original = intervals._minimise_others

    def recording(nll_at, rows, start, held, values, lower, upper, **kwargs):
        steps.append(sorted(zip(rows.tolist(), held.tolist(), strict=True)))
        return original(nll_at, rows, start, held, values, lower, upper, **kwargs)

    monkeypatch.setattr(intervals, "_minimise_others", recording)
    skip = np.zeros((4, 3), dtype=bool)
    skip[1, 2] = True
    out = profile_intervals(
        nll_at, np.arange(4), m, np.zeros(4), np.full(3, -20.0), np.full(3, 20.0),
        np.full((4, 3), 0.5), skip=skip,
    )  # fmt: skip
    first = steps[0]
    assert len(first) == 2 * (4 * 3 - 1)  # both sides of every parameter not skipped
    assert (1, 2) not in first
    assert np.isnan(out.low[1, 2]) and np.isnan(out.high[1, 2])
    assert np.isfinite(out.low[~skip]).all()
    assert len(steps) <= 8


@pytest.fixture(scope="module")
def prototype_data():
    model = get_model("prototype")
    _, batch, true = simulate_participants(model, "ii", 10, 300, seed=6)
    return model, batch, true


def test_fit_reports_intervals_on_the_natural_scale(prototype_data):
    model, batch, _ = prototype_data
    result = fit(batch, [model], starts=3, ci="wald", ci_level=0.9)
    f = result.fits[0]
    frame = result.to_frame()
    z = stats.norm.ppf(0.95)
    log_t = np.log10(frame["temperature"])
    assert np.allclose(
        np.log10(frame["ci_low_temperature"]), log_t - z * frame["se_log10_temperature"]
    )
    assert np.allclose(frame["ci_high_attention_1"], f.scale[:, 0] + z * f.se[:, 0], equal_nan=True)
    assert frame["ci_low_lapse"].isna().all()  # fixed
    order = frame.columns.tolist()
    i = order.index("temperature")
    assert order[i : i + 4] == [
        "temperature",
        "se_log10_temperature",
        "ci_low_temperature",
        "ci_high_temperature",
    ]
    assert "ci_at_edge" not in frame  # Wald ends never stop at the box
    assert result.settings["ci"] == "wald" and result.settings["ci_level"] == 0.9
    none = fit(batch, [model], starts=2, ci=None)
    assert not any(c.startswith("ci_") for c in none.to_frame().columns)
    assert none.settings["ci"] == "none" and none.settings["ci_level"] is None


def test_profile_intervals_of_a_smooth_likelihood_agree_with_wald(prototype_data):
    """Near-quadratic likelihood (a noisy design): the two methods nearly agree, and the
    profile ends where the NLL minimised over the other parameter rises by 1.92."""
    model, batch, _ = prototype_data
    f = fit(batch, [model], starts=3, ci="profile").fits[0]
    w = wald_intervals(f.scale, f.se)
    both = np.isfinite(w.low) & np.isfinite(f.intervals.low) & ~f.intervals.low_at_edge
    assert both.sum() >= 10
    half = (w.high - w.low)[both] / 2
    assert np.median(np.abs(f.intervals.low[both] - w.low[both]) / half) < 0.15
    # an independent check of the temperature's ends: minimise over attention by Brent
    objective = Objective(model, batch, f.pset)
    lo, hi = f.pset.scale_bounds()

    def profile_at(i: int, temperature: float) -> float:
        def nll(attention):
            return objective.nll_at([i], np.array([[attention, temperature]]))[0]

        return optimize.minimize_scalar(nll, bounds=(lo[0], hi[0]), method="bounded").fun

    for i in np.flatnonzero(both[:, 1]):
        t_end = f.intervals.low[i, 1]
        rise = profile_at(i, t_end) - f.nll[i]
        # the end is located to 0.01 of a log10 unit: the profile's change over that much
        # bounds the error of its rise there
        slack = abs(profile_at(i, t_end + 0.01) - profile_at(i, t_end)) + 0.01
        assert abs(rise - profile_threshold()) <= slack


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ci": "bootstrap"}, "unknown interval method 'bootstrap'"),
        ({"ci": "wald", "ci_level": 1.5}, "must lie in"),
        ({"ci": "profile", "ci_level": 0.0}, "must lie in"),
    ],
)
def test_bad_interval_settings_are_settings_errors(prototype_data, kwargs, message):
    _, batch, _ = prototype_data
    with pytest.raises(SettingsError, match=message):
        fit(batch, ["prototype"], **kwargs)


def test_fit_command_writes_profile_intervals_and_records_the_method(tmp_path, capsys):
    data = pd.read_csv(EXAMPLE)
    data[data["participant"].isin(["sim001", "sim002"])].to_csv(tmp_path / "two.csv", index=False)
    out = tmp_path / "fit"
    command = ["fit", str(tmp_path / "two.csv"), "--models", "prototype", "--starts", "2"]
    assert main([*command, "--ci", "profile", "--ci-level", "0.9", "--out", str(out)]) == 0
    fits = pd.read_csv(out / "fits.csv")
    for column in ("ci_low_attention_1", "ci_high_temperature", "ci_at_edge"):
        assert column in fits
    run = json.loads((out / "run.json").read_text())
    assert run["fitting"]["ci"] == "profile" and run["fitting"]["ci_level"] == 0.9
    # a bad method or level: one line, exit 2, before the data are read
    for bad in (["--ci", "exact"], ["--ci-level", "2"]):
        assert main([*command, *bad, "--out", str(tmp_path / "no")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "no").exists()
