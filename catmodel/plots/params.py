"""Distributions of fitted parameters across participants, by condition.

Only the free (fitted) parameters are shown. Log-scaled parameters (rates, temperatures,
sensitivities) are shown as log10 values: fits spread over decades, and the fitting box is
uniform in log10 too. Attention and bias parameters (``attention_d``, ``bias_k``) are
log-ratios, ``ln(w_d / w_D)`` of attention weights and ``ln(b_k / b_K)`` of response biases
(see :mod:`catmodel.models.similarity` and :mod:`catmodel.models.guessing`); their axes say
so. Fits at an edge of the fitting box (the ``at_bound`` column of ``fits.csv``) are drawn with
their own marker: such a value is a limit of the box, not an estimate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from catmodel.plots.style import PALETTE

#: parameters that are log-ratios to a reference (the last dimension or category), by prefix,
#: with the symbol of what they compare
LOG_RATIOS = {"attention": "w", "bias": "b"}
#: how fits at an edge of the fitting box are drawn, and their legend entry
AT_BOUND_MARKER = "X"
AT_BOUND_LABEL = "at a bound"


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


def axis_label(name: str, scale: str, reference: int | None = None) -> str:
    """The y label of a parameter's panel: ``log10 name`` for log-scaled parameters, the
    log-ratio written out for attention and bias parameters, else the name.

    Parameters
    ----------
    name, scale
        The parameter and its scale (``"log"``, ``"linear"``, ``"logit"``).
    reference
        For a log-ratio, the index of the reference dimension or category (D or K).
    """
    if scale == "log":
        return f"log10 {name}"
    prefix, _, index = name.rpartition("_")
    if prefix in LOG_RATIOS and index.isdigit():
        symbol = LOG_RATIOS[prefix]
        last = reference if reference is not None else ("D" if prefix == "attention" else "K")
        return f"log-ratio ln({symbol}{index} / {symbol}{last})"
    return name


def log_ratio_reference(name: str, names) -> int | None:
    """The reference index of a log-ratio parameter among ``names`` (one more than the number
    of its siblings: ``attention_1`` alone compares dimension 1 with dimension 2)."""
    prefix, _, index = name.rpartition("_")
    if prefix not in LOG_RATIOS or not index.isdigit():
        return None
    return 1 + sum(n.rpartition("_")[0] == prefix for n in names)


def at_bound_flags(fits: pd.DataFrame, name: str) -> np.ndarray:
    """Whether each row's fit of ``name`` is at an edge of the box (from the ``at_bound``
    column: the names of the parameters at a bound, ``;``-separated); all False without it."""
    if "at_bound" not in fits.columns:
        return np.zeros(len(fits), dtype=bool)
    # pandas reads a column of empty cells as float NaN: only strings name parameters
    return np.array(
        [isinstance(names, str) and name in names.split(";") for names in fits["at_bound"]],
        dtype=bool,
    )


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
        label, :func:`axis_label`), ``at_bound`` (the fit is at an edge of the box).
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
        part["label"] = axis_label(name, scale, log_ratio_reference(name, scales))
        part["at_bound"] = at_bound_flags(sub, name)
        frames.append(part)
    columns = [*keys, "parameter", "scale", "value", "shown", "label", "at_bound"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def plot_parameter_distributions(table: pd.DataFrame, axes=None, ncols: int = 4) -> np.ndarray:
    """One panel per parameter: a box (median, quartiles) and every participant as a point,
    side by side per condition when the table has one; fits at a bound are drawn with
    :data:`AT_BOUND_MARKER` (labelled :data:`AT_BOUND_LABEL` in the panel's legend).

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
        at_bound = _at_bound(sub)
        if not at_bound.all():
            points = {**common, "data": sub[~at_bound]}
            sns.stripplot(**points, size=3.5, alpha=0.7, jitter=0.15, linewidth=0)
        if at_bound.any():
            _draw_at_bound(ax, sub[at_bound], by, levels, palette)
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


def _at_bound(sub: pd.DataFrame) -> np.ndarray:
    if "at_bound" not in sub.columns:
        return np.zeros(len(sub), dtype=bool)
    return np.asarray(sub["at_bound"], dtype=bool)


def _draw_at_bound(ax, points: pd.DataFrame, by: str | None, levels: list[str], palette):
    """Fits at a bound as :data:`AT_BOUND_MARKER`, at their condition's position (jittered
    like the other points), with a legend entry."""
    position = points[by].map({level: i for i, level in enumerate(levels)}) if by else 0
    x = np.zeros(len(points)) + np.asarray(position, dtype=float)
    rng = np.random.default_rng(0)  # jitter only; fixed so that the figure is reproducible
    x += rng.uniform(-0.15, 0.15, len(points))
    colors = [palette[levels.index(level)] for level in points[by]] if by else [PALETTE[0]] * len(x)
    ax.scatter(
        x,
        points["shown"].to_numpy(dtype=float),
        marker=AT_BOUND_MARKER,
        s=30,
        c=colors,
        edgecolors="0.15",
        linewidths=0.5,
        zorder=4,
        label=AT_BOUND_LABEL,
    )
    ax.legend(loc="best", frameon=False, fontsize=7, handletextpad=0.2)
