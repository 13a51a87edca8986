"""Results folders: what ``catmodel fit`` writes and what later commands read back.

A fit folder holds

* ``fits.csv`` — one row per participant x model: parameters, standard errors (scale
  coordinates), NLL, AIC, BIC, number of parameters and of trials, convergence, parameters at a
  bound, and the condition when the data have one;
* ``starts.csv`` — the NLL reached from every start;
* ``trials.csv.gz`` — the normalised trial table that was fitted, with each trial's predicted
  probability of every response under each model's best fit (``p_<model>_<label>``);
* ``run.json`` — command, settings, model settings and boxes, the feature standardisation,
  package versions and a hash of the data.

Every file is written atomically, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from catmodel.atomic import atomic_open, write_csv
from catmodel.data.batch import Standardization
from catmodel.errors import CatmodelError
from catmodel.fitting.result import FitResult, ModelFit
from catmodel.simulate.curves import probability_column

FITS = "fits.csv"
STARTS = "starts.csv"
TRIALS = "trials.csv.gz"
RUN = "run.json"


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that determine the numbers."""
    import numba
    import numpy
    import pandas
    import scipy
    import torch

    import catmodel

    return {
        "catmodel": catmodel.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
    }


def frame_hash(frame) -> str:
    """SHA-256 of a table's CSV text: the same data give the same hash."""
    text = frame.to_csv(index=False).encode()
    return hashlib.sha256(text).hexdigest()


def write_run_record(out_dir: Path, record: dict) -> Path:
    """Write ``run.json``: command, settings, versions, time (atomically)."""
    full = {
        "command": " ".join(["catmodel", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
        **record,
    }
    path = Path(out_dir) / RUN
    with atomic_open(path) as fh:
        json.dump(full, fh, indent=2, default=_json_default)
        fh.write("\n")
    return path


def _json_default(value):
    import numpy as np

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def predicted_probabilities(fit: ModelFit, batch) -> torch.Tensor:
    """Response probabilities (L, T, K) of every learner under its best-fitting parameters."""
    from catmodel.simulate.simulate import response_probabilities

    return response_probabilities(fit.model, batch, fit.values)


def trials_with_predictions(table, batch, result: FitResult) -> pd.DataFrame:
    """The fitted trial table with one probability column per model and response label."""
    frame = table.frame.copy()
    for fit in result.fits:
        probs = predicted_probabilities(fit, batch).cpu().numpy()
        for k, label in enumerate(batch.categories):
            frame[probability_column(fit.name, label)] = batch.on_table_rows(
                probs[..., k], len(frame)
            )
    return frame


def write_fit_folder(out_dir: str | Path, table, batch, result: FitResult, record: dict) -> Path:
    """Write fits.csv, starts.csv, trials.csv.gz and run.json into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result.to_frame(), out / FITS)
    write_csv(result.starts_frame(), out / STARTS)
    write_csv(trials_with_predictions(table, batch, result), out / TRIALS)
    models = {
        f.name: {
            "settings": f.model.settings,
            "parameters": f.pset.describe(),
            "seconds": round(f.seconds, 2),
            "evaluations": f.evaluations,
            **f.info,
        }
        for f in result.fits
    }
    write_run_record(
        out,
        {
            "kind": "fit",
            "data": {
                "source": table.source,
                "learners": table.n_learners,
                "trials": table.n_trials,
                "features": list(table.features),
                "categories": [str(c) for c in table.categories],
                "sha256": frame_hash(
                    table.frame.drop(columns=["source_file", "source_row"], errors="ignore")
                ),
                "notes": list(table.notes),
            },
            "standardization": {
                "mean": list(batch.standardization.mean),
                "sd": list(batch.standardization.sd),
            },
            "fitting": result.settings,
            "models": models,
            **record,
        },
    )
    return out


@dataclass
class FitFolder:
    """A fit results folder read back."""

    path: Path
    fits: pd.DataFrame
    starts: pd.DataFrame | None
    trials: pd.DataFrame | None
    run: dict

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(self.fits["model"]))

    @property
    def features(self) -> list[str]:
        return list(self.run.get("data", {}).get("features", []))

    @property
    def standardization(self) -> Standardization | None:
        s = self.run.get("standardization")
        if not s:
            return None
        return Standardization(mean=tuple(s["mean"]), sd=tuple(s["sd"]))

    def model(self, name: str):
        """The fitted model with the settings it was fitted with."""
        from catmodel.models.registry import get_model

        settings = dict(self.run.get("models", {}).get(name, {}).get("settings", {}))
        if "sd_band" in settings and settings["sd_band"] is not None:
            settings["sd_band"] = tuple(settings["sd_band"])
        return get_model(name, **settings)


def free_parameter_scales(run: dict, model: str) -> dict[str, str]:
    """``{parameter: scale}`` of ``model``'s free parameters, from a run record (run.json).

    Parameters
    ----------
    run
        The run record; its ``models[model]["parameters"]["free"]`` maps names to boxes with
        a ``scale`` (``"log"``, ``"linear"`` or ``"logit"``).
    model
        The model's name.

    Returns
    -------
    dict
        Empty when the record does not describe the model.
    """
    free = run.get("models", {}).get(model, {}).get("parameters", {}).get("free", {})
    return {name: str(box.get("scale", "linear")) for name, box in free.items()}


def read_fit_folder(path: str | Path) -> FitFolder:
    """Read a folder written by :func:`write_fit_folder`; missing optional files are None."""
    p = Path(path)
    if not (p / FITS).exists():
        raise CatmodelError(f"{p}: not a fit results folder (no {FITS})")
    fits = pd.read_csv(p / FITS, dtype={"participant": str})
    starts = pd.read_csv(p / STARTS, dtype={"participant": str}) if (p / STARTS).exists() else None
    trials = (
        pd.read_csv(p / TRIALS, dtype={"participant": str, "learner": str})
        if (p / TRIALS).exists()
        else None
    )
    run = json.loads((p / RUN).read_text()) if (p / RUN).exists() else {}
    return FitFolder(path=p, fits=fits, starts=starts, trials=trials, run=run)


def write_parameter_recovery(folder: str | Path, study, record: dict) -> Path:
    """Write a parameter-recovery study (:class:`~catmodel.compare.recovery.ParameterRecovery`)
    as a ``catmodel recover`` folder: the fit folder's files (``record`` in its run.json),
    recovery.csv, recovery_summary.csv and recovery_correlations.csv."""
    out = write_fit_folder(
        folder, study.table, study.batch, study.fit, {"kind": "recover", **record}
    )
    write_csv(study.recovery, out / "recovery.csv")
    write_csv(study.summary, out / "recovery_summary.csv")
    write_csv(study.correlations, out / "recovery_correlations.csv")
    return out


def write_model_recovery(folder: str | Path, study, record: dict) -> Path:
    """Write a model-recovery study (:class:`~catmodel.compare.model_recovery.ModelRecovery`):
    confusion.csv, inversion.csv, the per-participant comparison and fits, and run.json."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(study.confusion, out / "confusion.csv")
    write_csv(study.inversion, out / "inversion.csv")
    write_csv(study.comparison, out / "model_recovery_comparison.csv")
    write_csv(study.fits, out / "model_recovery_fits.csv")
    write_run_record(out, {"kind": "model-recovery", "criterion": study.criterion, **record})
    return out
