"""Parameter-recovery scatter plots and model-recovery heatmaps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from catmodel.plots.style import PALETTE, paper_style, save_and_close


def recovery_scatter(recovery: pd.DataFrame, summary: pd.DataFrame, axes=None):
    """True vs recovered (scale coordinates) per parameter, one panel each.

    The identity line, the generating box (shaded) and r, bias and RMSE are shown, so a
    reader sees both the correlation and how far the points are from the diagonal.

    Parameters
    ----------
    recovery
        ``recovery.csv``: ``parameter``, ``true_scale``, ``recovered_scale`` per participant.
    summary
        ``recovery_summary.csv``: per parameter ``r``, ``bias``, ``rmse``, ``scale``,
        ``generating_low``, ``generating_high``.
    axes
        Axes to draw into, one per parameter; default a new figure.

    Returns
    -------
    numpy.ndarray
        The axes, flat; each panel's first collection holds its points (true, recovered).
    """
    import matplotlib.pyplot as plt

    params = list(summary["parameter"])
    if axes is None:
        ncol = min(4, len(params))
        nrow = math.ceil(len(params) / ncol)
        _, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.6 * nrow), squeeze=False)
    axes = np.ravel(axes)
    for ax, name in zip(axes, params, strict=False):
        sub = recovery[recovery["parameter"] == name]
        row = summary[summary["parameter"] == name].iloc[0]
        lo = min(sub["true_scale"].min(), sub["recovered_scale"].min())
        hi = max(sub["true_scale"].max(), sub["recovered_scale"].max())
        ax.axvspan(row["generating_low"], row["generating_high"], color="0.93", zorder=0)
        ax.plot([lo, hi], [lo, hi], color="0.5", linewidth=0.8, zorder=1)
        ax.scatter(
            sub["true_scale"],
            sub["recovered_scale"],
            s=8,
            alpha=0.6,
            color=PALETTE[0],
            linewidths=0,
            zorder=2,
        )
        unit = "log10 " if row.get("scale", "log") == "log" else ""
        ax.set_xlabel(f"true {unit}{name}")
        ax.set_ylabel(f"recovered {unit}{name}")
        ax.set_title(
            f"r = {row['r']:.2f}, bias = {row['bias']:+.2f}, RMSE = {row['rmse']:.2f}", fontsize=8
        )
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    return axes


def plot_parameter_recovery(
    recovery: pd.DataFrame, summary: pd.DataFrame, path, formats=("png", "pdf")
) -> list[Path]:
    """Draw :func:`recovery_scatter` and save it."""
    with paper_style():
        axes = recovery_scatter(recovery, summary)
        return save_and_close(axes[0].figure, path, formats)


def confusion_heatmap(matrix: pd.DataFrame, title: str, ax=None, cmap: str = "Blues"):
    """Heatmap of a model-recovery matrix, each cell annotated with its value.

    Parameters
    ----------
    matrix
        First column ``generating`` (the row labels), then one column per best-fitting model;
        missing values (a model never best) are left blank.
    title
        Panel title.
    ax
        Axes to draw into (default a new figure).
    cmap
        Colour map over [0, 1].

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = matrix.set_index("generating").astype(float)
    if ax is None:
        size = 1.0 + 0.8 * len(data.columns)
        _, ax = plt.subplots(figsize=(size + 1.0, size))
    sns.heatmap(
        data,
        annot=True,
        fmt=".2f",
        vmin=0,
        vmax=1,
        cmap=cmap,
        square=True,
        cbar=False,
        ax=ax,
        linewidths=0.5,
        linecolor="white",
    )
    ax.set_xlabel("best-fitting model")
    ax.set_ylabel("generating model")
    ax.tick_params(axis="y", rotation=0)  # model names read left to right
    ax.set_title(title)
    return ax


def model_recovery_figure(confusion: pd.DataFrame, inversion: pd.DataFrame, criterion: str = "bic"):
    """Confusion p(best | generating) and inversion p(generating | best) heatmaps side by
    side; returns the figure (the axes are ``fig.axes[0]`` and ``fig.axes[1]``).

    Parameters
    ----------
    confusion, inversion
        Model-recovery matrices (first column ``generating``, one column per best-fitting
        model), as in ``confusion.csv`` and ``inversion.csv``.
    criterion
        The criterion that picked the best fit (for the title).
    """
    import matplotlib.pyplot as plt

    n = len(confusion)
    fig, axes = plt.subplots(1, 2, figsize=(2.2 + 1.6 * n, 1.0 + 0.8 * n))
    confusion_heatmap(confusion, f"p(best fit | generating), {criterion.upper()}", ax=axes[0])
    confusion_heatmap(inversion, "p(generating | best fit)", ax=axes[1], cmap="Greens")
    return fig


def plot_model_recovery(
    confusion: pd.DataFrame,
    inversion: pd.DataFrame,
    path,
    criterion: str = "bic",
    formats=("png", "pdf"),
) -> list[Path]:
    """Draw :func:`model_recovery_figure` and save it."""
    with paper_style():
        return save_and_close(model_recovery_figure(confusion, inversion, criterion), path, formats)
