"""Learning curves of a fit: the data's accuracy by block beside each model's.

The numbers come from :mod:`catmodel.simulate.curves` (per participant first, then across
participants, so that everyone weighs the same); this module gathers them for a fit folder
(:func:`learning_curves`) and draws them (:func:`plot_learning_curves`).

Each model gets its own panel, drawn over the data's curve:

* **data** — black, with the 95% confidence interval across participants;
* **simulated** — the posterior predictive curve (each participant re-run ``runs`` times with
  their best parameters on their own stimuli and feedback), with the band that holds 95% of
  the simulated group curves (what a replication with these participants could show);
* **expected** — dashed: the mean predicted probability of the correct response on the
  participant's own trials (the model following the participant's actual history).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from catmodel.plots.style import PALETTE
from catmodel.simulate.curves import (
    accuracy_by_block,
    curves_table,
    expected_accuracy_by_block,
    group_curve,
    predictive_curves,
)

#: the three kinds of curve in a :func:`learning_curves` table
KINDS = ("data", "simulated", "expected")

#: number of blocks made when the trials have no block column
DEFAULT_BLOCKS = 10

DATA_COLOR = "0.15"


def unit_column(frame: pd.DataFrame) -> str:
    """The column that identifies a fitted learner: ``learner`` when present, else
    ``participant`` (fits are per learner, so curves average over the same units)."""
    return "learner" if "learner" in frame.columns else "participant"


def condition_column(frame: pd.DataFrame) -> str | None:
    """``"condition"`` when the trials have a condition, else None."""
    if "condition" in frame.columns and frame["condition"].notna().any():
        return "condition"
    return None


def has_blocks(frame: pd.DataFrame) -> bool:
    """Whether every trial has a block number."""
    return "block" in frame.columns and bool(frame["block"].notna().all())


def default_block_size(frame: pd.DataFrame, keys: Sequence[str]) -> int:
    """Trials per block that give the longest learner (``keys``) :data:`DEFAULT_BLOCKS`
    blocks."""
    longest = int(frame.groupby(list(keys), sort=False).size().max()) if len(frame) else 1
    return max(1, math.ceil(longest / DEFAULT_BLOCKS))


def with_blocks(
    frame: pd.DataFrame, keys: Sequence[str], block_size: int | None = None
) -> pd.DataFrame:
    """``frame`` with a usable ``block`` column.

    Trials without a block number get consecutive blocks of ``block_size`` trials per learner
    (``keys``), by default :func:`default_block_size`.
    """
    if has_blocks(frame):
        return frame
    if block_size is None:
        block_size = default_block_size(frame, keys)
    position = frame.groupby(list(keys), sort=False).cumcount()
    out = frame.copy()
    out["block"] = position // block_size + 1
    return out


def _tagged(curves: dict[str, pd.DataFrame], kind: str, by: list[str]) -> pd.DataFrame:
    table = curves_table(None, curves, by or None)
    table.insert(1, "kind", kind)
    return table


def learning_curves(
    folder,
    runs: int = 20,
    seed: int = 0,
    ci: float = 0.95,
    interval: float = 0.95,
    models: Sequence[str] | None = None,
    device: str = "cpu",
    dtype: str = "float64",
) -> pd.DataFrame:
    """The data's and every model's learning curve of a fit folder, in one long table.

    Parameters
    ----------
    folder
        A :class:`~catmodel.results.FitFolder` with its ``trials.csv.gz``.
    runs
        Posterior predictive runs per participant and model; 0 leaves the simulated curves
        out.
    seed
        Seed of the simulated runs.
    ci
        Level of the confidence intervals across participants.
    interval
        Level of the predictive interval of the simulated curves.
    models
        The models to include (default: every model of the folder).
    device, dtype
        Where the simulated runs' models run (a resolved device, see
        :func:`catmodel.simulate.predictive.simulate_table`).

    Returns
    -------
    pandas.DataFrame
        ``source`` (``"data"`` or the model), ``kind`` (one of :data:`KINDS`), ``block``,
        ``condition`` when the data have one, ``mean``, ``ci_low``, ``ci_high``, ``n``
        (participants), ``pi_low`` and ``pi_high`` (simulated curves only).
    """
    from catmodel.simulate.predictive import posterior_predictive

    trials = folder.trials
    unit = unit_column(trials)
    # simulated runs must be cut into the same blocks as the data
    size = None if has_blocks(trials) else default_block_size(trials, [unit])
    trials = with_blocks(trials, [unit], size)
    by = [c for c in [condition_column(trials)] if c]
    models = list(folder.models if models is None else models)

    data = group_curve(
        accuracy_by_block(trials, group=by, participant=unit), by, ci, participant=unit
    )
    parts = [_tagged({"data": data}, "data", by)]
    if runs > 0:
        simulated = {}
        for name in models:
            sim = posterior_predictive(
                folder, name, runs=runs, seed=seed, device=device, dtype=dtype
            )
            sim_unit = unit_column(sim)
            sim = with_blocks(sim, [sim_unit, "run"], size)
            simulated[name] = predictive_curves(
                sim, group=by, ci=ci, interval=interval, participant=sim_unit
            )
        parts.append(_tagged(simulated, "simulated", by))
    expected = {}
    for name in models:
        try:
            per = expected_accuracy_by_block(
                trials, name, by, participant=unit, response="response"
            )
        except KeyError:  # a folder written without this model's predicted probabilities
            continue
        expected[name] = group_curve(per, by, ci, participant=unit)
    if expected:
        parts.append(_tagged(expected, "expected", by))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for name in ("pi_low", "pi_high"):
        if name not in out:
            out[name] = np.nan
    out.attrs.update(ci=ci, interval=interval, runs=runs)
    return out


def _panel_keys(curves: pd.DataFrame, by: str | None) -> tuple[list, list]:
    models = list(dict.fromkeys(curves.loc[curves["kind"] != "data", "source"]))
    groups = list(dict.fromkeys(curves[by])) if by else [None]
    return models or [None], groups


def _rows(curves: pd.DataFrame, kind: str, source: str | None, by: str | None, group):
    sel = curves["kind"] == kind
    if source is not None:
        sel &= curves["source"] == source
    if by is not None:
        sel &= (curves[by] == group) | (curves[by].isna() & pd.isna(group))
    return curves[sel].sort_values("block")


def draw_curve_panel(
    ax,
    curves: pd.DataFrame,
    model: str | None,
    color,
    by: str | None = None,
    group=None,
    chance: float | None = None,
) -> None:
    """One panel: the data's curve, and ``model``'s simulated and expected curves.

    Lines are labelled ``"data"``, ``"<model> simulated"`` and ``"<model> expected"`` so that
    they can be found again (legends, tests).
    """
    if chance is not None:
        ax.axhline(chance, color="0.6", linewidth=0.8, linestyle=":", zorder=0)
    data = _rows(curves, "data", None, by, group)
    if len(data):
        # A t interval of few participants can pass 0 or 1; accuracy cannot, so the band is
        # drawn within [0, 1] (the table keeps the textbook interval).
        ax.fill_between(
            data["block"],
            data["ci_low"].clip(0, 1),
            data["ci_high"].clip(0, 1),
            color=DATA_COLOR,
            alpha=0.15,
            linewidth=0,
            zorder=1,
        )
        ax.plot(
            data["block"],
            data["mean"],
            color=DATA_COLOR,
            marker="o",
            markersize=3,
            linewidth=1.3,
            label="data",
            zorder=4,
        )
    if model is None:
        return
    sim = _rows(curves, "simulated", model, by, group)
    if len(sim):
        ax.fill_between(
            sim["block"],
            sim["pi_low"],
            sim["pi_high"],
            color=color,
            alpha=0.2,
            linewidth=0,
            zorder=2,
        )
        ax.plot(
            sim["block"],
            sim["mean"],
            color=color,
            linewidth=1.6,
            label=f"{model} simulated",
            zorder=3,
        )
    expected = _rows(curves, "expected", model, by, group)
    if len(expected):
        ax.plot(
            expected["block"],
            expected["mean"],
            color=color,
            linewidth=1.3,
            linestyle="--",
            label=f"{model} expected",
            zorder=3,
        )


def _legend(fig, curves: pd.DataFrame, n_columns: int) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    kinds = set(curves["kind"])
    ci = curves.attrs.get("ci", 0.95)
    interval = curves.attrs.get("interval", 0.95)
    handles = [
        Line2D(
            [], [], color=DATA_COLOR, marker="o", markersize=3, label=f"data ({100 * ci:.0f}% CI)"
        )
    ]
    if "simulated" in kinds:
        runs = curves.attrs.get("runs")
        what = f"{runs} runs, " if runs else ""
        handles.append(
            Patch(
                facecolor="0.55",
                alpha=0.5,
                label=f"model simulated ({what}{100 * interval:.0f}% predictive interval)",
            )
        )
    if "expected" in kinds:
        handles.append(
            Line2D(
                [],
                [],
                color="0.35",
                linestyle="--",
                label="model expected (predicted probabilities)",
            )
        )
    # below the panels, where it hides no curve
    # one entry per line when the panels are too narrow for them side by side
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=len(handles) if n_columns >= 3 else 1,
        frameon=False,
    )


def plot_learning_curves(
    curves: pd.DataFrame, chance: float | None = None, axes=None
) -> np.ndarray:
    """Draw a :func:`learning_curves` table: one panel per model (columns) and condition
    (rows), each with the data's curve.

    Parameters
    ----------
    curves
        The table of :func:`learning_curves` (a ``condition`` column gives one row of panels
        per condition).
    chance
        Accuracy of guessing (e.g. 1 / number of categories), drawn as a dotted line.
    axes
        Axes to draw into, one per panel (rows = conditions, columns = models); default a new
        figure.

    Returns
    -------
    numpy.ndarray
        The axes, shape (conditions, models).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    by = "condition" if "condition" in curves.columns else None
    models, groups = _panel_keys(curves, by)
    if axes is None:
        _, axes = plt.subplots(
            len(groups),
            len(models),
            sharex=True,
            sharey=True,
            figsize=(0.4 + 2.7 * len(models), 0.4 + 2.4 * len(groups)),
            squeeze=False,
        )
    axes = np.asarray(axes).reshape(len(groups), len(models))
    for r, group in enumerate(groups):
        for c, model in enumerate(models):
            ax = axes[r, c]
            draw_curve_panel(ax, curves, model, PALETTE[c % len(PALETTE)], by, group, chance)
            title = model or "data"
            ax.set_title(title if by is None else f"{title} — {by} {group}")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if r == len(groups) - 1:
                ax.set_xlabel("block")
            if c == 0:
                ax.set_ylabel("proportion correct")
    _legend(axes[0, 0].figure, curves, len(models))
    return axes
