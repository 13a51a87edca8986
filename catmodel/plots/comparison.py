"""Model comparison at a glance: per-participant ΔBIC and group-level model selection.

Left: every participant's BIC difference of each model to a reference — by default each
participant's own best model, so 0 is "best for this participant" and larger is worse (by the
usual reading, a difference above 10 is very strong evidence against the model).
Right: the protected exceedance probability of every model (random-effects Bayesian model
selection, Rigoux et al. 2014): the probability that the model is the most frequent in the
population, discounted by the chance that all models are equally frequent. A dotted line marks
1/K for K models: the probability every model has when the data prefer none (the value all of
them take when that chance, the Bayes omnibus risk, is 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from catmodel.compare.table import COMPARISON, GROUP, compare_fits
from catmodel.errors import CatmodelError
from catmodel.plots.style import PALETTE

#: a BIC difference above this is conventionally "very strong" evidence (Kass & Raftery 1995)
STRONG = 10.0


def model_colors(models) -> dict[str, str]:
    """One palette colour per model, in the given order (the order models were fitted in, so
    that a model keeps its colour across figures)."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(dict.fromkeys(models))}


def _matches(table: pd.DataFrame, fits: pd.DataFrame) -> bool:
    return set(table["model"]) == set(fits["model"])


def comparison_tables(folder, criterion: str = "bic") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The folder's per-participant comparison and group table.

    ``comparison.csv`` and ``group.csv`` (written by ``catmodel compare``) are read when
    present and cover the fitted models; otherwise both are computed with
    :func:`catmodel.compare.table.compare_fits`.
    """
    path = Path(folder.path)
    if (path / COMPARISON).exists() and (path / GROUP).exists():
        comparison = pd.read_csv(path / COMPARISON, dtype={"participant": str})
        group = pd.read_csv(path / GROUP)
        if _matches(comparison, folder.fits) and _matches(group, folder.fits):
            return comparison, group
    return compare_fits(folder.fits, criterion=criterion)


def delta_table(
    comparison: pd.DataFrame, reference: str | None = None, criterion: str = "bic"
) -> pd.DataFrame:
    """Per participant x model: the criterion minus that of the reference.

    Parameters
    ----------
    comparison
        Per-participant comparison (``participant``, ``model``, ``bic``/``aic``, ...).
    reference
        A model name, or None for each participant's best model (the minimum).
    criterion
        ``"bic"`` or ``"aic"``.

    Returns
    -------
    pandas.DataFrame
        ``participant``, ``model``, ``delta``.
    """
    if criterion not in comparison.columns:
        raise CatmodelError(f"the comparison table has no {criterion!r} column")
    values = comparison.pivot_table(
        index="participant", columns="model", values=criterion, sort=False
    )
    if reference is None:
        base = values.min(axis=1)
    elif reference in values.columns:
        base = values[reference]
    else:
        raise CatmodelError(
            f"no model {reference!r} to compare with (models: {', '.join(values.columns)})"
        )
    delta = values.sub(base, axis=0)
    out = delta.reset_index().melt(id_vars="participant", var_name="model", value_name="delta")
    return out.dropna(subset=["delta"])


def _order(group: pd.DataFrame | None, delta: pd.DataFrame) -> list[str]:
    if group is not None:
        return list(group["model"])
    return list(delta.groupby("model", sort=False)["delta"].median().sort_values().index)


def plot_delta(
    comparison: pd.DataFrame,
    reference: str | None = None,
    criterion: str = "bic",
    order: list[str] | None = None,
    colors: dict | None = None,
    ax=None,
):
    """Every participant's criterion difference to the reference, one column per model.

    Parameters
    ----------
    comparison
        Per-participant comparison table.
    reference
        Reference model, or None for each participant's best model.
    criterion
        ``"bic"`` or ``"aic"``.
    order
        Models left to right (default: by median difference).
    colors
        ``{model: colour}`` (default :func:`model_colors` in table order).
    ax
        Axes to draw into (default a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        One point collection per model (x jittered, y the differences in ``delta_table``
        order); the y axis is symmetric-log, linear within ±10.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    delta = delta_table(comparison, reference, criterion)
    order = order or _order(None, delta)
    colors = colors or model_colors(comparison["model"])
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * len(order), 3.0))
    rng = np.random.default_rng(0)  # jitter only; fixed so that the figure is reproducible
    best = comparison[comparison["best"]] if "best" in comparison else None
    labels = []
    for i, model in enumerate(order):
        y = delta.loc[delta["model"] == model, "delta"].to_numpy(dtype=float)
        x = i + rng.uniform(-0.18, 0.18, len(y))
        ax.boxplot(
            y,
            positions=[i],
            widths=0.5,
            showfliers=False,
            manage_ticks=False,
            medianprops={"color": "0.2"},
            boxprops={"color": "0.6"},
            whiskerprops={"color": "0.6"},
            capprops={"color": "0.6"},
        )
        ax.scatter(
            x,
            y,
            s=12,
            color=colors.get(model, PALETTE[0]),
            alpha=0.75,
            linewidths=0,
            label=model,
            zorder=3,
        )
        n_best = int((best["model"] == model).sum()) if best is not None else None
        labels.append(model if n_best is None else f"{model}\nbest: {n_best}")
    ax.set_xticks(range(len(order)), labels)
    ax.set_xlim(-0.6, len(order) - 0.4)
    # differences span decades between participants: symmetric log, linear within ±10
    ax.set_yscale("symlog", linthresh=STRONG)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.margins(y=0.06)
    if not (delta["delta"] < 0).any():
        ax.set_ylim(bottom=-1.0)
    ax.axhline(0, color="0.5", linewidth=0.8)
    if reference is None:
        ax.axhline(STRONG, color="0.5", linewidth=0.8, linestyle=":")
    versus = "each participant's best model" if reference is None else reference
    ax.set_ylabel(f"Δ{criterion.upper()} vs {versus}")
    ax.set_title(f"Δ{criterion.upper()} per participant")
    return ax


