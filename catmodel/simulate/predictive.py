"""Simulated data sets: new participants on a design, or posterior predictive runs of fits.

Both write the trial schema the loader reads, so a simulated file fits back end to end.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from catmodel.data.batch import Standardization
from catmodel.data.trials import TrialTable
from catmodel.errors import CatmodelError, SettingsError
from catmodel.models.base import Model
from catmodel.models.params import ParameterSet
from catmodel.simulate.designs import make_design
from catmodel.simulate.simulate import simulate_responses

#: columns of a simulated file, in order (features go after ``block``)
LEAD = ("participant", "trial", "block")
TRAIL = ("category", "response", "feedback", "condition", "phase", "run")


def complete_values(
    model: Model, n_features: int, n_categories: int, given: Mapping[str, float]
) -> dict[str, float]:
    """Every parameter's value: the given ones, the model's defaults for the rest."""
    params = model.params(n_features, n_categories)
    names = {p.name for p in params}
    unknown = sorted(set(given) - names)
    if unknown:
        raise SettingsError(
            f"model {model.name!r} has no parameter {unknown[0]!r} "
            f"(parameters: {', '.join(sorted(names))})"
        )
    return {p.name: float(given.get(p.name, p.default)) for p in params}


def simulate_table(
    table: TrialTable,
    model: Model,
    values: Mapping[str, object],
    seed: int,
    runs: int = 1,
    standardization: Standardization | bool = True,
    device: str = "cpu",
    dtype: str = "float64",
) -> pd.DataFrame:
    """Responses of ``model`` on the trials of ``table`` (each learner its own sequence).

    Parameters
    ----------
    values
        Natural-scale parameters: scalars, or arrays with one value per learner.
    runs
        Independent simulated runs per learner; the output has a ``run`` column (1-based).
    standardization
        How the model sees the features (a fit's recorded map, or ``True`` to standardise
        over ``table``).
    device, dtype
        Where the model runs (a resolved device: ``"cpu"``, the compiled kernels in float64, or
        ``"cuda"``, the PyTorch step) and in which precision; the responses are drawn on the
        CPU from the same seed either way.
    """
    batch = table.to_batch(standardize=standardization)
    if device != "cpu" or dtype != "float64":
        batch = batch.to(device=device, dtype=getattr(torch, dtype))
    draws = simulate_responses(model, batch, values, seed=seed, n_runs=runs).numpy()
    labels = np.array(batch.categories, dtype=object)
    frames = []
    for r in range(runs):
        frame = table.frame.copy()
        frame["response"] = batch.on_table_rows(labels[draws[r]], len(frame), fill=None)
        frame["run"] = r + 1
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    features = list(table.features)
    cols = [c for c in (*LEAD, *features, *TRAIL) if c in out.columns]
    if "learner" in out and not (out["learner"] == out["participant"]).all():
        cols.insert(1, "learner")
    return out[cols]


def simulate_design(
    model: Model,
    design: str,
    n_participants: int,
    seed: int,
    values: Mapping[str, float] | None = None,
    n_trials: int | None = None,
    n_blocks: int | None = None,
    draw: bool = False,
    device: str = "cpu",
    dtype: str = "float64",
    **design_options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate ``n_participants`` new participants of ``model`` on ``design``.

    Parameters
    ----------
    values
        Parameter values shared by all participants (the model's defaults for the rest).
    draw
        Instead, draw each participant's free parameters uniformly (scale coordinates) over the
        model's generating box — as the recovery studies do; ``values`` then fixes some.
    device, dtype
        Where the model runs (:func:`simulate_table`).

    Returns
    -------
    trials, parameters
        The simulated trials, and each participant's true parameters.
    """
    frame = make_design(
        design, n_participants, n_trials, seed=seed, n_blocks=n_blocks, **design_options
    )
    table = TrialTable.from_frame(frame)
    n_features, n_categories = len(table.features), len(table.categories)
    full = complete_values(model, n_features, n_categories, values or {})
    if draw:
        from catmodel.simulate.simulate import sample_parameters

        pset = ParameterSet.for_model(
            model, n_features, n_categories, fix={k: v for k, v in (values or {}).items()}
        )
        full = sample_parameters(pset, table.n_learners, seed=seed + 2)
    simulated = simulate_table(table, model, full, seed=seed + 1, device=device, dtype=dtype)
    out = with_design_columns(simulated, frame)
    params = pd.DataFrame(
        {
            "participant": table.learners,
            **{k: np.broadcast_to(v, table.n_learners) for k, v in full.items()},
        }
    )
    return out.drop(columns=["run"]), params


