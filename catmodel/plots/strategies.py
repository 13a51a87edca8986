"""The decision-bound strategy analysis drawn: who uses which strategy, block by block.

:func:`strategy_figure` has one column per condition: above, the share of participants best
fit by each strategy in each block; below, one participant's stimuli of the last block coloured
by response, with the bound of the strategy that fits them best (in the data's own units).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from catmodel.compare.strategies import StrategyFits, strategy_shares

#: a fixed colour per strategy, so figures of different data sets read alike
STRATEGY_COLORS = {
    "ud_x1": "#1b9e77",
    "ud_x2": "#66a61e",
    "cj": "#d95f02",
    "glc": "#7570b3",
    "gqc": "#e7298a",
    "guessing": "#666666",
}
RESPONSE_COLORS = ("#2c7bb6", "#d7191c")


def example_rows(fits: StrategyFits) -> dict[str, int]:
    """Per condition, the row of :attr:`StrategyFits.table` to draw: the last block of the
    participant whose best fit there is clearest (highest BIC weight, guessing last)."""
    table = fits.table.reset_index(drop=True)
    conditions = table["condition"] if "condition" in table else pd.Series("all", index=table.index)
    out = {}
    for condition, rows in table.groupby(conditions, sort=True):
        last = rows[rows["block"] == rows.groupby("participant")["block"].transform("max")]
        key = last["bic_weight"] - (last["best_model"] == "guessing").astype(float)
        out[str(condition)] = int(key.idxmax())
    return out


def plot_strategy_shares(ax, shares: pd.DataFrame, strategies: list[str]) -> None:
    """Share of participants best fit by each strategy (lines) by block, on ``ax``."""
    for name in strategies:
        rows = shares[shares["best_model"] == name]
        blocks = sorted(shares["block"].unique())
        y = rows.set_index("block")["share"].reindex(blocks, fill_value=0.0)
        ax.plot(blocks, y.to_numpy(), "o-", color=STRATEGY_COLORS.get(name), label=name, ms=4)
    ax.set_ylim(-0.02, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("block")
    ax.set_ylabel("share of participants")


def plot_bound_example(ax, fits: StrategyFits, row: int) -> None:
    """One (participant, block): stimuli coloured by response and the best strategy's bound."""
    batch = fits.batch
    n = int(batch.n_trials[row])
    z = batch.x[row, :n].numpy()
    raw = batch.standardization.undo(z)
    response = batch.response[row, :n].numpy()
    for k, color in enumerate(RESPONSE_COLORS):
        sel = response == k
        ax.scatter(raw[sel, 0], raw[sel, 1], s=10, color=color, label=f"{batch.categories[k]}")
    model, values = fits.best(row)
    name = fits.table["best_model"].iloc[row]
    if name != "guessing":
        pad = 0.05 * (raw.max(0) - raw.min(0) + 1e-9)
        g1 = np.linspace(raw[:, 0].min() - pad[0], raw[:, 0].max() + pad[0], 200)
        g2 = np.linspace(raw[:, 1].min() - pad[1], raw[:, 1].max() + pad[1], 200)
        m1, m2 = np.meshgrid(g1, g2)
        grid = batch.standardization.apply(np.c_[m1.ravel(), m2.ravel()])
        h = model.bound_function(values)(grid).reshape(m1.shape)
        ax.contour(m1, m2, h, levels=[0.0], colors=STRATEGY_COLORS.get(name, "k"))
    table = fits.table.iloc[row]
    ax.set_title(
        f"{table['participant']}, block {table['block']}: {name} (w {table['bic_weight']:.2f})",
        fontsize=8,
    )
    ax.set_xlabel(batch.features[0])
    ax.set_ylabel(batch.features[1])


def strategy_figure(fits: StrategyFits):
    """The figure: strategy shares by block (top) and one example bound (bottom) per
    condition. Returns the matplotlib figure (not saved)."""
    table = fits.table
    strategies = [c[len("nll_") :] for c in table.columns if c.startswith("nll_")]
    shares = strategy_shares(table)
    examples = example_rows(fits)
    conditions = list(examples)
    fig, axes = plt.subplots(
        2, len(conditions), figsize=(3.2 * len(conditions), 6.0), squeeze=False
    )
    for j, condition in enumerate(conditions):
        rows = shares[shares["condition"] == condition] if "condition" in shares else shares
        plot_strategy_shares(axes[0, j], rows, strategies)
        axes[0, j].set_title(str(condition))
        plot_bound_example(axes[1, j], fits, examples[condition])
    axes[0, -1].legend(fontsize=7, loc="best")
    axes[1, -1].legend(fontsize=7, title="response", title_fontsize=7)
    return fig
