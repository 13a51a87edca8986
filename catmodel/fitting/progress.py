"""Progress of a fit counted in work units, with a time left that only falls.

The work of a fit is known before it starts. For each model:

* **search** evaluates every quasi-random candidate for every learner (candidates x learners
  rollouts, exact);
* **refinement** runs an estimated number of calls and evaluations (:func:`nelder_mead_work`,
  or steps x starts for the gradient refinement);
* **standard errors** evaluate a finite-difference stencil at every learner's best fit (exact);
* **profile intervals** (only when asked for) run an estimated :data:`PROFILE_STEPS` batched
  Nelder-Mead minimisations over every learner x free parameter x side.

A *work unit* is a second of estimated work: learner-evaluations and batched calls weighted by
what they cost, measured for each model on a few rollouts before the fit starts
(:func:`measure_cost`). Models differ by an order of magnitude per evaluation (and the
exemplar model's cost grows with the square of the number of trials), and the refinement
makes hundreds of small calls where the search makes a few large ones, so counting evaluations
alone would make the bar race through some stages and crawl through others.

The bar shows the share of units done, the time elapsed and, from :data:`ETA_FROM_SHARE` of
the work on, the time left (:func:`time_left`), which never rises; then the model and stage
being fitted. It shows no rate: units per second mean nothing to a reader.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from catmodel.fitting.gradient import ITERATIONS
from catmodel.fitting.hessian import stencil_size
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.neldermead import MAX_ITER
from catmodel.fitting.search import learners_per_call

#: no time left is shown before this share of the work is done: the first seconds include
#: compilation and small batches, and a time left guessed from them was off by 2.5x
ETA_FROM_SHARE = 0.05
#: batched Nelder-Mead, per searched dimension n (measured with six models on
#: data/example.csv.gz and two simulated data sets of data/, 60-100 problems): evaluations per
#: problem about 11 * 4^(n-1) (10-11, 20-59 and 75-305 for n = 1, 2, 3); iterations of the
#: longest problem about 10 * 5^(n-1) (6-13, 23-105, 227-400); calls per iteration 2.2-2.9
NELDER_MEAD_EVALUATIONS = (11.0, 4.0)
NELDER_MEAD_ITERATIONS = (10.0, 5.0)
NELDER_MEAD_CALLS_PER_ITERATION = 2.5
#: a step of the gradient refinement (forward and backward through the trajectory, PyTorch)
#: costs about this many compiled forward evaluations (measured: 51 for the exemplar model,
#: 57 for ALCOVE on data/example.csv.gz)
GRADIENT_STEP_COST = 50.0
#: from this share of a stage's estimated units on, a stage that runs longer than estimated
#: approaches its end ever more slowly instead of stopping the bar
SOFT_CAP = 0.8
#: profile-likelihood intervals: minimisations per interval end (measured 3.4 and 3.5 for the
#: prototype and exemplar models on data/example.csv.gz: one or two steps to bracket the
#: threshold from a Wald half-width, one or two to narrow the bracket)
PROFILE_STEPS = 4
#: the stages of one model's fit, in order, and how the bar names them
STAGES = ("search", "refine", "errors", "intervals")
STAGE_NAMES = {
    "search": "search",
    "refine": "refinement",
    "errors": "standard errors",
    "intervals": "profile intervals",
}

#: ``report(stage, evaluations)``, called after every batched call of the objective:
#: evaluations done so far in one of :data:`STAGES`
Report = Callable[[str, float], None]


def ignore_report(stage: str, evaluations: float) -> None:
    """A report callback that does nothing (fits without a progress bar)."""


@dataclass(frozen=True)
class Cost:
    """Seconds a batched call of the objective takes: a fixed part per call (small batches
    are dominated by it: Nelder-Mead's last iterations evaluate a few problems at a time) and
    a part per learner-evaluation."""

    per_call: float
    per_evaluation: float

    def of(self, calls: float, evaluations: float) -> float:
        """Seconds of ``calls`` calls that evaluate ``evaluations`` learners in all."""
        return calls * self.per_call + evaluations * self.per_evaluation


@dataclass(frozen=True)
class Stage:
    """One stage of one model's fit.

    Attributes
    ----------
    name
        One of :data:`STAGES`.
    calls, evaluations
        Batched calls and learner-evaluations the stage runs (estimates for the refinement).
    cost
        What they cost.
    """

    name: str
    calls: float
    evaluations: float
    cost: Cost

    @property
    def units(self) -> float:
        """Work units of the whole stage."""
        return self.cost.of(self.calls, self.evaluations)

    def units_done(self, calls: float, evaluations: float) -> float:
        """Units done after ``calls`` calls of ``evaluations`` in all (softly capped at
        :attr:`units`, see :func:`stage_progress`)."""
        return stage_progress(self.cost.of(calls, evaluations), self.units)


@dataclass(frozen=True)
class ModelPlan:
    """The stages of one model's fit, with their work units."""

    model: str
    stages: tuple[Stage, ...]

    @property
    def units(self) -> float:
        """Work units of the whole model."""
        return sum(s.units for s in self.stages)

    def units_done(self, stage: str, calls: float, evaluations: float) -> float:
        """Units done when ``stage`` has run ``calls`` calls and ``evaluations`` (earlier
        stages are complete)."""
        done = 0.0
        for s in self.stages:
            if s.name == stage:
                return done + s.units_done(calls, evaluations)
            done += s.units
        raise ValueError(f"no stage {stage!r} (stages: {', '.join(STAGES)})")


def nelder_mead_work(
    n_search: int, n_problems: int, max_iter: int = MAX_ITER
) -> tuple[float, float]:
    """Estimated calls and evaluations of a batched Nelder-Mead refinement.

    Parameters
    ----------
    n_search
        Searched dimensions (free parameters, less a profiled temperature).
    n_problems
        Learners x starts.
    max_iter
        Iteration cap: no problem runs more iterations, nor more than its simplex plus two
        evaluations per iteration (shrinks aside).

    Returns
    -------
    calls, evaluations
    """
    if n_search == 0:
        return 1.0, float(n_problems)  # one evaluation at the start: nothing to refine
    first, growth = NELDER_MEAD_ITERATIONS
    iterations = min(first * growth ** (n_search - 1), max_iter)
    first, growth = NELDER_MEAD_EVALUATIONS
    per_problem = min(first * growth ** (n_search - 1), n_search + 1 + 2 * max_iter)
    return NELDER_MEAD_CALLS_PER_ITERATION * iterations, n_problems * per_problem


def plan_model(
    model: str,
    *,
    n_learners: int,
    n_candidates: int,
    n_starts: int,
    n_search: int,
    n_free: int,
    cost: Cost,
    refine: str = "nelder-mead",
    refine_options: Mapping[str, object] | None = None,
    profile: bool = False,
) -> ModelPlan:
    """The stages of one model's fit, with their calls, evaluations and cost.

    Parameters
    ----------
    model
        The model's name (shown on the bar).
    n_learners, n_candidates, n_starts
        Learners, search candidates per learner, refined starts per learner.
    n_search, n_free
        Searched dimensions and free parameters.
    cost
        What a call and an evaluation cost (:func:`measure_cost`).
    refine, refine_options
        The refinement and its options (as given to :func:`~catmodel.fitting.fit.fit`).
    profile
        Whether profile-likelihood intervals follow the standard errors (a fourth stage).
    """
    options = dict(refine_options or {})
    problems = n_learners * n_starts
    if refine == "gradient" and n_search > 0:
        # one report per step of steps x problems; a step costs a rollout and its backward
        # pass through the trajectory
        steps = int(options.get("iterations", ITERATIONS))
        step_cost = Cost(cost.per_call, cost.per_evaluation * GRADIENT_STEP_COST)
        refinement = Stage("refine", steps, steps * problems, step_cost)
    else:
        max_iter = int(options.get("max_iter", MAX_ITER))
        refinement = Stage("refine", *nelder_mead_work(n_search, problems, max_iter), cost)
    search_calls = math.ceil(n_learners / learners_per_call(n_candidates))
    stages = [
        Stage("search", search_calls, n_candidates * n_learners, cost),
        refinement,
        Stage("errors", 1, n_learners * stencil_size(n_free) if n_free else 0, cost),
    ]
    if profile and n_free:
        # every step minimises over the other parameters of learners x parameters x sides; the
        # profiles of the others leave a profiled temperature to the objective
        profiled = n_free - n_search
        calls = evaluations = 0.0
        for held, others in ((profiled, n_free - 1), (n_free - profiled, n_search - 1)):
            if held:
                c, e = nelder_mead_work(others, 2 * n_learners * held)
                calls, evaluations = calls + c, evaluations + e
        stages.append(Stage("intervals", PROFILE_STEPS * calls, PROFILE_STEPS * evaluations, cost))
    return ModelPlan(model, tuple(stages))


def stage_progress(done: float, estimate: float) -> float:
    """Units of a stage as the bar counts them: never more than the stage's estimate.

    Up to :data:`SOFT_CAP` of the estimate they count as they are; beyond, the count
    approaches the estimate exponentially (slope 1 where it starts), so a stage that runs
    longer than estimated still moves the bar, ever more slowly, and never past its share.
    """
    if estimate <= 0:
        return 0.0
    knee = SOFT_CAP * estimate
    if done <= knee:
        return max(0.0, float(done))
    rest = estimate - knee
    return estimate - rest * math.exp(-(done - knee) / rest)


def time_left(
    done: float, total: float, elapsed: float, previous: float | None = None
) -> float | None:
    """Seconds left, from the average pace so far; None before :data:`ETA_FROM_SHARE`.

    Parameters
    ----------
    done, total
        Work units done and in all.
    elapsed
        Seconds since the work started.
    previous
        The time left shown before, if any: the result is never above it, so the time left
        only falls (a pace that slows shows as a time left that stalls, not one that jumps
        back up).
    """
    if total <= 0 or done >= total:
        return 0.0
    if done < ETA_FROM_SHARE * total:
        return None
    estimate = elapsed * (total - done) / done
    return estimate if previous is None else min(estimate, previous)


def measure_cost(objective: Objective, small: int = 4, large: int = 128) -> Cost:
    """What a call of ``objective`` costs (its model, on its batch), measured.

    Calls of ``small`` and of ``large`` evaluations at the centre of the search box, after one
    untimed call that compiles what needs compiling; the faster of two timings of each counts
    (a shared machine only ever adds time). Give it an :class:`Objective` of its own, so that
    the fit's evaluation count stays what it was.
    """
    t_small = _best_time(objective, small)
    t_large = _best_time(objective, large)
    # timing noise can make the difference vanish: a floor of a tenth of the large call's
    # average keeps the evaluations counting
    per_evaluation = max(t_large - t_small, 0.1 * t_large) / (large - small)
    return Cost(max(t_small - small * per_evaluation, 0.0), max(per_evaluation, 1e-12))


def _best_time(objective: Objective, n: int) -> float:
    lo, hi = objective.search_bounds()
    rows = np.arange(n) % objective.batch.n_learners
    points = np.tile(0.5 * (lo + hi), (n, 1))
    objective(rows, points)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        objective(rows, points)
        times.append(time.perf_counter() - start)
    return min(times)


def describe(left: float | None, model: str, stage: str) -> str:
    """The text after the bar's time elapsed: time left (when known), model and stage."""
    where = f"{model}: {STAGE_NAMES.get(stage, stage)}"
    return where if left is None else f"about {format_seconds(left)} left, {where}"


def format_seconds(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` from an hour on), rounded up, as tqdm writes the time elapsed."""
    total = math.ceil(max(0.0, seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class FitProgress:
    """The progress bar of a fit: share of work units, time elapsed, time left, stage.

    Parameters
    ----------
    plans
        One :class:`ModelPlan` per model, in the order they are fitted.
    clock
        Seconds (monotonic), replaceable for tests.
    bar
        Anything with tqdm's ``total``, ``n``, ``update``, ``set_postfix_str`` and ``close``
        (default a tqdm bar that appears only when the fit takes longer than a couple of
        seconds).
    """

    def __init__(
        self,
        plans: Sequence[ModelPlan],
        clock: Callable[[], float] = time.monotonic,
        bar=None,
    ) -> None:
        self.plans = list(plans)
        self.total = sum(p.units for p in self.plans)
        self._before = np.concatenate([[0.0], np.cumsum([p.units for p in self.plans])])
        self._clock = clock
        self._start = clock()
        self._left: float | None = None
        self._calls: dict[tuple[int, str], int] = {}
        self.bar = bar if bar is not None else _tqdm_bar(self.total)

    def reporter(self, index: int) -> Report:
        """The ``report`` callback of the ``index``-th model's fit."""

        def report(stage: str, evaluations: float) -> None:
            self.update(index, stage, evaluations)

        return report

    def update(self, index: int, stage: str, evaluations: float) -> None:
        """Model ``index`` has run one more call, ``evaluations`` in all, in ``stage``: move
        the bar and redraw it."""
        plan = self.plans[index]
        calls = self._calls[index, stage] = self._calls.get((index, stage), 0) + 1
        done = self._before[index] + plan.units_done(stage, calls, evaluations)
        done = min(done, self.total)
        elapsed = self._clock() - self._start
        self._left = time_left(done, self.total, elapsed, self._left)
        self.bar.set_postfix_str(describe(self._left, plan.model, stage), refresh=False)
        # update() redraws at most every mininterval, and not before the bar's delay
        self.bar.update(max(0.0, done - self.bar.n))

    def close(self) -> None:
        """Fill the bar and remove it."""
        self.bar.n = self.bar.total
        self.bar.close()


def _tqdm_bar(total: float):
    from tqdm.auto import tqdm

    return tqdm(
        total=max(total, 1e-12),
        # delay: the bar shows only when the fit takes longer than a couple of seconds;
        # mininterval: Nelder-Mead reports hundreds of times a second, a log needs no more
        # than two lines a second
        delay=2.0,
        mininterval=0.5,
        desc="fitting",
        leave=False,
        # no rate and no tqdm ETA; the text after the time elapsed is describe()'s
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed{postfix}",
    )