def plot_exceedance(group: pd.DataFrame, colors: dict | None = None, ax=None):
    """Bars of the protected exceedance probabilities, with the expected model frequencies
    as points.

    Parameters
    ----------
    group
        Group table (``model``, ``protected_exceedance``, optionally
        ``expected_frequency``), e.g. from :func:`catmodel.compare.table.compare_fits`.
    colors
        ``{model: colour}``.
    ax
        Axes to draw into (default a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The bars are ``ax.patches`` in the order of ``group``; a dotted line at 1/K (K models)
        marks no preference, :func:`no_preference_label`.
    """
    import matplotlib.pyplot as plt

    models = list(group["model"])
    colors = colors or model_colors(models)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * len(models), 3.0))
    pxp = group["protected_exceedance"].to_numpy(dtype=float)
    x = np.arange(len(models))
    ax.bar(x, pxp, width=0.6, color=[colors.get(m, PALETTE[0]) for m in models], alpha=0.85)
    top = pxp.copy()
    if "expected_frequency" in group:
        frequency = group["expected_frequency"].to_numpy(dtype=float)
        ax.scatter(
            x, frequency, marker="D", s=18, color="0.15", zorder=3, label="expected frequency"
        )
        top = np.fmax(top, frequency)  # keep the value clear of the marker
    for xi, p, t in zip(x, pxp, top, strict=True):
        ax.text(xi, t + 0.03, f"{p:.2f}", ha="center", va="bottom", fontsize=7)
    n = max(len(models), 1)
    ax.axhline(1 / n, color="0.6", linewidth=0.8, linestyle=":", label=no_preference_label(n))
    ax.legend(loc="upper right", frameon=False)
    ax.set_xticks(x, models)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("protected exceedance probability")
    bor = group.attrs.get("bor")
    ax.set_title("Group model selection" + (f" (BOR = {bor:.2f})" if bor is not None else ""))
    return ax


def no_preference_label(n_models: int) -> str:
    """The legend entry of the 1/K line of the exceedance panel."""
    return f"1/{n_models} = {1 / n_models:.2g}: no model preferred"


def plot_model_comparison(
    comparison: pd.DataFrame,
    group: pd.DataFrame,
    reference: str | None = None,
    criterion: str = "bic",
):
    """:func:`plot_delta` and :func:`plot_exceedance` side by side, models in the order of
    the group table (best summed criterion first).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    order = list(group["model"])
    colors = model_colors(comparison["model"])
    n = len(order)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(2.0 + 1.6 * n, 3.2), gridspec_kw={"width_ratios": [1.3, 1]}
    )
    plot_delta(comparison, reference, criterion, order=order, colors=colors, ax=left)
    plot_exceedance(group, colors=colors, ax=right)
    return fig
