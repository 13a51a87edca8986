"""Model recovery: can the comparison tell the models apart at all?

Participants are simulated from each model (parameters drawn over each model's documented
generating box), every model is fitted to every simulated participant, and the best model by
the criterion is tallied. The confusion matrix p(best fit | generating model) shows whether a
model's data are recognised as its own; the inversion matrix p(generating model | best fit) is
what a reader of a model comparison needs: given that a model wins, how likely it generated the
data (Wilson & Collins 2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel import interrupt
from catmodel.compare.criteria import per_participant
from catmodel.compare.recovery import simulate_participants
from catmodel.fitting.fit import fit as fit_models
from catmodel.fitting.units import plan_units
from catmodel.models.base import Model


@dataclass
class ModelRecovery:
    """Confusion and inversion matrices, and the per-participant comparison behind them."""

    confusion: pd.DataFrame
    inversion: pd.DataFrame
    comparison: pd.DataFrame
    fits: pd.DataFrame
    criterion: str


def model_recovery(
    models: Sequence[Model],
    design: str = "ii",
    n_participants: int = 30,
    n_trials: int = 300,
    criterion: str = "bic",
    seed: int = 0,
    starts: int = 5,
    candidates: int | None = None,
    progress: bool = False,
    method: str = "ml",
    population: str = "full",
    device: str = "cpu",
    dtype: str = "float64",
    chunk_size: int | None = None,
    checkpoint=None,
    scheduler: str = "local",
    dask_address: str | None = None,
    **design_options,
) -> ModelRecovery:
    """Simulate from each model, fit all models, and tabulate the winners.

    Each generating model gets its own simulated participants (seeded by ``seed`` and the
    model's position), on fresh stimulus sequences of ``design``; they do not depend on
    ``method``. With ``method="eb"`` every model is fitted by empirical Bayes (to each
    generating model's participants as one group) and each participant's winner is the
    model with the highest Laplace log evidence (the study's criterion is then
    ``"log_evidence"``). ``device`` and ``dtype`` say where the fits run
    (:func:`catmodel.fitting.fit.fit`). ``chunk_size``, ``checkpoint`` (a
    :class:`~catmodel.fitting.checkpoint.Checkpoint`: each generating model's fit keeps its
    units in its own part of it), ``scheduler`` and ``dask_address`` make the study resumable
    and farm its units out as ``fit`` does.
    """
    names = [m.name for m in models]
    per_fit = len(plan_units(names, n_participants, chunk_size or max(n_participants, 1)))
    all_fits = []
    for g, generator in enumerate(models):
        if checkpoint is not None:  # Ctrl-C counts the study's units, not one fit's
            interrupt.set_study(g * per_fit, len(models) * per_fit)
        _, batch, _ = simulate_participants(
            generator, design, n_participants, n_trials, seed=seed + 1000 * g, **design_options
        )
        # estimates only: the cheap Wald intervals, not the profile
        result = fit_models(
            batch,
            list(models),
            starts=starts,
            candidates=candidates,
            seed=seed,
            progress=progress,
            device=device,
            dtype=dtype,
            ci="wald",
            method=method,
            population=population,
            chunk_size=chunk_size,
            checkpoint=None if checkpoint is None else checkpoint.part(f"g{g:03d}-"),
            scheduler=scheduler,
            dask_address=dask_address,
        )
        frame = result.to_frame()
        frame["generating"] = generator.name
        frame["participant"] = generator.name + ":" + frame["participant"].astype(str)
        all_fits.append(frame)
    fits = pd.concat(all_fits, ignore_index=True)
    comparison = per_participant(fits.drop(columns=["generating"]), criterion=criterion)
    if method == "eb":
        comparison = _best_by_evidence(comparison, fits)
        criterion = "log_evidence"
    generating = fits.drop_duplicates("participant").set_index("participant")["generating"]
    best = comparison[comparison["best"]].set_index("participant")["model"]
    counts = pd.crosstab(generating.loc[best.index], best).reindex(
        index=names, columns=names, fill_value=0
    )
    confusion = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    inversion = counts.div(counts.sum(axis=0).replace(0, np.nan), axis=1)
    return ModelRecovery(
        confusion=_tidy(confusion),
        inversion=_tidy(inversion),
        comparison=comparison,
        fits=fits,
        criterion=criterion,
    )


def _best_by_evidence(comparison: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """The comparison with ``log_evidence`` added and ``best`` marking each participant's
    model of highest log evidence (the first listed on a tie)."""
    evidence = fits.set_index(["participant", "model"])["log_evidence"]
    out = comparison.copy()
    keys = pd.MultiIndex.from_frame(out[["participant", "model"]])
    out["log_evidence"] = evidence.reindex(keys).to_numpy(dtype=float)
    winners = out.groupby("participant", sort=False)["log_evidence"].idxmax()  # first on a tie
    out["best"] = out.index.isin(winners)
    return out


def _tidy(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rows: generating model (first column ``generating``); columns: best-fitting model."""
    out = matrix.copy()
    out.index.name = "generating"
    out.columns.name = None
    return out.reset_index()
