"""Empirical-Bayes (hierarchical) fits: a Gaussian population over the free parameters,
estimated together with every participant's MAP parameters.

EM with Laplace approximations (Huys et al. 2011, PLoS Comput Biol 7:e1002028):

* **population**: a Gaussian over the free parameters on the scale they are searched on
  (log10 for rates, logit for probabilities, linear otherwise) — one mean for the sample or
  one per condition, and a covariance (full or diagonal) shared by every group;
* **E-step**: each participant's MAP, the minimum of ``NLL(θ) + ½ (θ − μ)ᵀ Σ⁻¹ (θ − μ)``, by
  the batched Nelder-Mead the ML fits use, on the *unbounded* search scale: the population
  prior takes the place of the box, which only seeds the first E-step (from the ML search's
  separated starts); the temperature is an ordinary search parameter here (the prior depends
  on it, so it cannot be profiled out). Later E-steps start from the previous MAPs;
* **Laplace**: the posterior covariance is the inverse of ``H = ∇²NLL(MAP) + Σ⁻¹``
  (the NLL's Hessian by finite differences, :mod:`catmodel.fitting.hessian`); the reported
  posterior sds and intervals are then importance-sampled around it
  (:mod:`catmodel.fitting.posterior_sampling`), since the Gaussian is too narrow where the
  likelihood is not quadratic;
* **M-step**: ``μ_g`` = mean of the group's posterior means, ``Σ`` = mean over participants
  of ``(m − μ_g)(m − μ_g)ᵀ + C`` with ``m`` and ``C`` each posterior's mean and covariance,
  both importance-sampled around the Laplace approximation (:data:`M_STEP_DRAWS` draws in
  mirrored pairs, the same ones in proposal units every iteration); its diagonal for a
  diagonal population; variances floored at :data:`VARIANCE_FLOOR`.

The EM stops when the summed Laplace log evidence changes by less than ``tol``. Each
participant's log evidence is ``−NLL(MAP) + log N(MAP; μ, Σ) + (F/2) log 2π − ½ log det H``
and the group's integrated BIC is ``−2 Σ log evidence + |M| ln(total trials)`` with |M| the
population's parameters (Huys et al. 2011, who integrate by sampling; here by Laplace).

A MAP may lie outside the fitting box: the prior, not the box, holds it. Where the model
cannot be evaluated (a rate above 1 of the Gaussian learner, say) the NLL is infinite and the
optimiser treats it as a wall. The fit's notes name the participants whose MAP lies outside
the box by more than a tenth of its width.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel.errors import SettingsError
from catmodel.fitting.fit import HESSIAN_STEP, search_starts
from catmodel.fitting.hessian import finite_difference_hessian, stencil_size
from catmodel.fitting.intervals import Intervals
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.neldermead import batched_nelder_mead
from catmodel.fitting.population import Population
from catmodel.fitting.posterior_sampling import ADAPT_ESS, sample_posterior
from catmodel.fitting.progress import Report, ignore_report
from catmodel.fitting.result import ModelFit
from catmodel.models.base import Model
from catmodel.models.params import ParameterSet

#: population covariances
POPULATIONS = ("full", "diagonal")
#: what a population mean can be estimated per
POPULATION_BY = (None, "condition")
#: fewer participants than this and there is no population to estimate
MIN_PARTICIPANTS = 3
#: fewer participants than this many per free parameter and the covariance is diagonal
PARTICIPANTS_PER_PARAMETER = 2
#: floor of the population variances (search scale): an sd of 0.01 (a 2% change of a rate)
#: keeps Σ⁻¹ finite when every MAP agrees, e.g. for a parameter the data do not inform
VARIANCE_FLOOR = 1e-4
#: default stopping tolerance of the EM: change of the summed log evidence
EM_TOL = 0.1
#: default cap on EM iterations
EM_MAX_ITER = 50
#: Nelder-Mead in box-width units: the first E-step's simplex spans a tenth of the box, later
#: ones (warm starts near the last MAP) a fiftieth; tolerances tight enough that the MAP's
#: error (1e-3 of the box) moves the Laplace evidence by well under 1e-3
FIRST_STEP, WARM_STEP = 0.1, 0.02
NM_FATOL, NM_XATOL = 1e-5, 1e-3
#: the E-step's iteration cap: with the population prior in place of the box no MAP creeps
#: toward an edge, and the EM's later iterations start each search at the previous MAP
NM_MAX_ITER = 400
#: a MAP this far outside the box (share of its width) is named in the notes
OUTSIDE_BOX = 0.1
#: importance draws per participant for the M-step's posterior moments, in mirrored pairs: on
#: the real two-category data, 128 of them took 23% fewer evaluations over five models than
#: 256 independent draws, every EM converged, and the integrated BICs moved by at most 0.3%
M_STEP_DRAWS = 128
#: adaptive importance-sampling rounds for the reported intervals (see
#: :func:`~catmodel.fitting.posterior_sampling.sample_posterior`); the M-step's moments use the
#: Laplace proposal alone, so that each EM iteration costs the same
INTERVAL_ADAPT_ROUNDS = 2


@dataclass
class EStep:
    """MAP estimates of every participant under one population prior."""

    scale: np.ndarray  #: (P, F) MAPs in scale coordinates
    nll: np.ndarray  #: (P,) NLL at the MAPs
    converged: np.ndarray  #: (P,) Nelder-Mead met its tolerance


@dataclass
class Laplace:
    """The Laplace approximation around every MAP."""

    hessian: np.ndarray  #: (P, F, F) posterior precision H = ∇²NLL + Σ⁻¹
    cov: np.ndarray  #: (P, F, F) posterior covariance H⁻¹
    nll_pd: np.ndarray  #: (P,) the NLL's Hessian was finite and positive definite
    log_evidence: np.ndarray  #: (P,)


def check_population(population: str, by: str | None) -> None:
    """Raise :class:`SettingsError` for an unknown covariance or grouping."""
    if population not in POPULATIONS:
        raise SettingsError(
            f"unknown population {population!r} (--population: {' or '.join(POPULATIONS)})"
        )
    if by not in POPULATION_BY:
        raise SettingsError(f"unknown --population-by {by!r} (the only grouping: condition)")


def population_groups(batch, by: str | None) -> tuple[list[str], np.ndarray]:
    """The groups with a population mean of their own and each learner's group index.

    Raises
    ------
    SettingsError
        Fewer than :data:`MIN_PARTICIPANTS` learners; grouping by condition on data without
        conditions, or a condition with fewer than two learners (its mean would be its one
        participant's MAP: nothing to shrink towards).
    """
    n = batch.n_learners
    if n < MIN_PARTICIPANTS:
        raise SettingsError(
            f"empirical Bayes needs at least {MIN_PARTICIPANTS} participants to estimate a "
            f"population, and the data have {n} (use --method ml)"
        )
    if by is None:
        return ["all"], np.zeros(n, dtype=np.int64)
    if batch.conditions is None:
        raise SettingsError("--population-by condition: the data have no condition column")
    labels = [str(c) for c in batch.conditions]
    groups = list(dict.fromkeys(labels))
    index = np.array([groups.index(c) for c in labels], dtype=np.int64)
    counts = np.bincount(index, minlength=len(groups))
    if counts.min() < 2:
        small = groups[int(np.argmin(counts))]
        raise SettingsError(
            f"--population-by condition: condition {small!r} has {int(counts.min())} "
            "participant; each condition needs at least 2"
        )
    return groups, index


def fit_model_eb(
    model: Model,
    batch,
    pset: ParameterSet | None = None,
    *,
    population: str = "full",
    by: str | None = None,
    starts: int = 5,
    candidates: int | None = None,
    seed: int = 0,
    tol: float = EM_TOL,
    max_iter: int = EM_MAX_ITER,
    ci_level: float | None = 0.95,
    report: Report | None = None,
    notes: list[str] | None = None,
) -> ModelFit:
    """Fit one model to every learner of ``batch`` by empirical Bayes (see the module).

    Parameters
    ----------
    model, batch, pset
        The model, the trials, and the free/fixed parameters (default: the model's).
    population
        ``"full"`` or ``"diagonal"`` population covariance. With fewer than
        2 x (free parameters) participants the covariance is diagonal whatever this says
        (and ``notes`` gets a line saying so).
    by
        ``None`` (one population mean) or ``"condition"`` (one mean per condition, a shared
        covariance).
    starts, candidates, seed
        The ML search that seeds the first E-step (:func:`~catmodel.fitting.fit.
        search_starts`): every participant's MAP is first sought from up to ``starts``
        separated candidates; later E-steps start from the last MAPs.
    tol, max_iter
        Stop when the summed log evidence changes by less than ``tol``, or after
        ``max_iter`` iterations (the EM is then reported as not converged).
    ci_level
        Level of the posterior intervals (MAP ± z posterior sd on the search scale), or None.
    report
        Hears the evaluations done so far (stages ``"search"``, ``"refine"``, ``"errors"``).
    notes
        A list that warnings are appended to, one line each.

    Returns
    -------
    ModelFit
        ``method="eb"``: MAP parameters, NLL at the MAPs, posterior sds (in ``se``),
        ``log_evidence``, ``population``; ``converged`` = the last E-step's Nelder-Mead met
        its tolerance and the EM converged.

    Raises
    ------
    SettingsError
        Too few participants, an unknown population or grouping.
    """
    t0 = time.perf_counter()
    report = report or ignore_report
    notes = notes if notes is not None else []
    check_population(population, by)
    if pset is None:
        pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    groups, group_of = population_groups(batch, by)
    n_p, n_f = batch.n_learners, len(pset.free)
    diagonal = population == "diagonal"
    if not diagonal and n_p < PARTICIPANTS_PER_PARAMETER * n_f:
        diagonal = True
        notes.append(
            f"warning: {model.name}: {n_p} participants for {n_f} free parameters (fewer than "
            f"{PARTICIPANTS_PER_PARAMETER * n_f}): the population covariance is diagonal"
        )
    objective = Objective(model, batch, pset)
    lo, hi = pset.scale_bounds()
    width = hi - lo
    # the ML search only seeds the EM: its separated candidates are the first E-step's starts
    found = search_starts(objective, starts, candidates, seed, report)
    pop = Population(
        names=pset.free_names,
        groups=groups,
        mean=np.tile(0.5 * (lo + hi), (len(groups), 1)),
        # broad: the box's half-width as sd, so that the first MAPs are nearly ML estimates
        cov=np.diag((0.5 * width) ** 2),
        counts=np.bincount(group_of, minlength=len(groups)),
        diagonal=diagonal,
    )
    evaluations: dict[str, int] = {}

    def counted(stage: str, n: int) -> None:
        # the bar hears each stage's running count; the EM's E-steps run past the ML plan,
        # and the bar stops at its end
        evaluations[stage] = evaluations.get(stage, 0) + n
        report(stage, evaluations[stage])

    step = map_estimates(
        objective, pop, group_of, found.rows, found.scale, FIRST_STEP, counted, n_p
    )
    previous = -np.inf
    for iteration in range(1, max_iter + 1):
        post = laplace(objective, pop, group_of, step, counted)
        total = float(np.sum(post.log_evidence))
        pop.history.append(total)
        pop.iterations, pop.change = iteration, abs(total - previous)
        if pop.change < tol:
            pop.converged = True
            break
        previous = total
        # the M-step needs each posterior's mean and covariance: importance draws around
        # the Laplace approximation give them where the likelihood is not quadratic
        moments = sample_posterior(
            log_posterior(objective, pop, group_of),
            step.scale,
            post.cov,
            n_draws=M_STEP_DRAWS,
            # the same draws (in proposal units) every iteration: the EM's objective then
            # changes smoothly with the population instead of with fresh Monte Carlo noise
            seed=seed,
            # mirrored pairs take the symmetric part of each posterior out of its mean's noise
            antithetic=True,
        )
        pop = m_step(pop, group_of, moments.mean, moments.cov)
        step = map_estimates(
            objective, pop, group_of, np.arange(n_p), step.scale, WARM_STEP, counted, n_p
        )
    if not pop.converged:
        notes.append(
            f"warning: {model.name}: the EM did not converge in {max_iter} iterations (last "
            f"change of the summed log evidence {pop.change:.3g}, tolerance {tol:g})"
        )
    post_sd = np.sqrt(np.einsum("pii->pi", post.cov))
    outside = outside_box_note(model.name, list(batch.learners), pset, step.scale)
    if outside is not None:
        notes.append(outside)
    intervals = posterior_mean = None
    if ci_level:
        # the Laplace Gaussian is too narrow where the likelihood is not quadratic: the
        # reported sds and intervals come from importance draws of the posterior itself
        sampled = sample_posterior(
            log_posterior(objective, pop, group_of),
            step.scale,
            post.cov,
            level=ci_level,
            seed=seed,
            adapt_rounds=INTERVAL_ADAPT_ROUNDS,
            # the posterior mean is reported (and is recovery's estimate): mirrored draws
            # take the Monte Carlo noise of its symmetric part away
            antithetic=True,
        )
        post_sd, posterior_mean = sampled.sd, sampled.mean
        edge = np.zeros(step.scale.shape, dtype=bool)
        intervals = Intervals(sampled.low, sampled.high, edge, edge.copy())
        few = int(np.sum(sampled.ess < ADAPT_ESS))
        if few:
            notes.append(
                f"note: {model.name}: for {few} participant(s) fewer than {ADAPT_ESS} effective "
                f"importance draws back the posterior intervals even after "
                f"{INTERVAL_ADAPT_ROUNDS} adaptive rounds (a posterior far from the Laplace "
                "approximation); their intervals are rough"
            )
    converged = pd.array(step.converged & pop.converged, dtype="boolean")
    n_trials = (batch.response >= 0).sum(1).cpu().numpy()
    return ModelFit(
        model=model,
        pset=pset,
        participants=list(batch.learners),
        conditions=list(batch.conditions) if batch.conditions is not None else None,
        values=pset.scale_to_natural(step.scale),
        scale=step.scale,
        se=post_sd,
        se_ok=post.nll_pd,
        nll=step.nll,
        n_trials=n_trials,
        converged=converged,
        optimizer_converged=step.converged,
        # no box in EB: "at a bound" has no meaning; outside_box_note names far MAPs
        at_bound=[[] for _ in range(n_p)],
        start_nll=step.nll[:, None],
        at_chance=np.zeros(n_p, dtype=bool),
        intervals=intervals,
        ci_method="posterior" if ci_level else None,
        ci_level=ci_level,
        seconds=time.perf_counter() - t0,
        evaluations=objective.n_evaluations,
        info={
            "method": "eb",
            "candidates": found.n_candidates,
            "starts": found.n_starts,
            "em": {**pop.record(), "tolerance": tol, "max_iterations": max_iter},
            "integrated_bic": integrated_bic(post.log_evidence, pop, n_trials),
        },
        method="eb",
        log_evidence=post.log_evidence,
        posterior_mean=posterior_mean,
        population=pop,
    )


def integrated_bic(log_evidence: np.ndarray, pop: Population, n_trials: np.ndarray) -> float:
    """The group's integrated BIC (Huys et al. 2011): ``−2 Σ log evidence + |M| ln N`` with
    |M| the population's parameters and N the trials with a response, summed over
    participants (the per-participant evidence by Laplace, not by sampling)."""
    n = max(int(np.sum(n_trials)), 1)
    return float(-2.0 * np.sum(log_evidence) + pop.n_parameters() * math.log(n))


def outside_box_note(
    model: str, participants: Sequence[str], pset: ParameterSet, scale: np.ndarray, shown: int = 5
) -> str | None:
    """A note naming the participants with a MAP more than :data:`OUTSIDE_BOX` of the box's
    width outside the fitting box (None when there are none)."""
    if scale.shape[1] == 0:
        return None
    unit = pset.scale_to_unit(scale)
    far = (unit < -OUTSIDE_BOX) | (unit > 1 + OUTSIDE_BOX)
    who = [
        f"{p} ({', '.join(n for n, f in zip(pset.free_names, row, strict=True) if f)})"
        for p, row in zip(participants, far, strict=True)
        if row.any()
    ]
    if not who:
        return None
    named = ", ".join(who[:shown]) + (f" and {len(who) - shown} more" if len(who) > shown else "")
    return (
        f"note: {model}: the MAP of {len(who)} participant(s) lies outside the fitting box by "
        f"more than {OUTSIDE_BOX:.0%} of its width: {named}; empirical Bayes has no box (the "
        "population prior holds the estimates), so these are kept as found"
    )


def log_posterior(objective: Objective, pop: Population, group_of: np.ndarray):
    """``f(rows, scale)``: the unnormalised log posterior ``-NLL - ½ (θ − μ)ᵀ Σ⁻¹ (θ − μ)``
    of learners ``rows`` under ``pop`` (for :func:`~catmodel.fitting.posterior_sampling.
    sample_posterior`)."""

    def f(rows: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return -objective.nll_at(rows, scale) - _penalty(pop, group_of, rows, scale)

    return f


def _ignore(stage: str, evaluations: int) -> None:
    """A ``counted`` callback that ignores what it hears."""


def _penalty(pop: Population, group_of: np.ndarray, rows: np.ndarray, scale: np.ndarray):
    """½ (θ − μ)ᵀ Σ⁻¹ (θ − μ) of learners ``rows`` at ``scale`` (L, F)."""
    d = scale - pop.mean[group_of[rows]]
    precision = np.linalg.inv(pop.cov)
    return 0.5 * np.einsum("li,ij,lj->l", d, precision, d)


def map_estimates(
    objective: Objective,
    pop: Population,
    group_of: np.ndarray,
    rows: np.ndarray,
    start: np.ndarray,
    step: float,
    counted=None,
    n_p: int | None = None,
) -> EStep:
    """E-step: every participant's MAP under ``pop``, by batched Nelder-Mead from each of
    ``start`` (one row per start; ``rows`` its learner), the best start kept per learner.

    Nelder-Mead runs in box-width units (``(θ − lower) / width``, unbounded), so that one
    simplex step means the same share of every parameter's box.

    Parameters
    ----------
    objective
        The model's NLL on the batch.
    pop, group_of
        The population prior and each learner's group (index into ``pop.groups``).
    rows, start
        (S,) learner of every start and (S, F) the starts (scale coordinates).
    step
        The first simplex's size, as a share of the box's width.
    counted
        ``counted(stage, evaluations)`` hears every batch of evaluations (optional).
    n_p
        Learners (default: the batch's).
    """
    counted = counted or _ignore
    n_p = objective.batch.n_learners if n_p is None else n_p
    lo, hi = objective.pset.scale_bounds()
    width = hi - lo
    n_f = len(lo)
    if n_f == 0:
        nll = objective.nll_at(np.arange(n_p), np.zeros((n_p, 0)))
        return EStep(np.zeros((n_p, 0)), nll, np.ones(n_p, dtype=bool))

    def fun(idx: np.ndarray, u: np.ndarray):
        scale = lo + u * width
        nll = objective.nll_at(rows[idx], scale)
        counted("refine", len(idx))
        return nll + _penalty(pop, group_of, rows[idx], scale), nll[:, None]

    result = batched_nelder_mead(
        fun,
        (start - lo) / width,
        step=step,
        fatol=NM_FATOL,
        xatol=NM_XATOL,
        max_iter=NM_MAX_ITER,
    )
    best = np.full(n_p, -1, dtype=np.int64)
    value = np.full(n_p, np.inf)
    for k, (r, f) in enumerate(zip(rows, result.fun, strict=True)):
        if f < value[r] or best[r] < 0:
            best[r], value[r] = k, f
    return EStep(
        scale=lo + result.x[best] * width,
        nll=result.aux[best, 0],
        converged=result.converged[best],
    )


def laplace(
    objective: Objective, pop: Population, group_of: np.ndarray, step: EStep, counted=None
) -> Laplace:
    """Posterior precision, covariance and log evidence of every participant at its MAP.

    Where the NLL's Hessian is not positive definite (a direction the data do not inform,
    or a MAP off a smooth minimum), its negative eigenvalues are set to zero, so that the
    posterior there is the prior's: the Laplace approximation never claims more certainty
    than the likelihood's curvature gives.
    """
    counted = counted or _ignore
    n_p, n_f = step.scale.shape
    precision = np.linalg.inv(pop.cov)
    if n_f == 0:
        return Laplace(
            np.zeros((n_p, 0, 0)), np.zeros((n_p, 0, 0)), np.ones(n_p, dtype=bool), -step.nll
        )
    lo, hi = objective.pset.scale_bounds()
    h_nll = finite_difference_hessian(
        objective.nll_at, np.arange(n_p), step.scale, HESSIAN_STEP * (hi - lo)
    )
    counted("errors", n_p * stencil_size(n_f))
    finite = np.isfinite(h_nll).all(axis=(1, 2))
    h_nll = np.where(finite[:, None, None], h_nll, 0.0)
    eigval, eigvec = np.linalg.eigh(h_nll)
    nll_pd = finite & (eigval.min(axis=1) > 0)
    clipped = np.einsum("pij,pj,pkj->pik", eigvec, np.maximum(eigval, 0.0), eigvec)
    hessian = clipped + precision[None]
    cov = np.linalg.inv(hessian)
    _, logdet_h = np.linalg.slogdet(hessian)
    d = step.scale - pop.mean[group_of]
    _, logdet_cov = np.linalg.slogdet(pop.cov)
    log_prior = (
        -0.5 * np.einsum("pi,ij,pj->p", d, precision, d)
        - 0.5 * logdet_cov
        - 0.5 * n_f * math.log(2 * math.pi)
    )
    log_evidence = -step.nll + log_prior + 0.5 * n_f * math.log(2 * math.pi) - 0.5 * logdet_h
    return Laplace(hessian, cov, nll_pd, log_evidence)


def m_step(
    pop: Population, group_of: np.ndarray, maps: np.ndarray, post_cov: np.ndarray
) -> Population:
    """M-step: group means of ``maps`` (the posterior means, or the MAPs), and the shared
    covariance of them about those means plus the mean posterior covariance (diagonal for a
    diagonal population), floored."""
    n_g = len(pop.groups)
    mean = np.stack([maps[group_of == g].mean(axis=0) for g in range(n_g)])
    d = maps - mean[group_of]
    cov = (d.T @ d + post_cov.sum(axis=0)) / len(maps)
    if pop.diagonal:
        cov = np.diag(np.maximum(np.diag(cov), VARIANCE_FLOOR))
    else:
        # floor the eigenvalues, which keeps the covariance positive definite
        val, vec = np.linalg.eigh(0.5 * (cov + cov.T))
        cov = (vec * np.maximum(val, VARIANCE_FLOOR)) @ vec.T
    return Population(
        names=pop.names,
        groups=pop.groups,
        mean=mean,
        cov=cov,
        counts=pop.counts,
        diagonal=pop.diagonal,
        iterations=pop.iterations,
        converged=pop.converged,
        change=pop.change,
        history=pop.history,
    )
