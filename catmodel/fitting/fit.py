"""Per-participant maximum-likelihood fits: quasi-random search, then local refinement.

For each model:

1. **search** — the same scrambled Sobol candidates over the box (scale coordinates) are
   evaluated for every participant in batched rollouts (temperature profiled out);
2. **refinement** — the ``starts`` best distinct candidates of each participant are refined
   together by batched Nelder-Mead in unconstrained coordinates (or, with
   ``refine="gradient"``, by Adam with gradients through the whole learning trajectory);
3. **report** — the best start per participant, the NLL from every start, convergence (the
   optimiser met its tolerance and at least two starts agree within 0.1), parameters at a bound
   and standard errors from a finite-difference Hessian in scale coordinates.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np

from catmodel.errors import SettingsError
from catmodel.fitting.hessian import finite_difference_hessian, standard_errors
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.neldermead import batched_nelder_mead
from catmodel.fitting.result import FitResult, ModelFit
from catmodel.fitting.search import best_distinct, sobol_candidates
from catmodel.models.base import Model
from catmodel.models.params import ParameterSet
from catmodel.models.registry import build_models

#: two starts "agree" when their NLLs differ by less than this
AGREEMENT = 0.1
#: finite-difference step for the Hessian, as a share of each box width (scale coordinates).
#: Momentum and large learning rates make the likelihood rough on small scales (the learner's
#: trajectory is sensitive to its rates), so a step of 1% measures the curvature of the basin
#: rather than of its ripples; at 0.1% Hessians of simulated fits were often indefinite.
HESSIAN_STEP = 1e-2


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
) -> FitResult:
    """Fit one or several models to every learner by maximum likelihood.

    Parameters
    ----------
    data
        A :class:`~catmodel.data.TrialTable` or a :class:`~catmodel.data.TrialBatch`.
    models
        Model names, instances, or a comma-separated string of names.
    starts
        Local refinements per participant (from the best distinct search candidates).
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
    """
    batch = (
        data
        if hasattr(data, "n_trials") and hasattr(data, "x")
        else data.to_batch(standardize=standardize)
    )
    model_list = build_models(models)
    _check_overrides(model_list, batch, fix, bounds, free)
    fits = []
    bar = _progress_bar(progress, total=len(model_list) * 100)
    for i, model in enumerate(model_list):
        pset = ParameterSet.for_model(
            model,
            batch.n_features,
            batch.n_categories,
            fix=_only(model, batch, fix),
            bounds=_only(model, batch, bounds),
            free=[n for n in free if n in _names(model, batch)],
        )

        def report(share: float, i=i) -> None:
            if bar is not None:
                bar.n = int(100 * (i + share))
                # one refresh per report: set_postfix_str redraws the bar itself
                bar.set_postfix_str(model_list[i].name)

        fits.append(
            fit_model(
                model,
                batch,
                pset,
                starts=starts,
                candidates=candidates,
                seed=seed,
                refine=refine,
                refine_options=refine_options,
                report=report,
            )
        )
    if bar is not None:
        bar.n = bar.total
        bar.close()
    return FitResult(
        fits=fits,
        standardization=batch.standardization,
        settings={
            "starts": starts,
            "candidates": candidates,
            "seed": seed,
            "refine": refine,
            "standardize": standardize,
        },
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
    report=None,
) -> ModelFit:
    """Fit one model to every learner of ``batch`` (see :func:`fit`)."""
    t0 = time.perf_counter()
    report = report or (lambda share: None)
    if pset is None:
        pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    objective = Objective(model, batch, pset)
    n_p = batch.n_learners
    rows = np.arange(n_p)
    lo, hi = objective.search_bounds()
    n_cand = candidates or default_candidates(objective.n_search)
    cand = sobol_candidates(n_cand, lo, hi, seed)
    n_c = len(cand)

    # 1. search: every participant x every candidate
    search_nll = np.empty((n_p, n_c))
    search_full = np.empty((n_p, n_c, len(pset.free)))
    per_call = max(1, 65536 // max(1, n_c))
    for start in range(0, n_p, per_call):
        part = rows[start : start + per_call]
        r = np.repeat(part, n_c)
        f, full = objective(r, np.tile(cand, (len(part), 1)))
        search_nll[part] = f.reshape(len(part), n_c)
        search_full[part] = full.reshape(len(part), n_c, -1)
        report(0.5 * min(1.0, (start + per_call) / n_p))

    n_starts = max(1, min(starts, n_c))
    best = best_distinct(search_nll, n_starts)
    start_full = np.take_along_axis(search_full, best[:, :, None], axis=1)  # (P, S, F)
    start_rows = np.repeat(rows, n_starts)
    start_scale = start_full.reshape(n_p * n_starts, -1)

    # 2. local refinement of every start of every participant together
    if objective.n_search == 0:
        f, full = objective(start_rows, np.zeros((len(start_rows), 0)))
        final_full, final_nll = full, f
        opt_conv = np.ones(len(start_rows), dtype=bool)
    elif refine == "nelder-mead":
        final_full, final_nll, opt_conv = _refine_nelder_mead(
            objective, start_rows, start_scale, report, dict(refine_options or {})
        )
    elif refine == "gradient":
        from catmodel.fitting.gradient import refine_gradient

        final_full, final_nll, opt_conv = refine_gradient(
            objective, start_rows, start_scale, **dict(refine_options or {})
        )
    else:
        raise SettingsError(f"unknown refinement {refine!r} (nelder-mead or gradient)")

    final_nll = final_nll.reshape(n_p, n_starts)
    final_full = final_full.reshape(n_p, n_starts, -1)
    opt_conv = opt_conv.reshape(n_p, n_starts)
    pick = np.argmin(final_nll, axis=1)
    best_nll = final_nll[rows, pick]
    best_scale = final_full[rows, pick]
    agree = (np.abs(final_nll - best_nll[:, None]) < AGREEMENT).sum(axis=1) >= min(2, n_starts)
    converged = opt_conv[rows, pick] & agree

    # 3. standard errors in scale coordinates
    lo_f, hi_f = pset.scale_bounds()
    if len(pset.free):
        h = finite_difference_hessian(
            objective.nll_at, rows, best_scale, HESSIAN_STEP * (hi_f - lo_f)
        )
        se, se_ok = standard_errors(h)
    else:
        se, se_ok = np.zeros((n_p, 0)), np.ones(n_p, dtype=bool)
    report(1.0)

    values = pset.scale_to_natural(best_scale)
    n_trials = (batch.response >= 0).sum(1).cpu().numpy()
    return ModelFit(
        model=model,
        pset=pset,
        participants=list(batch.learners),
        conditions=list(batch.conditions) if batch.conditions is not None else None,
        values=values,
        scale=best_scale,
        se=se,
        se_ok=se_ok,
        nll=best_nll,
        n_trials=n_trials,
        converged=converged,
        optimizer_converged=opt_conv[rows, pick],
        at_bound=[pset.at_bound(s) for s in best_scale],
        start_nll=final_nll,
        seconds=time.perf_counter() - t0,
        evaluations=objective.n_evaluations,
        info={
            "candidates": n_c,
            "starts": n_starts,
            "refine": refine,
            "profiled_temperature": objective.profile,
        },
    )


def _refine_nelder_mead(objective: Objective, rows, start_scale, report, options):
    pset = objective.pset
    search_pos = [objective.free_names.index(n) for n in objective.search_names]
    z0 = pset.scale_to_unconstrained(start_scale)[:, search_pos]
    temp_pos = objective.free_names.index("temperature") if objective.profile else None

    def fun(idx, z):
        full = np.zeros((len(idx), len(objective.free_names)))
        full[:, search_pos] = z
        search_scale = pset.unconstrained_to_scale(full)[:, search_pos]
        warm = start_scale[idx, temp_pos] if temp_pos is not None else None
        f, full_scale = objective(rows[idx], search_scale, warm)
        return f, full_scale

    result = batched_nelder_mead(fun, z0, **options)
    report(0.95)
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


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    # delay: the bar shows only when the run takes longer than a couple of seconds
    return tqdm(total=total, delay=2.0, unit="%", desc="fitting", leave=False)
