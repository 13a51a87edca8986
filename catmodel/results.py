"""Results folders: what ``catmodel fit`` writes and what later commands read back.

A fit folder holds

* ``fits.csv`` — one row per participant x model: parameters, standard errors on the scale each
  parameter is searched on (``se_log10_<p>``, ``se_logit_<p>``, ``se_<p>``), confidence
  intervals on the natural scale (``ci_low_<p>``, ``ci_high_<p>``; ``ci_at_edge`` for profile
  intervals), NLL, AIC, BIC, number of parameters and of trials, convergence (empty where it
  is unknown), parameters at a bound, and the condition when the data have one;
* ``starts.csv`` — the NLL reached from every start;
* ``population.csv`` — with empirical Bayes: each model's population (per condition with
  ``--population-by condition``), mean and sd on the search scale, the natural-scale median
  and the mean's standard error;
* ``trials.csv.gz`` — the normalised trial table that was fitted, with each trial's predicted
  probability of every response under each model's best fit (``p_<model>_<label>``);
* ``run.json`` — command, settings (with the parameter overrides as given), model settings and
  boxes, the feature standardisation, package versions, a hash of the data, and ``outputs``:
  every file catmodel wrote into the folder (paths relative to it).

Every file is written atomically, so an interrupted run never leaves a half-written file.

Writing into an existing folder: ``catmodel compare`` and ``catmodel figures`` add the files they
write to ``run.json``'s ``outputs``. The commands that write a fresh run record (``fit``,
``recover``, ``model-recovery``) then remove the outputs of earlier runs that they did not rewrite
(:func:`remove_stale_outputs`), since those describe fits that are gone; files the record does not
list (a user's notes, a log) are never touched, and without a readable run.json nothing is removed.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd
import torch

from catmodel.atomic import atomic_open, write_csv
from catmodel.data.batch import Standardization
from catmodel.errors import CatmodelError
from catmodel.fitting.result import FitResult, ModelFit, as_nullable_boolean
from catmodel.models.params import ParameterSet
from catmodel.simulate.curves import probability_column

FITS = "fits.csv"
POPULATION = "population.csv"
STARTS = "starts.csv"
TRIALS = "trials.csv.gz"
RUN = "run.json"
#: the run record's list of the files catmodel wrote into the folder
OUTPUTS = "outputs"


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


def data_hash(table) -> str:
    """SHA-256 of a trial table's data (:func:`frame_hash`), leaving out where each row came
    from: the same trials read from another file name hash the same."""
    return frame_hash(table.frame.drop(columns=["source_file", "source_row"], errors="ignore"))


def finished_run(folder: str | Path, identity: str) -> str | None:
    """Whether ``folder`` holds the finished results of the run whose identity hash is
    ``identity`` (``"same"``: its run.json records that identity and every output it lists
    exists), of another run (``"other"``), or no recognisable run (None)."""
    record = read_run_record(folder)
    recorded = record.get("identity")
    if not recorded:
        return None
    if recorded != identity:
        return "other"
    outputs = record.get(OUTPUTS) or []
    return "same" if all((Path(folder) / name).is_file() for name in outputs) else None


def write_run_record(out_dir: Path, record: dict, outputs: Sequence[str] = ()) -> Path:
    """Write ``run.json``: command, settings, versions, time and outputs (atomically).

    Parameters
    ----------
    out_dir
        The results folder.
    record
        What the run wants recorded (kind, data, settings, ...).
    outputs
        The files this run wrote into ``out_dir``, relative to it; ``run.json`` itself is
        added. Later commands add theirs with :func:`record_outputs`.
    """
    full = {
        "command": " ".join(["catmodel", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
        **record,
        OUTPUTS: _unique([*map(_posix_name, outputs), RUN]),
    }
    return _write_json(Path(out_dir) / RUN, full)


def _write_json(path: Path, record: dict) -> Path:
    with atomic_open(path) as fh:
        json.dump(record, fh, indent=2, default=_json_default)
        fh.write("\n")
    return path


def read_run_record(folder: str | Path) -> dict:
    """A folder's ``run.json``, or ``{}`` when it is missing, unreadable or not a JSON object."""
    try:
        record = json.loads((Path(folder) / RUN).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def recorded_outputs(folder: str | Path) -> list[str]:
    """The files the folder's run record lists as catmodel's outputs (relative paths).

    Entries that are not plain relative paths inside the folder (absolute, or with ``..``)
    are ignored, so a hand-edited record can never point outside the folder. Empty when the
    record is missing or unreadable.
    """
    listed = read_run_record(folder).get(OUTPUTS, [])
    if not isinstance(listed, list):
        return []
    return _unique(name for name in listed if _is_inside_name(name))


def record_outputs(folder: str | Path, paths: Iterable[str | Path]) -> bool:
    """Add files written into ``folder`` (or below it) to its run record's outputs.

    Parameters
    ----------
    folder
        A results folder.
    paths
        The files written (paths as written, e.g. ``folder / "comparison.csv"``); files
        outside ``folder`` are left out.

    Returns
    -------
    bool
        False, and nothing changed, when the folder has no readable run record.
    """
    record = read_run_record(folder)
    if not record:
        return False
    root = Path(folder).resolve()
    names = [_name_inside(Path(p), root) for p in paths]
    known = recorded_outputs(folder)
    record[OUTPUTS] = _unique([*known, *(n for n in names if n is not None)])
    _write_json(Path(folder) / RUN, record)
    return True


def remove_stale_outputs(folder: str | Path, previous: Iterable[str]) -> list[Path]:
    """Remove the outputs an earlier run recorded that the latest run did not rewrite.

    Parameters
    ----------
    folder
        A results folder whose run record was just written by a new run.
    previous
        :func:`recorded_outputs` of the folder before the new run wrote anything.

    Returns
    -------
    list of pathlib.Path
        The files removed: those in ``previous`` but not in the new record's outputs that
        are regular files inside ``folder``. Nothing is removed when the new record is
        unreadable, and folders, links and unrecorded files are never touched.
    """
    if OUTPUTS not in read_run_record(folder):
        return []
    keep = set(recorded_outputs(folder))
    root = Path(folder).resolve()
    removed = []
    for name in previous:
        path = Path(folder) / name
        if name in keep or not _is_inside_name(name) or not _removable(path, root):
            continue
        path.unlink()
        removed.append(path)
    return removed


def enclosing_results_folder(path: str | Path) -> Path | None:
    """The nearest folder at or above ``path`` whose run.json is a catmodel run record.

    None when the nearest run.json above ``path`` is not one (or there is none).
    """
    here = Path(path).resolve()
    for folder in (here, *here.parents):
        if (folder / RUN).exists():
            return folder if "kind" in read_run_record(folder) else None
    return None


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _is_inside_name(name) -> bool:
    """A recorded output must be a relative path that stays inside the folder."""
    if not isinstance(name, str) or not name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name


def _posix_name(name: str | Path) -> str:
    """A name relative to the folder, written with ``/`` on every platform."""
    return PurePosixPath(*Path(name).parts).as_posix()


def _name_inside(path: Path, root: Path) -> str | None:
    """The file ``path`` relative to the folder ``root``, or None when it lies outside."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def _removable(path: Path, root: Path) -> bool:
    """A regular file (not a link) that resolves to a place inside ``root``."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


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


def write_fit_folder(
    out_dir: str | Path,
    table,
    batch,
    result: FitResult,
    record: dict,
    *,
    fitting: Mapping[str, object] | None = None,
) -> Path:
    """Write fits.csv, starts.csv, trials.csv.gz and run.json into ``out_dir``.

    Parameters
    ----------
    out_dir
        The results folder (created when missing).
    table, batch
        The fitted trials, as a table and as the batch the models saw.
    result
        The fits.
    record
        Further top-level entries of the run record.
    fitting
        Further entries of the record's ``fitting`` section, beside the search settings
        of ``result``: e.g. the parameter overrides as given (``fix``, ``free``,
        ``bounds``) and whether the features were standardised.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result.to_frame(), out / FITS)
    write_csv(result.starts_frame(), out / STARTS)
    write_csv(trials_with_predictions(table, batch, result), out / TRIALS)
    written = [FITS, STARTS, TRIALS]
    population = result.population_frame()
    if population is not None:
        write_csv(population, out / POPULATION)
        written.append(POPULATION)
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
                "sha256": data_hash(table),
                "notes": list(table.notes),
            },
            "standardization": {
                "mean": list(batch.standardization.mean),
                "sd": list(batch.standardization.sd),
            },
            "fitting": {**result.settings, **dict(fitting or {})},
            "models": models,
            **record,
        },
        outputs=written,
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

    def parameter_set(self, name: str, n_features: int, n_categories: int) -> ParameterSet:
        """The free parameters, boxes and fixed values the model was fitted with.

        Rebuilt from the run record's description of the fit (``models[name]["parameters"]``),
        so a refit (cross-validation) keeps the fit's ``--fix``, ``--free`` and ``--bounds``.

        Raises
        ------
        CatmodelError
            The run record does not describe the model's parameters, or describes others
            than the model has.
        """
        return recorded_parameter_set(
            self.run, self.model(name), n_features, n_categories, where=self.path / RUN
        )


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


def recorded_parameter_set(
    run: dict, model, n_features: int, n_categories: int, where: str | Path = RUN
) -> ParameterSet:
    """A model's :class:`ParameterSet` as a run record describes it (see
    :meth:`FitFolder.parameter_set`; ``where`` names the record in error messages)."""
    described = run.get("models", {}).get(model.name, {}).get("parameters")
    if not isinstance(described, dict) or not {"free", "fixed"} <= set(described):
        raise CatmodelError(
            f"{where} does not record the parameters {model.name} was fitted with; "
            "refit the folder with this version of catmodel"
        )
    free, fixed = described["free"], described["fixed"]
    params = model.params(n_features, n_categories)
    names = {p.name for p in params}
    if set(free) | set(fixed) != names or set(free) & set(fixed):
        raise CatmodelError(
            f"{where}: the recorded parameters of {model.name} ({', '.join(sorted(free))} free) "
            f"do not match the model's ({', '.join(sorted(names))})"
        )
    boxes = [
        p.with_bounds(free[p.name]["lower"], free[p.name]["upper"]) if p.name in free else p
        for p in params
    ]
    return ParameterSet(boxes, {name: float(value) for name, value in fixed.items()})


def read_fit_folder(path: str | Path) -> FitFolder:
    """Read a folder written by :func:`write_fit_folder`; missing optional files are None."""
    p = Path(path)
    if not (p / FITS).exists():
        raise CatmodelError(f"{p}: not a fit results folder (no {FITS})")
    fits = pd.read_csv(p / FITS, dtype={"participant": str})
    if "converged" in fits:
        # empty cells are fits whose convergence is unknown (one start): keep them missing
        fits["converged"] = as_nullable_boolean(fits["converged"])
    starts = pd.read_csv(p / STARTS, dtype={"participant": str}) if (p / STARTS).exists() else None
    trials = (
        pd.read_csv(p / TRIALS, dtype={"participant": str, "learner": str})
        if (p / TRIALS).exists()
        else None
    )
    try:
        run = json.loads((p / RUN).read_text()) if (p / RUN).exists() else {}
    except ValueError:
        raise CatmodelError(f"{p / RUN}: not valid JSON (the folder's run record)") from None
    return FitFolder(path=p, fits=fits, starts=starts, trials=trials, run=run)


def write_parameter_recovery(folder: str | Path, study, record: dict) -> Path:
    """Write a parameter-recovery study (:class:`~catmodel.compare.recovery.ParameterRecovery`)
    as a ``catmodel recover`` folder: the fit folder's files (``record`` in its run.json),
    recovery.csv, recovery_summary.csv and recovery_correlations.csv."""
    out = write_fit_folder(
        folder, study.table, study.batch, study.fit, {"kind": "recover", **record}
    )
    tables = {
        "recovery.csv": study.recovery,
        "recovery_summary.csv": study.summary,
        "recovery_correlations.csv": study.correlations,
    }
    record_outputs(out, [write_csv(frame, out / name) for name, frame in tables.items()])
    return out


def write_model_recovery(folder: str | Path, study, record: dict) -> Path:
    """Write a model-recovery study (:class:`~catmodel.compare.model_recovery.ModelRecovery`):
    confusion.csv, inversion.csv, the per-participant comparison and fits, and run.json."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "confusion.csv": study.confusion,
        "inversion.csv": study.inversion,
        "model_recovery_comparison.csv": study.comparison,
        "model_recovery_fits.csv": study.fits,
    }
    for name, frame in tables.items():
        write_csv(frame, out / name)
    write_run_record(
        out, {"kind": "model-recovery", "criterion": study.criterion, **record}, outputs=tables
    )
    return out
