"""Parameter recovery: simulate participants with known parameters, fit them, compare.

True parameters are drawn uniformly (in scale coordinates: log10 for rates and temperature) over
each parameter's *generating* box — documented per model, chosen so that learning curves are
neither instant nor flat — while the fit searches the wider *fitting* box, so the bounds do not
do the recovering. Participants are simulated with the same rollout the likelihood uses and
fitted with the same defaults ``catmodel fit`` uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel.data.trials import TrialTable
from catmodel.fitting.fit import fit as fit_models
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.result import FitResult, ModelFit
from catmodel.models.base import Model
from catmodel.models.params import ParameterSet
from catmodel.simulate.designs import make_design
from catmodel.simulate.simulate import sample_parameters, simulate_responses


@dataclass
class ParameterRecovery:
    """Outcome of a recovery study.

    Attributes
    ----------
    recovery
        Long table: participant, parameter, scale, true, recovered (natural scale),
        estimate (what ``recovered`` is: ``ML``, or for empirical Bayes the ``posterior
        mean``, the ``MAP`` without posterior draws), true_scale, recovered_scale (log10 for
        log-scaled parameters), plus nll_true, nll_fit (the NLL at the ML or MAP estimate).
    summary
        Per free parameter: r, bias, rmse (scale coordinates), share_within_1 (share of fits
        with NLL <= NLL(true parameters) + 1, a check on the fitter), and the generating box.
    correlations
        Correlations among the recovered parameters (scale coordinates): trade-offs.
    fit
        The :class:`FitResult` of the simulated participants.
    table, batch
        The simulated trials (in the loader's schema) and the batch that was fitted.
    """

    recovery: pd.DataFrame
    summary: pd.DataFrame
    correlations: pd.DataFrame
    fit: FitResult
    table: TrialTable
    batch: object


def simulate_participants(
    model: Model,
    design: str,
    n_participants: int,
    n_trials: int,
    seed: int,
    values: dict[str, np.ndarray] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    **design_options,
):
    """Simulate participants on a design; returns (table, batch, true natural values).

    True values are drawn over each parameter's generating box (narrowed by ``bounds``, as
    :meth:`catmodel.models.base.Param.with_bounds` does) unless ``values`` gives them.
    """
    frame = make_design(design, n_participants, n_trials, seed=seed, **design_options)
    table = TrialTable.from_frame(frame)
    batch = table.to_batch()
    pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories, bounds=bounds)
    if values is None:
        values = sample_parameters(pset, batch.n_learners, seed=seed + 1)
    responses = simulate_responses(model, batch, values, seed=seed + 2)[0]
    batch = batch.with_responses(responses)
    labels = np.array(batch.categories, dtype=object)
    table.frame["response"] = batch.on_table_rows(
        labels[responses.numpy()], len(table.frame), fill=None
    )
    return table, batch, values


def parameter_recovery(
    model: Model,
    design: str = "two-gaussian",
    n_participants: int = 100,
    n_trials: int = 400,
    seed: int = 0,
    starts: int = 5,
    candidates: int | None = None,
    progress: bool = False,
    device: str = "cpu",
    dtype: str = "float64",
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    method: str = "ml",
    population: str = "full",
    chunk_size: int | None = None,
    checkpoint=None,
    scheduler: str = "local",
    dask_address: str | None = None,
    **design_options,
) -> ParameterRecovery:
    """Simulate ``n_participants`` on ``design`` with parameters drawn from the generating box,
    fit them, and summarise how well each parameter is recovered.

    ``device`` and ``dtype`` say where the fits run (:func:`catmodel.fitting.fit.fit`).
    ``bounds`` narrows the fitting box (and with it the generating box) of some parameters.
    ``method`` is the fitting method (``"ml"`` or ``"eb"``, see
    :func:`catmodel.fitting.fit.fit`); the simulated participants do not depend on it, so
    the same seed gives the same data to both. ``chunk_size``, ``checkpoint``, ``scheduler``
    and ``dask_address`` make the fit resumable and farm it out as ``fit`` does (the
    simulation is cheap and is simply repeated by a resumed run).
    """
    table, batch, true = simulate_participants(
        model, design, n_participants, n_trials, seed, bounds=bounds, **design_options
    )
    result = fit_models(
        batch,
        [model],
        starts=starts,
        candidates=candidates,
        seed=seed,
        progress=progress,
        bounds=bounds,
        ci="wald",  # the study reads estimates only (EB: the posterior intervals)
        method=method,
        population=population,
        device=device,
        dtype=dtype,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        scheduler=scheduler,
        dask_address=dask_address,
    )
    recovery, summary, corr = recovery_tables(model, batch, result.fits[0], true)
    return ParameterRecovery(
        recovery=recovery,
        summary=summary,
        correlations=corr,
        fit=result,
        table=table,
        batch=batch,
    )


def recovery_tables(
    model: Model, batch, fit: ModelFit, true: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """How well a fit recovered the parameters that generated its data.

    Parameters
    ----------
    model, batch
        The generating (and fitted) model and the simulated trials.
    fit
        The model's fit to ``batch``.
    true
        The true natural values, (n_learners,) per parameter.

    Returns
    -------
    recovery, summary, correlations
        As the attributes of :class:`ParameterRecovery`.
    """
    pset = fit.pset
    # an EB fit's point estimate is its posterior mean, the estimate with the least expected
    # squared error (what RMSE measures); the MAP, the posterior's mode, is a worse one where
    # the posterior is skewed. ML: the maximum-likelihood estimate.
    if fit.posterior_mean is not None:
        estimate, scale = "posterior mean", fit.posterior_mean
    else:
        estimate, scale = ("MAP" if fit.method == "eb" else "ML"), fit.scale
    estimates = pset.scale_to_natural(scale)
    objective = Objective(model, batch, pset)
    nll_true = objective.nll_at(np.arange(batch.n_learners), pset.natural_to_scale(true))
    rows = []
    for name in pset.free_names:
        p = pset[name]
        for i, participant in enumerate(batch.learners):
            rows.append(
                {
                    "participant": participant,
                    "parameter": name,
                    "scale": p.scale,
                    "true": true[name][i],
                    "recovered": estimates[name][i],
                    "estimate": estimate,
                    "true_scale": float(p.to_scale(true[name][i])),
                    "recovered_scale": float(p.to_scale(estimates[name][i])),
                    "nll_true": nll_true[i],
                    "nll_fit": fit.nll[i],
                }
            )
    recovery = pd.DataFrame(rows)
    within = float(np.mean(fit.nll <= nll_true + 1.0))
    summary_rows = []
    for name in pset.free_names:
        sub = recovery[recovery["parameter"] == name]
        err = sub["recovered_scale"] - sub["true_scale"]
        lo, hi = pset[name].generating_box
        summary_rows.append(
            {
                "parameter": name,
                "r": float(np.corrcoef(sub["true_scale"], sub["recovered_scale"])[0, 1]),
                "bias": float(err.mean()),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "share_within_1": within,
                "scale": pset[name].scale,
                "generating_low": float(pset[name].to_scale(lo)),
                "generating_high": float(pset[name].to_scale(hi)),
                "fitting_low": pset[name].scale_bounds[0],
                "fitting_high": pset[name].scale_bounds[1],
            }
        )
    wide = recovery.pivot(index="participant", columns="parameter", values="recovered_scale")
    corr = wide[pset.free_names].corr()
    corr.index.name = "parameter"
    return recovery, pd.DataFrame(summary_rows), corr.reset_index()
