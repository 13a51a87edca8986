"""Figures of fits, simulations and recovery studies.

Every ``plot_*`` function takes results (tables or a results folder's contents) and returns
matplotlib axes, or a figure where its panels belong together; none of them saves.
:func:`catmodel.figures.draw_figures` draws all that apply to a results folder and saves them
with :func:`save_figure` in the style of :func:`paper_style`.

Learning curves
    :func:`learning_curves`, :func:`plot_learning_curves`
Learned Gaussians, block by block
    :func:`learned_gaussians`, :func:`plot_learned_gaussians`
Fitted parameters
    :func:`parameter_table`, :func:`plot_parameter_distributions`
Model comparison
    :func:`comparison_tables`, :func:`plot_model_comparison`, :func:`plot_delta`,
    :func:`plot_exceedance`
Recovery studies
    :func:`recovery_scatter`, :func:`confusion_heatmap`, :func:`model_recovery_figure`
"""

from __future__ import annotations

from catmodel.plots.comparison import (
    comparison_tables,
    delta_table,
    model_colors,
    plot_delta,
    plot_exceedance,
    plot_model_comparison,
)
from catmodel.plots.curves import draw_curve_panel, learning_curves, plot_learning_curves
from catmodel.plots.ellipses import covariance_ellipse, draw_gaussian
from catmodel.plots.gaussians import (
    BlockState,
    LearnedGaussians,
    NotApplicable,
    default_participant,
    learned_gaussians,
    plot_learned_gaussians,
)
from catmodel.plots.params import parameter_table, plot_parameter_distributions
from catmodel.plots.recovery import (
    confusion_heatmap,
    model_recovery_figure,
    plot_model_recovery,
    plot_parameter_recovery,
    recovery_scatter,
)
from catmodel.plots.style import PALETTE, paper_style, save_figure
from catmodel.results import free_parameter_scales

__all__ = [
    "PALETTE",
    "BlockState",
    "LearnedGaussians",
    "NotApplicable",
    "comparison_tables",
    "confusion_heatmap",
    "covariance_ellipse",
    "default_participant",
    "delta_table",
    "draw_curve_panel",
    "draw_gaussian",
    "free_parameter_scales",
    "learned_gaussians",
    "learning_curves",
    "model_colors",
    "model_recovery_figure",
    "paper_style",
    "parameter_table",
    "plot_delta",
    "plot_exceedance",
    "plot_learned_gaussians",
    "plot_learning_curves",
    "plot_model_comparison",
    "plot_model_recovery",
    "plot_parameter_distributions",
    "plot_parameter_recovery",
    "recovery_scatter",
    "save_figure",
]