def with_design_columns(simulated: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """``simulated`` with the design's own columns that the trial schema does not hold (such as
    the distortion design's ``item_type``), matched by participant and trial."""
    extra = [c for c in design.columns if c not in simulated.columns]
    if not extra:
        return simulated
    keys = ["participant", "trial"]
    return simulated.merge(design[keys + extra], on=keys, how="left", validate="m:1")


def fitted_values(
    fits: pd.DataFrame, model: Model, learners: list[str], n_features: int, n_categories: int
) -> dict[str, np.ndarray]:
    """Per-learner natural values of a model's parameters from a fits table, in order."""
    sub = fits[fits["model"] == model.name].set_index("participant")
    missing = [p for p in learners if p not in sub.index]
    if missing:
        raise CatmodelError(f"fits.csv has no {model.name} fit for participant {missing[0]!r}")
    pset = ParameterSet.for_model(model, n_features, n_categories)
    return {name: sub.loc[learners, name].to_numpy(dtype=float) for name in pset.names}


def posterior_predictive(
    folder,
    model_name: str,
    runs: int = 20,
    seed: int = 0,
    device: str = "cpu",
    dtype: str = "float64",
) -> pd.DataFrame:
    """Simulate each fitted participant on their own stimuli and feedback, ``runs`` times.

    ``folder`` is a :class:`~catmodel.results.FitFolder`; the model sees the features exactly
    as it did when fitted (the recorded standardisation). ``device`` and ``dtype``: where the
    model runs (:func:`simulate_table`).
    """
    if folder.trials is None:
        raise CatmodelError(f"{folder.path}: no trials.csv.gz to simulate on")
    model = folder.model(model_name)
    table = fitted_table(folder)
    values = fitted_values(
        folder.fits, model, list(table.learners), len(table.features), len(table.categories)
    )
    std = folder.standardization or True
    return simulate_table(
        table, model, values, seed=seed, runs=runs, standardization=std, device=device, dtype=dtype
    )


def fitted_on_design(
    folder,
    model_name: str,
    design: str,
    seed: int = 0,
    n_trials: int | None = None,
    n_blocks: int | None = None,
    runs: int = 1,
    device: str = "cpu",
    dtype: str = "float64",
    **design_options,
) -> pd.DataFrame:
    """Each fitted participant's parameters on a fresh stimulus sequence of ``design``.

    What these participants would do in another task: participant ``i`` of the fit gets the
    ``i``-th simulated sequence of the design (its own participant id is kept). The design's
    features are standardised over the simulated data, as a fit of them would be.
    ``device`` and ``dtype``: where the model runs (:func:`simulate_table`).
    """
    model = folder.model(model_name)
    learners = list(
        dict.fromkeys(folder.fits.loc[folder.fits["model"] == model_name, "participant"])
    )
    frame = make_design(
        design, len(learners), n_trials, seed=seed, n_blocks=n_blocks, **design_options
    )
    ids = dict(zip(dict.fromkeys(frame["participant"]), learners, strict=True))
    frame["participant"] = frame["participant"].map(ids)
    table = TrialTable.from_frame(frame)
    values = fitted_values(
        folder.fits, model, list(table.learners), len(table.features), len(table.categories)
    )
    return simulate_table(
        table, model, values, seed=seed + 1, runs=runs, device=device, dtype=dtype
    )


def fitted_table(folder) -> TrialTable:
    """The trial table a fit folder recorded, as a :class:`TrialTable`."""
    frame = folder.trials.drop(columns=[c for c in folder.trials.columns if c.startswith("p_")])
    return TrialTable.from_frame(frame, features=folder.features)
