"""Every figure that applies to a results folder, drawn and saved in one call.

A results folder is one of three kinds, told apart by its files (and ``run.json``'s ``kind``):

``fit`` (``catmodel fit``: ``fits.csv``, ``trials.csv.gz``, ``run.json``)
    ``learning_curves`` (data vs every model), ``learned_gaussians_<participant>`` (Gaussian
    fits of two-feature data), ``learned_categories_niw_<participant>`` (ideal-observer fits
    of two-feature data), ``parameters_<model>`` (one per model with free parameters) and
    ``model_comparison`` (two models or more).
``recover`` (``catmodel recover``: a fit folder plus ``recovery.csv`` and
``recovery_summary.csv``)
    ``parameter_recovery``, and the fit figures.
``model-recovery`` (``catmodel model-recovery``: ``confusion.csv``, ``inversion.csv``)
    ``model_recovery``.

Figures that do not apply (say, learned Gaussians of three-feature data) are skipped with a
message, never an error. When the figures go into a results folder (``DIR/figures``, or any
folder inside one with a catmodel ``run.json``), that folder's run record lists them among its
outputs, so that a later fit into the folder removes them with the other stale outputs.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from catmodel.errors import CatmodelError, SettingsError

FIT = "fit"
RECOVER = "recover"
MODEL_RECOVERY = "model-recovery"

#: files that mark each kind of folder
MARKERS = {
    MODEL_RECOVERY: ("confusion.csv", "inversion.csv"),
    RECOVER: ("fits.csv", "recovery.csv", "recovery_summary.csv"),
    FIT: ("fits.csv",),
}

#: image formats ``draw_figures`` writes
FORMATS = ("png", "pdf", "svg")


class NotAResultsFolder(CatmodelError):
    """The folder holds none of the results ``catmodel`` writes."""


class FigureSkipped(UserWarning):
    """A figure that does not apply to a folder was left out (the message says why)."""


def folder_kind(path: str | Path) -> str:
    """``"fit"``, ``"recover"`` or ``"model-recovery"``.

    ``run.json``'s ``kind`` decides when the folder has that kind's files; otherwise the files
    do (model recovery, then parameter recovery, then fit).

    Raises
    ------
    NotAResultsFolder
        No such folder, or none of the files of any kind.
    """
    p = Path(path)
    if not p.is_dir():
        raise NotAResultsFolder(f"{p}: no such folder")
    has = {kind: all((p / f).exists() for f in files) for kind, files in MARKERS.items()}
    recorded = _run_record(p).get("kind")
    if has.get(recorded):
        return recorded
    for kind in (MODEL_RECOVERY, RECOVER, FIT):
        if has[kind]:
            return kind
    raise NotAResultsFolder(
        f"{p}: not a catmodel results folder (expected fits.csv from `catmodel fit`, "
        "recovery.csv from `catmodel recover` or confusion.csv from `catmodel "
        "model-recovery`)"
    )


def _run_record(path: Path) -> dict:
    """The folder's run.json, or {} when it is missing or unreadable."""
    from catmodel.results import read_run_record

    return read_run_record(path)


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The formats, lower case, each one of :data:`FORMATS`."""
    out = tuple(f.strip().lower().lstrip(".") for f in formats if f.strip())
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise SettingsError(
            f"unknown figure format {bad[0] if bad else ''!r} (formats: {', '.join(FORMATS)})"
        )
    return out


def safe_name(text: str) -> str:
    """``text`` usable in a file name (anything but letters, digits, ``.-_`` becomes ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


class _Saver:
    """Saves figures under one folder in the requested formats and closes them."""

    def __init__(self, out_dir: Path, formats: tuple[str, ...]) -> None:
        self.out_dir = out_dir
        self.formats = formats
        self.written: list[Path] = []

    def __call__(self, fig, name: str) -> None:
        from catmodel.plots.style import save_and_close

        self.written += save_and_close(fig, self.out_dir / name, self.formats)


def _warn(message: str) -> None:
    warnings.warn(message, FigureSkipped, stacklevel=3)


def draw_figures(
    folder: str | Path,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "pdf"),
    participant: str | None = None,
    runs: int = 20,
    seed: int = 0,
    *,
    on_skip: Callable[[str], None] | None = None,
    device: str = "cpu",
    dtype: str = "float64",
) -> list[Path]:
    """Draw every figure that applies to a results folder and save it into ``out_dir``.

    Parameters
    ----------
    folder
        A folder written by ``catmodel fit``, ``catmodel recover`` or ``catmodel
        model-recovery`` (see the module docstring for the figures of each).
    out_dir
        Where the figures go (created when missing). When it lies inside a results folder,
        the files are added to that folder's run record (:func:`catmodel.results.
        record_outputs`).
    formats
        Image formats; every figure is written once per format.
    participant
        The participant of the learned-Gaussians figure (default: the one with the median
        NLL).
    runs
        Posterior predictive runs per participant for the learning curves (0: only the
        expected curves from the predicted probabilities).
    seed
        Seed of the posterior predictive runs.
    on_skip
        Called with a message for every figure that does not apply; default a
        :class:`FigureSkipped` warning.
    device, dtype
        Where the models of the posterior predictive runs run (a resolved device, see
        :func:`catmodel.simulate.predictive.simulate_table`).

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Raises
    ------
    NotAResultsFolder
        ``folder`` is not a results folder.
    catmodel.errors.CatmodelError
        An unknown participant, format or a negative number of runs.
    """
    from catmodel.plots.style import paper_style

    formats = check_formats(formats)
    if runs < 0:
        raise SettingsError(f"runs must be 0 or more, got {runs}")
    kind = folder_kind(folder)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save = _Saver(out, formats)
    skip = on_skip or _warn
    with paper_style():
        if kind == MODEL_RECOVERY:
            model_recovery_figures(Path(folder), save)
        else:
            from catmodel.results import read_fit_folder

            fit = read_fit_folder(folder)
            check_participant(fit, participant)
            if kind == RECOVER:
                recovery_figures(Path(folder), save)
            fit_figures(
                fit, save, skip, participant, runs, seed, {"device": device, "dtype": dtype}
            )
    record_in_results_folder(out, save.written)
    return save.written


