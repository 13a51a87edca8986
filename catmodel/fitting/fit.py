"""Per-participant maximum-likelihood fits: quasi-random search, then local refinement.

For each model:

1. **search** — the same scrambled Sobol candidates over the box (scale coordinates) are
   evaluated for every participant in batched rollouts (temperature profiled out);
2. **refinement** — up to ``starts`` candidates of each participant in separated regions of
   the box (:func:`~catmodel.fitting.search.separated_starts`: greedily in order of NLL, each
   at least a quarter of the box width from the others in some searched coordinate) are
   refined together by batched Nelder-Mead in unconstrained coordinates (or, with
   ``refine="gradient"``, by Adam with gradients through the whole learning trajectory);
3. **report** — the best start per participant, the NLL from every start, convergence (the
   optimiser met its tolerance from the best start and another start reached the same NLL
   within 0.1; unknown with one start; not converged where a learning model predicts chance
   on every trial), parameters at a bound, standard errors from a finite-difference Hessian
   in scale coordinates (none at a bound) and confidence intervals (Wald by default, profile
   likelihood on request; :mod:`catmodel.fitting.intervals`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel import interrupt
from catmodel.errors import SettingsError
from catmodel.fitting.checkpoint import Checkpoint
from catmodel.fitting.device import on_device
from catmodel.fitting.hessian import finite_difference_hessian, standard_errors, stencil_size
from catmodel.fitting.intervals import METHODS, Intervals, profile_intervals, wald_intervals
from catmodel.fitting.likelihood import Objective, chance_predictions
from catmodel.fitting.neldermead import batched_nelder_mead
from catmodel.fitting.progress import (
    FitProgress,
    Report,
    ignore_report,
    measure_cost,
    plan_model,
)
from catmodel.fitting.result import FitResult, ModelFit
from catmodel.fitting.scheduler import run_units
from catmodel.fitting.search import (
    START_SEPARATION,
    learners_per_call,
    separated_starts,
    sobol_candidates,
    sobol_size,
)
from catmodel.fitting.units import merge_fits, offset_reporter, plan_units
from catmodel.models.base import LEARNING, Model
from catmodel.models.params import ParameterSet
from catmodel.models.registry import build_models

#: two starts "agree" when their NLLs differ by less than this
AGREEMENT = 0.1
#: finite-difference step for the Hessian, as a share of each box width (scale coordinates),
#: chosen for smooth likelihoods: small enough that the quadratic term dominates (a step of 1%
#: changed standard errors by a median 0.4-0.9% and up to 42% against 0.1%), large enough that
#: rounding does not (NLLs are exact to about 1e-12; the second difference's error is then
#: about 1e-6 of a typical curvature). Halving it changed the standard errors of prototype
#: and exemplar fits (30 simulated participants of the ii design, 300 trials) by a median
#: 0.007% and at most 1.6% (tests/fitting/test_errors.py). A likelihood that is rough on
#: small scales (the original Gaussian learner's at high rates) needs a larger step.
HESSIAN_STEP = 1e-3
#: fewer trials with a response than this per free parameter, and a fit is hardly identified
TRIALS_PER_PARAMETER = 10
#: a learner whose every predicted response probability lies within this of 1/K predicts
#: chance: it learned nothing, so its likelihood is flat in its learning parameters
CHANCE_TOLERANCE = 1e-6


def default_candidates(n_search: int) -> int:
    """Quasi-random candidates per participant for a search over ``n_search`` dimensions."""
    return int(min(2048, 128 * 2 ** max(n_search - 1, 0)))


def fit(
    data,
    models: str | Model | Sequence[str | Model] = "gaussian",
    *,
    starts: int = 5,
    candidates: int | None = None,
    seed: int = 0,
    fix: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    free: Sequence[str] = (),
    refine: str = "nelder-mead",
    refine_options: Mapping[str, object] | None = None,
    standardize: bool = True,
    progress: bool = False,
    ci: str | None = "profile",
    ci_level: float = 0.95,
    method: str = "ml",
    population: str = "full",
    population_by: str | None = None,
    chunk_size: int | None = None,
    checkpoint: Checkpoint | None = None,
    scheduler: str = "local",
    dask_address: str | None = None,
    device: str = "cpu",
    dtype: str = "float64",
) -> FitResult:
    """Fit one or several models to every learner by maximum likelihood or empirical Bayes.

    Parameters
    ----------
    data
        A :class:`~catmodel.data.TrialTable` or a :class:`~catmodel.data.TrialBatch`.
    models
        Model names, instances, or a comma-separated string of names.
    starts
        Local refinements per participant, at least 1. The starts are search candidates in
        separated regions of the box: taken greedily in order of NLL, a candidate becomes a
        start only if it differs from every start already chosen by at least a quarter of the
        box width in at least one searched coordinate (max-norm in unit-box coordinates
        :data:`~catmodel.fitting.search.START_SEPARATION`). Where fewer separated candidates
        exist, as many as there are are refined (the fit's ``info`` says for how many
        participants). A fit is ``converged`` when the optimiser met its tolerance from the
        best start and at least one *other* start reached the best NLL within
        :data:`AGREEMENT`; with a single start convergence is unknown (``pd.NA``).
    candidates
        Quasi-random search candidates per participant (default: grows with the number of
        searched parameters, see :func:`default_candidates`).
    seed
        Seed of the scrambled Sobol candidates: same seed, same numbers.
    fix, bounds, free
        Parameter overrides, applied to every model that has the parameter.
    refine
        ``"nelder-mead"`` (default; measured better per unit time, see
        ``benchmarks/refinement.py``) or ``"gradient"``.
    refine_options
        Keyword arguments of the refinement (:func:`~catmodel.fitting.neldermead.
        batched_nelder_mead` or :func:`~catmodel.fitting.gradient.refine_gradient`), e.g.
        ``{"iterations": 50}`` for the gradient refinement.
    standardize
        Standardise features over the data set (when ``data`` is a table).
    progress
        Show a progress bar (it appears only on runs longer than a couple of seconds).
    ci
        Confidence intervals of the free parameters (:mod:`catmodel.fitting.intervals`):
        ``"profile"`` (default; profile likelihood: where the NLL minimised over the other
        parameters rises chi2_1(level)/2 above its minimum; costs a batched refit per
        bisection step, about as much again as the fit), ``"wald"`` (estimate ± z standard
        errors on the scale the parameter is searched on, from the Hessian the standard errors
        come from, at no extra cost; it covers the truth less often, see
        ``benchmarks/coverage.py``) or ``None``/``"none"``. A parameter at a bound of the box
        gets none (NaN).
    ci_level
        Confidence level of the intervals, between 0 and 1.
    method
        ``"ml"`` (default): maximum likelihood per participant; ``"eb"``: empirical Bayes
        (:func:`~catmodel.fitting.empirical_bayes.fit_model_eb`: a Gaussian population over
        the parameters, MAP estimates, Laplace log evidence). EB seeds its EM with the search
        (``starts``, ``candidates``, ``seed``), ignores ``refine`` and gives posterior
        intervals (MAP ± z posterior sd) at ``ci_level`` unless ``ci`` is None/``"none"``.
    population, population_by
        EB only: ``"full"`` or ``"diagonal"`` population covariance, and ``None`` or
        ``"condition"`` (one population mean per condition).
    chunk_size
        Learners per unit of work (default: all of them, one unit per model). Each model is
        fitted chunk by chunk (:mod:`catmodel.fitting.units`); the result does not depend on
        the chunk size. EB ignores it: its EM needs every participant, so each model is one
        unit.
    checkpoint
        Where each finished unit is saved, and where a resumed run finds the units already
        done (:class:`~catmodel.fitting.checkpoint.Checkpoint`); None saves nothing.
    scheduler, dask_address
        ``"local"`` (default) runs the units here; ``"dask"`` on the Dask cluster at
        ``dask_address``, or on a ``distributed.LocalCluster`` without one
        (:mod:`catmodel.fitting.scheduler`). Same results either way.
    device, dtype
        ``"cpu"`` (default: the compiled kernels, float64), ``"cuda"`` (the batched PyTorch
        step on a GPU, ``dtype`` ``"float64"`` or ``"float32"``) or ``"auto"`` (CUDA when
        available). ``"cuda"`` without a CUDA device raises :class:`SettingsError`.
    """
    from catmodel.fitting.empirical_bayes import check_population

    check_starts(starts)
    ci = check_intervals(ci, ci_level)
    if method not in METHODS_FIT:
        raise SettingsError(f"unknown method {method!r} (--method: ml or eb)")
    if method == "eb":
        check_population(population, population_by)
    batch = (
        data
        if hasattr(data, "n_trials") and hasattr(data, "x")
        else data.to_batch(standardize=standardize)
    )
    batch = on_device(batch, device, dtype)
    model_list = build_models(models)
    _check_overrides(model_list, batch, fix, bounds, free)
    psets = [_parameter_set(model, batch, fix, bounds, free) for model in model_list]
    # EB runs one EM over all participants of a model: one unit per model
    whole = max(batch.n_learners, 1)
    units = plan_units(
        [m.name for m in model_list],
        batch.n_learners,
        whole if method == "eb" else (chunk_size or whole),
    )
    if checkpoint is not None:  # from here on, Ctrl-C says how much is saved
        interrupt.set_units(sum(checkpoint.done(u.key) for u in units), len(units))
    bar = None
    if progress:
        bar = _progress(
            batch,
            model_list,
            psets,
            starts,
            candidates,
            refine,
            refine_options,
            ci == "profile" and method == "ml",
        )
    eb_notes: list[str] = []
    if method == "eb":
        options = {
            "population": population,
            "by": population_by,
            "starts": starts,
            "candidates": candidates,
            "seed": seed,
            "ci_level": ci_level if ci else None,
        }
        fits, eb_notes = _fit_eb(
            batch, model_list, psets, units, options, bar, checkpoint, scheduler, dask_address
        )
    else:
        options = {
            "starts": starts,
            "candidates": candidates,
            "seed": seed,
            "refine": refine,
            "refine_options": refine_options,
            "ci": ci,
            "ci_level": ci_level,
        }
        fits = _fit_ml(
            batch, model_list, psets, units, options, bar, checkpoint, scheduler, dask_address
        )
    if bar is not None:
        bar.close()
    settings = {
        "method": method,
        "starts": starts,
        "start_separation": START_SEPARATION,
        "candidates": candidates,
        "seed": seed,
        "refine": refine,
        "standardize": standardize,
        "ci": ci or "none",
        "ci_level": ci_level if ci else None,
    }
    if method == "eb":
        # EB's intervals are posterior intervals (importance-sampled), whatever interval
        # method was asked for
        settings["ci"] = "posterior" if ci else "none"
        settings.update({"population": population, "population_by": population_by})
    return FitResult(
        fits=fits,
        standardization=batch.standardization,
        settings=settings,
        notes=[
            *few_trials_warnings(batch, model_list, psets),
            *(note for f in fits if (note := chance_warning(f)) is not None),
            *eb_notes,
        ],
    )


#: the fitting methods: maximum likelihood, empirical Bayes
METHODS_FIT = ("ml", "eb")


def _fit_eb(
    batch, model_list, psets, units, options, bar, checkpoint, scheduler, dask_address
) -> tuple[list[ModelFit], list[str]]:
    """Empirical-Bayes fits of every model, one unit per model (checkpointed, resumable,
    local or on Dask like the ML units), and the notes the EMs wrote, in model order."""

    def task(unit):
        i = unit.model_index
        return eb_unit, (model_list[i], batch, psets[i]), options

    done = run_units(
        units,
        task,
        checkpoint,
        scheduler=scheduler,
        dask_address=dask_address,
        reporter=lambda u: bar.reporter(u.model_index) if bar else None,
    )
    fits, notes = [], []
    for unit in units:
        fit, unit_notes = done[unit.key]
        fits.append(fit)
        notes += unit_notes
    return fits, notes


def eb_unit(model: Model, batch, pset: ParameterSet, report=None, **options):
    """One unit of an empirical-Bayes fit: a model's EM over every participant
    (:func:`~catmodel.fitting.empirical_bayes.fit_model_eb`), with the notes it wrote (a
    plain function of its arguments, so that a Dask worker can run it)."""
    from catmodel.fitting.empirical_bayes import fit_model_eb

    notes: list[str] = []
    fit = fit_model_eb(model, batch, pset, report=report, notes=notes, **options)
    return fit, notes


def _fit_ml(
    batch, model_list, psets, units, options, bar, checkpoint, scheduler, dask_address
) -> list[ModelFit]:
    """Maximum-likelihood fits of every model (:func:`fit_model`), unit by unit
    (:mod:`catmodel.fitting.units`: checkpointed, resumable, local or on Dask)."""

    def task(unit):
        part = batch if unit.stop - unit.start == batch.n_learners else batch.select(unit.rows)
        i = unit.model_index
        return fit_model, (model_list[i], part, psets[i]), options

    chunk_reporters = [offset_reporter(bar.reporter(i)) if bar else None for i in range(len(psets))]
    done = run_units(
        units,
        task,
        checkpoint,
        scheduler=scheduler,
        dask_address=dask_address,
        reporter=lambda u: chunk_reporters[u.model_index]() if bar else None,
    )
    return [
        merge_fits([done[u.key] for u in units if u.model_index == i])
        for i in range(len(model_list))
    ]


def check_intervals(ci: str | None, level: float) -> str | None:
    """The interval method (None for none), or :class:`SettingsError` for an unknown method
    or a level outside (0, 1)."""
    if ci is None or ci == "none":
        return None
    if ci not in METHODS:
        raise SettingsError(f"unknown interval method {ci!r} (--ci: wald, profile or none)")
    if not 0.0 < level < 1.0:
        raise SettingsError(f"the confidence level (--ci-level) must lie in (0, 1), not {level}")
    return ci


def check_starts(starts) -> None:
    """Raise :class:`SettingsError` unless ``starts`` is a whole number of at least 1."""
    if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 1:
        raise SettingsError(
            f"starts (--starts) must be a whole number of at least 1, not {starts!r}"
        )


def few_trials_warnings(batch, models: Sequence[Model], psets: Sequence[ParameterSet]) -> list[str]:
    """One warning per model that some learners have too few trials for
    (:func:`too_few_trials`)."""
    n_trials = (batch.response >= 0).sum(1).cpu().numpy()
    notes = [
        too_few_trials(model.name, len(pset.free), list(batch.learners), n_trials)
        for model, pset in zip(models, psets, strict=True)
    ]
    return [note for note in notes if note is not None]


def too_few_trials(
    model: str, n_free: int, participants: Sequence[str], n_trials: np.ndarray, shown: int = 5
) -> str | None:
    """A warning naming the participants with fewer than :data:`TRIALS_PER_PARAMETER` trials
    (with a response) per free parameter of ``model``, or None when there are none.

    Parameters
    ----------
    model
        The model's name.
    n_free
        Its free parameters.
    participants, n_trials
        Every participant and the number of trials with a response each has.
    shown
        Participants named at most (the rest are counted).
    """
    needed = TRIALS_PER_PARAMETER * n_free
    few = [(p, int(n)) for p, n in zip(participants, n_trials, strict=True) if n < needed]
    if not few:
        return None
    named = ", ".join(f"{p} ({n} trials)" for p, n in few[:shown])
    if len(few) > shown:
        named += f" and {len(few) - shown} more"
    who, verb = ("participant", "has") if len(few) == 1 else ("participants", "have")
    return (
        f"warning: {model} has {n_free} free parameters; {who} {named} {verb} fewer than "
        f"{TRIALS_PER_PARAMETER} trials with a response per parameter ({needed})"
    )


def chance_warning(fit: ModelFit, shown: int = 5) -> str | None:
    """A warning naming the participants whose fit of a learning model predicts chance on
    every trial (:attr:`ModelFit.at_chance`), or None when there are none.

    Parameters
    ----------
    fit
        One model's fits.
    shown
        Participants named at most (the rest are counted).
    """
    who = [p for p, flat in zip(fit.participants, fit.at_chance, strict=True) if flat]
    if not who:
        return None
    named = ", ".join(who[:shown]) + (f" and {len(who) - shown} more" if len(who) > shown else "")
    noun = "participant" if len(who) == 1 else "participants"
    return (
        f"warning: {fit.name} predicts chance on every trial (every response probability "
        f"within {CHANCE_TOLERANCE:g} of 1/K) at the best fit of {noun} {named}: it learned "
        "nothing from their data, its likelihood is flat there, and these fits are reported "
        "as not converged"
    )


def fit_model(
    model: Model,
    batch,
    pset: ParameterSet | None = None,
    *,
    starts: int = 5,
    candidates: int | None = None,
    seed: int = 0,
    refine: str = "nelder-mead",
    refine_options: Mapping[str, object] | None = None,
    ci: str | None = "profile",
    ci_level: float = 0.95,
    report: Report | None = None,
) -> ModelFit:
    """Fit one model to every learner of ``batch`` (see :func:`fit`).

    Three phases, each a function of its own: :func:`search_starts`, :func:`refine_starts`
    (then :func:`best_of_starts`) and :func:`standard_errors_at` (then :func:`intervals_at`
    with the interval method ``ci`` at level ``ci_level``). ``report(stage,
    evaluations)`` hears the evaluations done so far in each stage (see
    :mod:`catmodel.fitting.progress`).
    """
    t0 = time.perf_counter()
    report = report or ignore_report
    if pset is None:
        pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    objective = Objective(model, batch, pset)
    found = search_starts(objective, starts, candidates, seed, report)
    final_full, final_nll, opt_conv = refine_starts(
        objective, found, refine, refine_options, report
    )
    best = best_of_starts(final_full, final_nll, opt_conv, found.counts)
    at_chance = learned_nothing(objective, best.scale)
    converged = best.converged.copy()
    converged[at_chance] = False  # a flat likelihood is not a converged fit
    at_bound = [pset.at_bound(s) for s in best.scale]
    bounded = bound_mask(pset, at_bound)
    se, se_ok = standard_errors_at(objective, best.scale, bounded, report)
    intervals = intervals_at(objective, best.scale, best.nll, se, bounded, ci, ci_level, report)
    return ModelFit(
        model=model,
        pset=pset,
        participants=list(batch.learners),
        conditions=list(batch.conditions) if batch.conditions is not None else None,
        values=pset.scale_to_natural(best.scale),
        scale=best.scale,
        se=se,
        se_ok=se_ok,
        nll=best.nll,
        n_trials=(batch.response >= 0).sum(1).cpu().numpy(),
        converged=converged,
        optimizer_converged=best.optimizer_converged,
        at_bound=at_bound,
        start_nll=best.start_nll,
        at_chance=at_chance,
        intervals=intervals,
        ci_method=ci,
        ci_level=ci_level if ci else None,
        seconds=time.perf_counter() - t0,
        evaluations=objective.n_evaluations,
        info={
            "candidates": found.n_candidates,
            "starts": found.n_starts,
            **starts_info(found),
            "refine": refine,
            "profiled_temperature": objective.profile,
        },
    )


def starts_info(found: SearchStarts) -> dict:
    """What the fit's ``info`` records about the starts: their separation and, where the
    search found fewer separated candidates than starts asked for, how many participants
    that concerns and the fewest starts any participant had."""
    short = found.counts < found.n_starts
    info: dict = {"start_separation": START_SEPARATION}
    if short.any():
        info["participants_with_fewer_starts"] = int(short.sum())
        info["fewest_starts"] = int(found.counts.min())
    return info


def learned_nothing(objective: Objective, best_scale: np.ndarray) -> np.ndarray:
    """(P,) whether a learning model's predictions at each learner's best fit are chance on
    every trial (within :data:`CHANCE_TOLERANCE` of 1/K).

    Only models whose role is learning are judged: a response-only model (the guessing
    model) predicts fixed probabilities by design, and unbiased guessing is chance.
    """
    n_p = len(best_scale)
    if objective.model.role != LEARNING:
        return np.zeros(n_p, dtype=bool)
    return chance_predictions(objective, np.arange(n_p), best_scale, CHANCE_TOLERANCE)


@dataclass
class SearchStarts:
    """Where local refinement starts: search candidates in separated regions of the box.

    Attributes
    ----------
    rows
        Batch row of every start, learner by learner (each learner's starts best first).
    scale
        Free parameters of every start in scale coordinates, one row per start (profiled
        temperature filled in).
    counts
        (P,) starts of every learner: at most ``n_starts``, fewer where the search found
        fewer separated candidates.
    n_candidates, n_starts
        Candidates evaluated per learner, and starts asked for per learner.
    """

    rows: np.ndarray
    scale: np.ndarray
    counts: np.ndarray
    n_candidates: int
    n_starts: int


def search_starts(
    objective: Objective, starts: int, candidates: int | None, seed: int, report
) -> SearchStarts:
    """Phase 1, search: every learner x every quasi-random candidate, in batched rollouts.

    Parameters
    ----------
    objective
        The NLL of the model on the batch.
    starts
        Starts to keep per learner (at most the number of candidates), chosen by
        :func:`~catmodel.fitting.search.separated_starts`.
    candidates
        Candidates per learner (None: :func:`default_candidates`).
    seed
        Seed of the scrambled Sobol candidates.
    report
        Hears the evaluations done so far (stage ``"search"``).
    """
    lo, hi = objective.search_bounds()
    cand = sobol_candidates(candidate_count(objective, candidates), lo, hi, seed)
    search_nll, search_full = _evaluate_candidates(objective, cand, report)
    n_starts = max(1, min(starts, len(cand)))
    picks = separated_starts(search_nll, (cand - lo) / (hi - lo), n_starts)
    chosen = picks >= 0  # each row's starts come first, so counts index them
    rows = np.nonzero(chosen)[0]
    return SearchStarts(
        rows=rows,
        scale=search_full[rows, picks[chosen]],
        counts=chosen.sum(axis=1),
        n_candidates=len(cand),
        n_starts=n_starts,
    )


def _evaluate_candidates(objective: Objective, cand: np.ndarray, report):
    """NLL (P, C) and free scale coordinates (P, C, F) of every learner at every candidate."""
    n_p, n_c = objective.batch.n_learners, len(cand)
    rows = np.arange(n_p)
    search_nll = np.empty((n_p, n_c))
    search_full = np.empty((n_p, n_c, len(objective.free_names)))
    per_call = learners_per_call(n_c)
    for start in range(0, n_p, per_call):
        part = rows[start : start + per_call]
        f, full = objective(np.repeat(part, n_c), np.tile(cand, (len(part), 1)))
        search_nll[part] = f.reshape(len(part), n_c)
        search_full[part] = full.reshape(len(part), n_c, -1)
        report("search", (start + len(part)) * n_c)
    return search_nll, search_full


def refine_starts(
    objective: Objective,
    found: SearchStarts,
    refine: str,
    refine_options: Mapping[str, object] | None,
    report: Report,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase 2, refinement: every start of every learner refined together.

    ``report`` hears the evaluations done so far (stage ``"refine"``; problem-steps for the
    gradient refinement).

    Returns
    -------
    scale, nll, converged
        (P * S, F) refined free parameters in scale coordinates, their NLL (P * S,) and
        whether the optimiser met its tolerance.

    Raises
    ------
    SettingsError
        For an unknown ``refine``.
    """
    options = dict(refine_options or {})
    if objective.n_search == 0:
        # nothing to search: the NLL at the start (with its profiled temperature) is the fit
        nll, full = objective(found.rows, np.zeros((len(found.rows), 0)))
        report("refine", len(found.rows))
        return full, nll, np.ones(len(found.rows), dtype=bool)
    if refine == "nelder-mead":
        return _refine_nelder_mead(objective, found.rows, found.scale, report, options)
    if refine == "gradient":
        from catmodel.fitting.gradient import refine_gradient

        return refine_gradient(
            objective,
            found.rows,
            found.scale,
            report=lambda steps: report("refine", steps),
            **options,
        )
    raise SettingsError(f"unknown refinement {refine!r} (nelder-mead or gradient)")


@dataclass
class BestFits:
    """Per learner, the best of its refined starts.

    Attributes
    ----------
    scale
        (P, F) best free parameters in scale coordinates.
    nll
        (P,) their NLL.
    converged
        (P,) nullable boolean: the optimiser converged from the best start and at least one
        *other* start reached the best NLL within :data:`AGREEMENT`; ``pd.NA`` (unknown) for
        a learner with a single start.
    optimizer_converged
        The optimiser converged from the best start.
    start_nll
        (P, S) NLL reached from every start; NaN after the last start of a learner with
        fewer starts than the others.
    """

    scale: np.ndarray
    nll: np.ndarray
    converged: pd.api.extensions.ExtensionArray
    optimizer_converged: np.ndarray
    start_nll: np.ndarray


def best_of_starts(
    final_full: np.ndarray, final_nll: np.ndarray, opt_conv: np.ndarray, counts: np.ndarray
) -> BestFits:
    """Phase 3a, report: each learner's best start and whether another start agrees.

    Parameters
    ----------
    final_full, final_nll, opt_conv
        Refined parameters (N, F), NLL (N,) and optimiser convergence (N,) of every start,
        learner by learner.
    counts
        (P,) starts of every learner (summing to N).
    """
    n_p, width = len(counts), int(max(counts.max(initial=1), 1))
    rows = np.repeat(np.arange(n_p), counts)
    slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    nll = np.full((n_p, width), np.nan)
    nll[rows, slot] = final_nll
    full = np.full((n_p, width, final_full.shape[-1]), np.nan)
    full[rows, slot] = final_full
    conv = np.zeros((n_p, width), dtype=bool)
    conv[rows, slot] = opt_conv
    learners = np.arange(n_p)
    pick = np.argmin(np.where(np.isnan(nll), np.inf, nll), axis=1)
    best_nll = nll[learners, pick]
    agree = np.abs(nll - best_nll[:, None]) < AGREEMENT  # NaN (no start) never agrees
    agree[learners, pick] = False  # the best start agreeing with itself proves nothing
    converged = pd.array(conv[learners, pick] & agree.any(axis=1), dtype="boolean")
    converged[counts < 2] = pd.NA
    return BestFits(
        scale=full[learners, pick],
        nll=best_nll,
        converged=converged,
        optimizer_converged=conv[learners, pick],
        start_nll=nll,
    )


def bound_mask(pset: ParameterSet, at_bound: Sequence[Sequence[str]]) -> np.ndarray:
    """(P, F) whether each free parameter of each learner is at a bound (from the names in
    ``at_bound``, one list per learner)."""
    names = pset.free_names
    flags = [[n in names_at for n in names] for names_at in at_bound]
    return np.array(flags, dtype=bool).reshape(len(at_bound), len(names))


def standard_errors_at(
    objective: Objective,
    best_scale: np.ndarray,
    at_bound: np.ndarray | None = None,
    report: Report = ignore_report,
    step: float = HESSIAN_STEP,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 3b, report: standard errors (P, F) in scale coordinates at the best fits.

    From a finite-difference Hessian (step ``step`` of each box width). A parameter at a bound
    (``at_bound``, (P, F)) gets NaN, and the others' standard errors come from the Hessian of
    the parameters off the bounds (the one at the bound held there); NaN, with the flag (P,)
    False, where that Hessian is not positive definite. ``report`` hears the evaluations
    (stage ``"errors"``).
    """
    n_p = len(best_scale)
    if not objective.free_names:
        return np.zeros((n_p, 0)), np.ones(n_p, dtype=bool)
    lo, hi = objective.pset.scale_bounds()
    h = finite_difference_hessian(objective.nll_at, np.arange(n_p), best_scale, step * (hi - lo))
    report("errors", n_p * stencil_size(len(objective.free_names)))
    return standard_errors(h, None if at_bound is None else ~at_bound)


def intervals_at(
    objective: Objective,
    best_scale: np.ndarray,
    best_nll: np.ndarray,
    se: np.ndarray,
    at_bound: np.ndarray,
    method: str | None,
    level: float,
    report: Report = ignore_report,
) -> Intervals | None:
    """Phase 3c, report: confidence intervals (scale coordinates) at the best fits
    (``best_scale`` (P, F), ``best_nll`` (P,), standard errors ``se`` (P, F)).

    Wald intervals come from the standard errors; profile intervals
    (:func:`~catmodel.fitting.intervals.profile_intervals`) minimise the NLL over the other
    parameters of every participant x parameter x side in one batched Nelder-Mead per step,
    starting their search a Wald half-width from the estimate. Parameters at a bound
    (``at_bound``) get none. ``report`` hears the profile's evaluations (stage
    ``"intervals"``).
    """
    if method is None:
        return None
    wald = wald_intervals(best_scale, se, level)
    if method == "wald":
        return wald
    lo, hi = objective.pset.scale_bounds()
    evaluations = 0

    def counted(n: int) -> None:
        nonlocal evaluations
        evaluations += n
        report("intervals", evaluations)

    def nll_at(rows: np.ndarray, points: np.ndarray) -> np.ndarray:
        out = objective.nll_at(rows, points)
        counted(len(rows))
        return out

    return profile_intervals(
        nll_at,
        np.arange(len(best_scale)),
        best_scale,
        best_nll,
        lo,
        hi,
        first_step=wald.high - best_scale,
        level=level,
        skip=at_bound,
        inner=_profiled_temperature(objective, counted),
    )


def _profiled_temperature(objective: Objective, counted: Callable[[int], None]):
    """``(position, nll_min)`` of the temperature when the objective profiles it out, for
    :func:`~catmodel.fitting.intervals.profile_intervals`; else None."""
    if not objective.profile:
        return None

    def nll_min(rows: np.ndarray, points: np.ndarray):
        # the Newton search starts from the temperature the point carries (the previous
        # minimiser)
        out = objective.profiled_at(rows, points)
        counted(len(rows))
        return out

    return objective.free_names.index("temperature"), nll_min


def _refine_nelder_mead(objective: Objective, rows, start_scale, report: Report, options):
    pset = objective.pset
    search_pos = [objective.free_names.index(n) for n in objective.search_names]
    z0 = pset.scale_to_unconstrained(start_scale)[:, search_pos]
    temp_pos = objective.free_names.index("temperature") if objective.profile else None
    evaluations = 0

    def fun(idx, z):
        nonlocal evaluations
        full = np.zeros((len(idx), len(objective.free_names)))
        full[:, search_pos] = z
        search_scale = pset.unconstrained_to_scale(full)[:, search_pos]
        warm = start_scale[idx, temp_pos] if temp_pos is not None else None
        f, full_scale = objective(rows[idx], search_scale, warm)
        evaluations += len(idx)
        report("refine", evaluations)
        return f, full_scale

    result = batched_nelder_mead(fun, z0, **options)
    return result.aux, result.fun, result.converged


def _names(model: Model, batch) -> set[str]:
    return {p.name for p in model.params(batch.n_features, batch.n_categories)}


def _only(model: Model, batch, overrides):
    if not overrides:
        return None
    names = _names(model, batch)
    return {k: v for k, v in overrides.items() if k in names}


def _check_overrides(models, batch, fix, bounds, free) -> None:
    known = set().union(*(_names(m, batch) for m in models))
    for name in [*(fix or {}), *(bounds or {}), *free]:
        if name not in known:
            raise SettingsError(
                f"no model being fitted has a parameter {name!r} "
                f"(parameters: {', '.join(sorted(known))})"
            )


def candidate_count(objective: Objective, candidates: int | None) -> int:
    """Search candidates per learner: as asked (default :func:`default_candidates`), rounded
    up to a power of two (:func:`~catmodel.fitting.search.sobol_size`)."""
    wanted = candidates or default_candidates(objective.n_search)
    return sobol_size(wanted, objective.n_search)


def _parameter_set(model: Model, batch, fix, bounds, free) -> ParameterSet:
    """The model's parameters with the overrides that name its parameters."""
    return ParameterSet.for_model(
        model,
        batch.n_features,
        batch.n_categories,
        fix=_only(model, batch, fix),
        bounds=_only(model, batch, bounds),
        free=[n for n in free if n in _names(model, batch)],
    )


def _progress(
    batch,
    models: Sequence[Model],
    psets: Sequence[ParameterSet],
    starts: int,
    candidates: int | None,
    refine: str,
    refine_options: Mapping[str, object] | None,
    profile: bool = False,
) -> FitProgress:
    """A progress bar over every model's work, each model's evaluations weighted by their
    measured cost (on an objective of its own, so that the fit's evaluation count is
    unchanged)."""
    plans = []
    for model, pset in zip(models, psets, strict=True):
        objective = Objective(model, batch, pset)
        n_candidates = candidate_count(objective, candidates)
        plans.append(
            plan_model(
                model.name,
                n_learners=batch.n_learners,
                n_candidates=n_candidates,
                n_starts=max(1, min(starts, n_candidates)),
                n_search=objective.n_search,
                n_free=len(pset.free),
                cost=measure_cost(objective),
                refine=refine,
                refine_options=refine_options,
                profile=profile,
            )
        )
    return FitProgress(plans)
