"""The progress bar of a fit: work units known up front, no rate, a time left that only falls.

The logic is tested as pure functions and with a fake clock and a fake bar: no test depends on
how fast this machine runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from catmodel.compare.recovery import simulate_participants
from catmodel.fitting.fit import fit, fit_model
from catmodel.fitting.hessian import stencil_size
from catmodel.fitting.progress import (
    ETA_FROM_SHARE,
    GRADIENT_STEP_COST,
    PROFILE_STEPS,
    Cost,
    FitProgress,
    ModelPlan,
    Stage,
    describe,
    format_seconds,
    nelder_mead_work,
    plan_model,
    stage_progress,
    time_left,
)
from catmodel.models.gaussian import Gaussian
from catmodel.models.params import ParameterSet
from catmodel.models.registry import get_model

COST = Cost(per_call=0.01, per_evaluation=0.001)


def test_no_time_left_before_five_percent_of_the_work():
    assert ETA_FROM_SHARE == 0.05
    assert time_left(4.9, 100.0, elapsed=10.0) is None
    assert time_left(0.0, 100.0, elapsed=0.0) is None
    assert time_left(5.0, 100.0, elapsed=10.0) == pytest.approx(190.0)


def test_time_left_follows_the_average_pace_and_never_rises():
    # 10 s for the first 10% of the work: 90 s left
    first = time_left(10.0, 100.0, elapsed=10.0)
    assert first == pytest.approx(90.0)
    # the pace slows: the estimate (160 s) would rise; the shown one may not
    slower = time_left(20.0, 100.0, elapsed=40.0, previous=first)
    assert slower == pytest.approx(90.0)  # the raw estimate 160 s is not shown
    faster = time_left(60.0, 100.0, elapsed=45.0, previous=slower)
    assert faster == pytest.approx(30.0)
    assert time_left(100.0, 100.0, elapsed=50.0, previous=faster) == 0.0


def test_a_stage_counts_its_units_and_never_more_than_its_share():
    estimate = 100.0
    assert stage_progress(0.0, estimate) == 0.0
    assert stage_progress(50.0, estimate) == 50.0
    assert stage_progress(80.0, estimate) == pytest.approx(80.0)
    beyond = [stage_progress(d, estimate) for d in (81.0, 100.0, 150.0, 250.0)]
    assert all(np.diff(beyond) > 0)  # a stage that overruns its estimate still moves the bar
    assert all(b < estimate for b in beyond)
    assert stage_progress(5.0, 0.0) == 0.0


def test_the_plan_counts_the_search_as_candidates_times_learners():
    plan = plan_model(
        "gaussian",
        n_learners=20,
        n_candidates=512,
        n_starts=5,
        n_search=3,
        n_free=4,
        cost=COST,
    )
    search, refine, errors = plan.stages
    assert [s.name for s in plan.stages] == ["search", "refine", "errors"]
    assert search.evaluations == 512 * 20 and search.calls == 1
    assert errors.evaluations == 20 * stencil_size(4) == 20 * 33
    calls, evaluations = nelder_mead_work(3, 100)
    assert (refine.calls, refine.evaluations) == (calls, evaluations)
    # units are seconds of estimated work: calls and evaluations weighted by their cost
    assert search.units == pytest.approx(0.01 * 1 + 0.001 * 512 * 20)
    assert plan.units == pytest.approx(sum(s.units for s in plan.stages))


def test_profile_intervals_are_a_fourth_stage_of_the_plan():
    plan = plan_model(
        "exemplar",
        n_learners=20,
        n_candidates=256,
        n_starts=5,
        n_search=2,
        n_free=3,
        cost=COST,
        profile=True,
    )
    assert [s.name for s in plan.stages] == ["search", "refine", "errors", "intervals"]
    # both ends of every parameter: the temperature's over both others, the others' over
    # one (the objective profiles the temperature)
    temperature, others = nelder_mead_work(2, 2 * 20 * 1), nelder_mead_work(1, 2 * 20 * 2)
    calls, evaluations = temperature[0] + others[0], temperature[1] + others[1]
    intervals = plan.stages[-1]
    assert intervals.calls == PROFILE_STEPS * calls
    assert intervals.evaluations == PROFILE_STEPS * evaluations
    assert describe(None, "exemplar", "intervals") == "exemplar: profile intervals"


def test_the_gradient_refinement_weighs_a_step_as_many_evaluations():
    plan = plan_model(
        "gaussian",
        n_learners=2,
        n_candidates=32,
        n_starts=2,
        n_search=3,
        n_free=4,
        cost=COST,
        refine="gradient",
        refine_options={"iterations": 30},
    )
    refine = plan.stages[1]
    assert (refine.calls, refine.evaluations) == (30, 30 * 4)
    assert refine.cost.per_evaluation == pytest.approx(COST.per_evaluation * GRADIENT_STEP_COST)


def test_nelder_mead_estimates_grow_with_dimensions_and_respect_the_cap():
    assert nelder_mead_work(0, 40) == (1.0, 40.0)
    work = [nelder_mead_work(n, 100) for n in (1, 2, 3)]
    assert all(np.diff([w[1] for w in work]) > 0) and all(np.diff([w[0] for w in work]) > 0)
    calls, evaluations = nelder_mead_work(8, 10, max_iter=50)
    assert calls <= 2.5 * 50 and evaluations <= 10 * (9 + 2 * 50)


class FakeBar:
    """What FitProgress needs of a tqdm bar, recording every text it would show."""

    def __init__(self, total):
        self.total, self.n, self.postfix, self.shown, self.closed = total, 0.0, "", [], False

    def set_postfix_str(self, text, refresh=True):
        self.postfix = text

    def update(self, n):
        self.n += n
        self.shown.append((100.0 * self.n / self.total, self.postfix))

    def close(self):
        self.closed = True


def two_model_plans():
    cheap = ModelPlan(
        "cheap",
        (
            Stage("search", 10, 1000, Cost(0.0, 0.001)),  # 1 s in ten calls
            Stage("refine", 10, 100, Cost(0.1, 0.0)),  # 1 s
            Stage("errors", 1, 0, Cost(0.0, 0.001)),
        ),
    )
    dear = ModelPlan(
        "dear",
        (
            Stage("search", 1, 1000, Cost(0.0, 0.006)),  # 6 s
            Stage("refine", 20, 200, Cost(0.1, 0.0)),  # 2 s
            Stage("errors", 1, 0, Cost(0.0, 0.006)),
        ),
    )
    return [cheap, dear]


def run_fake_fit(plans, seconds_per_unit):
    """Report a fit that runs exactly as planned, on a fake clock; returns the shown texts."""
    now = [0.0]
    bars = []

    def make_bar(total):
        bars.append(FakeBar(total))
        return bars[-1]

    progress = FitProgress(plans, clock=lambda: now[0], bar=make_bar(sum(p.units for p in plans)))
    for i, plan in enumerate(plans):
        for stage in plan.stages:
            calls = int(stage.calls)
            for k in range(1, calls + 1):
                step = stage.units / calls
                now[0] += step * seconds_per_unit
                progress.reporter(i)(stage.name, stage.evaluations * k / calls)
    progress.close()
    return bars[0]


def test_the_bar_moves_with_the_weighted_work_across_models():
    bar = run_fake_fit(two_model_plans(), seconds_per_unit=1.0)
    shares = [share for share, _ in bar.shown]
    assert all(np.diff(shares) >= 0)
    # the cheap model is 2 of 10 units: it ends at 20%, not at half the bar
    cheap_end = max(share for share, text in bar.shown if "cheap" in text)
    assert cheap_end == pytest.approx(20.0)
    assert shares[-1] == pytest.approx(100.0) and bar.closed


def test_the_bar_shows_no_rate_no_early_eta_and_a_falling_eta():
    bar = run_fake_fit(two_model_plans(), seconds_per_unit=3.0)
    texts = [text for _, text in bar.shown]
    assert not any("/s" in t for t in texts)
    early = [t for share, t in bar.shown if share < 5.0]
    assert early and not any("left" in t for t in early)
    lefts = [_seconds(t) for t in texts if "left" in t]
    assert lefts and all(np.diff(lefts) <= 0)
    # work that runs as planned at a steady pace: the time left is right from the start (the
    # first shown at 0.5 of 10 units, after 1.5 s)
    assert lefts[0] == pytest.approx(3.0 * (10.0 - 0.5), abs=1.0)


def _seconds(text: str) -> int:
    clock = text.split("about ")[1].split(" left")[0]
    minutes, seconds = clock.split(":")
    return 60 * int(minutes) + int(seconds)


def test_the_text_after_the_bar():
    assert describe(None, "gaussian", "search") == "gaussian: search"
    assert describe(83.2, "alcove", "refine") == "about 01:24 left, alcove: refinement"
    assert format_seconds(3725.0) == "1:02:05"


@pytest.fixture(scope="module")
def small_batch():
    _, batch, _ = simulate_participants(Gaussian(), "two-gaussian", 3, 120, seed=2)
    return batch


def test_every_stage_reports_the_evaluations_the_plan_expects(small_batch):
    model = Gaussian()
    pset = ParameterSet.for_model(model, small_batch.n_features, small_batch.n_categories)
    reports = []
    f = fit_model(
        model,
        small_batch,
        pset,
        starts=2,
        candidates=32,
        ci="wald",  # no interval stage (the next test has one)
        report=lambda stage, n: reports.append((stage, n)),
    )
    last = {stage: n for stage, n in reports}
    stages = [s for s, _ in reports]
    assert list(dict.fromkeys(stages)) == ["search", "refine", "errors"]
    assert stages == sorted(stages, key=["search", "refine", "errors"].index)  # in order
    assert last["search"] == 32 * 3
    assert last["errors"] == 3 * stencil_size(len(pset.free))
    assert sum(last.values()) == f.evaluations
    refine = [n for s, n in reports if s == "refine"]
    assert len(refine) > 10 and all(np.diff(refine) > 0)  # one report per batched call


def test_profile_intervals_report_their_evaluations_last(small_batch):
    model = get_model("prototype")
    pset = ParameterSet.for_model(model, small_batch.n_features, small_batch.n_categories)
    reports = []
    f = fit_model(
        model,
        small_batch,
        pset,
        starts=2,
        candidates=32,
        ci="profile",
        report=lambda stage, n: reports.append((stage, n)),
    )
    stages = list(dict.fromkeys(s for s, _ in reports))
    assert stages == ["search", "refine", "errors", "intervals"]
    assert sum({stage: n for stage, n in reports}.values()) == f.evaluations


def test_a_progress_bar_changes_no_number(small_batch):
    quiet = fit(small_batch, "gaussian", starts=2, candidates=32, seed=3).fits[0]
    shown = fit(small_batch, "gaussian", starts=2, candidates=32, seed=3, progress=True).fits[0]
    assert np.array_equal(quiet.nll, shown.nll) and np.array_equal(quiet.scale, shown.scale)
    assert quiet.evaluations == shown.evaluations