def record_in_results_folder(out_dir: Path, written: Sequence[Path]) -> None:
    """List ``written`` among the outputs of the results folder ``out_dir`` lies in, if any."""
    from catmodel.results import enclosing_results_folder, record_outputs

    folder = enclosing_results_folder(out_dir)
    if folder is not None and written:
        record_outputs(folder, written)


def check_participant(fit, participant: str | None) -> None:
    """Raise unless ``participant`` is None or was fitted."""
    if participant is None:
        return
    known = list(dict.fromkeys(fit.fits["participant"].astype(str)))
    if str(participant) not in known:
        shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
        raise CatmodelError(
            f"no participant {participant!r} in {fit.path}/fits.csv (participants: {shown})"
        )


def fit_figures(
    fit,
    save: Callable,
    skip: Callable[[str], None],
    participant: str | None = None,
    runs: int = 20,
    seed: int = 0,
    device: Mapping[str, str] | None = None,
) -> None:
    """Learning curves, learned Gaussians, parameter distributions and model comparison
    (``device``: where the posterior predictive runs' models run, ``device`` and ``dtype``
    keys)."""
    learning_curve_figure(fit, save, skip, runs, seed, device or {})
    learned_gaussians_figure(fit, save, skip, participant)
    parameter_figures(fit, save, skip)
    comparison_figure(fit, save, skip)


def _chance(fit) -> float | None:
    categories = fit.run.get("data", {}).get("categories")
    if not categories and fit.trials is not None:
        categories = fit.trials["category"].dropna().unique()
    return 1.0 / len(categories) if categories is not None and len(categories) else None


def learning_curve_figure(
    fit,
    save: Callable,
    skip: Callable[[str], None],
    runs: int,
    seed: int,
    device: Mapping[str, str],
) -> None:
    from catmodel.plots.curves import learning_curves, plot_learning_curves

    if fit.trials is None:
        skip("learning curves: no trials.csv.gz in the folder")
        return
    curves = learning_curves(fit, runs=runs, seed=seed, **device)
    axes = plot_learning_curves(curves, chance=_chance(fit))
    save(axes.flat[0].figure, "learning_curves")


