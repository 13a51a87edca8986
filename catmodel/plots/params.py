"""Distributions of fitted parameters across participants, by condition.

Only the free (fitted) parameters are shown. Log-scaled parameters (rates, temperatures,
sensitivities) are shown as log10 values: fits spread over decades, and the fitting box is
uniform in log10 too.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from catmodel.plots.style import PALETTE


def registry_scales(model: str, n_features: int, n_categories: int) -> dict[str, str]:
    """``{parameter: scale}`` of a model's default free parameters (for folders without a run
    record)."""
    from catmodel.models.params import ParameterSet
    from catmodel.models.registry import get_model

    pset = ParameterSet.for_model(get_model(model), n_features, n_categories)
    return {p.name: p.scale for p in pset.free}


def shown_value(values, scale: str) -> np.ndarray:
    """What a panel shows: log10 of log-scaled parameters, the natural value otherwise."""
    values = np.asarray(values, dtype=float)
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(values)
    return values


def axis_label(name: str, scale: str) -> str:
    return f"log10 {name}" if scale == "log" else name


def parameter_table(fits: pd.DataFrame, model: str, scales: dict[str, str]) -> pd.DataFrame:
    """One row per participant x free parameter of ``model``, ready to plot.

    Parameters
    ----------
    fits
        The fits table (``fits.csv``).
    model
        The model.
    scales
        ``{parameter: scale}`` of the free parameters (:func:`free_parameter_scales`);
        parameters without a column in ``fits`` are left out.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``participant``, ``condition`` (when ``fits`` has one), ``parameter``,
        ``scale``, ``value`` (natural), ``shown`` (:func:`shown_value`), ``label`` (the axis
        label).
    """
    sub = fits[fits["model"] == model]
    keys = ["model", "participant"] + (["condition"] if "condition" in sub.columns else [])
    frames = []
    for name, scale in scales.items():
        if name not in sub.columns:
            continue
        part = sub[keys].copy()
        part["parameter"] = name
        part["scale"] = scale
        part["value"] = sub[name].to_numpy(dtype=float)
        part["shown"] = shown_value(part["value"], scale)
        part["label"] = axis_label(name, scale)
        frames.append(part)
    columns = [*keys, "parameter", "scale", "value", "shown", "label"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def plot_parameter_distributions(table: pd.DataFrame, axes=None, ncols: int = 4) -> np.ndarray:
    """One panel per parameter: a box (median, quartiles) and every participant as a point,
    side by side per condition when the table has one.

    Parameters
    ----------
    table
        :func:`parameter_table` of one model.
    axes
        Axes to draw into, at least one per parameter; default a new figure.
    ncols
        Panels per row of a new figure.

    Returns
    -------
    numpy.ndarray
        The axes, flat (unused ones hidden).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    params = list(dict.fromkeys(table["parameter"]))
    by = "condition" if "condition" in table.columns else None
    levels = sorted(set(table[by].astype(str))) if by else []
    if axes is None:
        ncols = max(1, min(ncols, len(params)))
        nrows = max(1, math.ceil(len(params) / ncols))
        width = 0.9 + 0.55 * max(1, len(levels))
        _, axes = plt.subplots(
            nrows, ncols, figsize=(0.5 + (1.2 + width) * ncols, 0.5 + 2.4 * nrows), squeeze=False
        )
    axes = np.ravel(axes)
    palette = PALETTE[: max(1, len(levels))]
    for ax, name in zip(axes, params, strict=False):
        sub = table[table["parameter"] == name].copy()
        x = None
        if by:
            sub[by] = sub[by].astype(str)
            x = by
        common = {"data": sub, "x": x, "y": "shown", "ax": ax}
        if by:
            common.update(hue=by, order=levels, hue_order=levels, palette=palette, legend=False)
        else:
            common.update(color=PALETTE[0])
        sns.boxplot(**common, showfliers=False, width=0.55, fill=False, linewidth=0.9)
        sns.stripplot(**common, size=3.5, alpha=0.7, jitter=0.15, linewidth=0)
        ax.set_ylabel(sub["label"].iloc[0])
        ax.set_title(name)
        if not by:
            ax.set_xticks([])
        ax.set_xlabel("")
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    models = list(dict.fromkeys(table["model"]))
    if len(models) == 1 and params:
        n = table["participant"].nunique()
        axes[0].figure.suptitle(f"{models[0]}: fitted parameters ({n} participants)")
    return axes