def learned_gaussians_figure(
    fit, save: Callable, skip: Callable[[str], None], participant: str | None
) -> None:
    from catmodel.plots.gaussians import (
        NotApplicable,
        learned_gaussians,
        plot_learned_gaussians,
    )

    # the Gaussian learner's units, and the ideal observer's categories beside them when fitted
    # (file prefixes that no glob of one matches the other's files)
    for name, prefix in (("gaussian", "learned_gaussians"), ("niw", "learned_categories_niw")):
        if name != "gaussian" and name not in fit.models:
            continue
        try:
            learned = learned_gaussians(fit, participant, model_name=name)
        except NotApplicable as why:
            skip(f"learned Gaussians ({name}): {why}")
            continue
        title = "Gaussian learner" if name == "gaussian" else "ideal observer (niw)"
        save(
            plot_learned_gaussians(learned, title=title),
            f"{prefix}_{safe_name(learned.participant)}",
        )


def parameter_figures(fit, save: Callable, skip: Callable[[str], None]) -> None:
    from catmodel.plots.params import (
        parameter_table,
        plot_parameter_distributions,
        registry_scales,
    )
    from catmodel.results import free_parameter_scales

    for model in fit.models:
        scales = free_parameter_scales(fit.run, model)
        if not scales and "models" not in fit.run:  # no run record: the model's defaults
            data = fit.run.get("data", {})
            scales = registry_scales(
                model, len(fit.features) or 2, len(data.get("categories", [])) or 2
            )
        table = parameter_table(fit.fits, model, scales)
        if table.empty:
            skip(f"parameters of {model}: no free parameters")
            continue
        axes = plot_parameter_distributions(table)
        save(axes[0].figure, f"parameters_{safe_name(model)}")


def comparison_figure(fit, save: Callable, skip: Callable[[str], None]) -> None:
    from catmodel.plots.comparison import comparison_tables, plot_model_comparison

    if len(fit.models) < 2:
        skip(f"model comparison: only one model ({fit.models[0]}) was fitted")
        return
    comparison, group = comparison_tables(fit)
    save(plot_model_comparison(comparison, group), "model_comparison")


def recovery_figures(path: Path, save: Callable) -> None:
    """The true-vs-recovered scatter of a parameter-recovery folder."""
    import pandas as pd

    from catmodel.plots.recovery import recovery_scatter

    recovery = pd.read_csv(path / "recovery.csv", dtype={"participant": str})
    summary = pd.read_csv(path / "recovery_summary.csv")
    axes = recovery_scatter(recovery, summary)
    save(axes[0].figure, "parameter_recovery")


def model_recovery_figures(path: Path, save: Callable) -> None:
    """The confusion and inversion heatmaps of a model-recovery folder."""
    import pandas as pd

    from catmodel.plots.recovery import model_recovery_figure

    confusion = pd.read_csv(path / "confusion.csv")
    inversion = pd.read_csv(path / "inversion.csv")
    criterion = str(_run_record(path).get("criterion", "bic"))
    save(model_recovery_figure(confusion, inversion, criterion), "model_recovery")


def save_parameter_recovery(study, folder: str | Path, record: dict) -> Path:
    """Write a parameter-recovery study's folder (:func:`catmodel.results.
    write_parameter_recovery`) with its true-vs-recovered figure (``recovery.png``/``.pdf``)."""
    from catmodel.plots.recovery import plot_parameter_recovery
    from catmodel.results import record_outputs, write_parameter_recovery

    out = write_parameter_recovery(folder, study, record)
    record_outputs(out, plot_parameter_recovery(study.recovery, study.summary, out / "recovery"))
    return out


def save_model_recovery(study, folder: str | Path, record: dict) -> Path:
    """Write a model-recovery study's folder (:func:`catmodel.results.write_model_recovery`)
    with its confusion and inversion heatmaps (``model_recovery.png``/``.pdf``)."""
    from catmodel.plots.recovery import plot_model_recovery
    from catmodel.results import record_outputs, write_model_recovery

    out = write_model_recovery(folder, study, record)
    written = plot_model_recovery(
        study.confusion, study.inversion, out / "model_recovery", criterion=study.criterion
    )
    record_outputs(out, written)
    return out
