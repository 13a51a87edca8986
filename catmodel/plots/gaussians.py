"""What a fitted Gaussian learner has learned, block by block, for one participant.

The fitted learner is re-run with the participant's best parameters on their own trials
(:func:`catmodel.models.rollout.torch_rollout`), keeping its state after the last trial of
every block. Each state is shown in the stimulus space, in the data's own units (the recorded
standardisation undone):

* every Gaussian unit as its 1- and 2-SD contours, coloured by the unit's category;
* the block's stimuli, coloured by category: filled where the participant responded correctly,
  open where they erred;
* the learner's decision boundary: where its own category probabilities (softmax of its
  outputs, before the choice temperature and lapse, which do not move the boundary) are tied —
  the 0.5 contour with two categories, the borders of the argmax regions with more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from catmodel.errors import CatmodelError
from catmodel.plots.curves import DEFAULT_BLOCKS, has_blocks
from catmodel.plots.ellipses import draw_gaussian
from catmodel.plots.style import PALETTE

#: spread of the category probabilities below which the learner counts as indifferent
INDIFFERENT = 1e-9


class NotApplicable(CatmodelError):
    """A figure that does not apply to these results (the message says why)."""


@dataclass
class BlockState:
    """The learner after the last trial of one block, with that block's trials.

    Attributes
    ----------
    block
        The block number.
    trial
        0-based position (in the participant's trials) of the block's last trial.
    means, covariances
        Units' means (J, 2) and covariance matrices (J, 2, 2) in the original feature units.
    stimuli
        The block's stimuli (n, 2) in the original units.
    category, response
        Category and response indices of the block's trials (-1: none).
    probabilities
        The learner's own category probabilities (G_y, G_x, K) over the grid.
    unit_votes
        (J,) the category each unit's association weights favour (the argmax of its column
        of weights). Units start unlabelled (weights at zero), so this, not the unit's index,
        says which category a unit stands for.
    """

    block: int
    trial: int
    means: np.ndarray
    covariances: np.ndarray
    stimuli: np.ndarray
    category: np.ndarray
    response: np.ndarray
    probabilities: np.ndarray
    unit_votes: np.ndarray

    @property
    def accuracy(self) -> float:
        """The participant's proportion correct in the block (trials with a response)."""
        answered = (self.response >= 0) & (self.category >= 0)
        if not answered.any():
            return math.nan
        return float(np.mean(self.response[answered] == self.category[answered]))


@dataclass
class LearnedGaussians:
    """A participant's fitted Gaussian learner, block by block (see :func:`learned_gaussians`).

    Attributes
    ----------
    participant
        The learner id (as in ``fits.csv``).
    features
        The two feature names (x, y).
    categories
        Category labels in index order.
    unit_category
        (J,) category index of each unit.
    grid_x, grid_y
        Grid coordinates (original units) of :attr:`BlockState.probabilities`.
    blocks
        One :class:`BlockState` per block, in trial order.
    """

    participant: str
    features: tuple[str, str]
    categories: tuple
    unit_category: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    blocks: list[BlockState]


def default_participant(fits: pd.DataFrame, model: str = "gaussian") -> str:
    """The participant whose fit of ``model`` has the median NLL (the lower of the middle two
    for an even count): a typical fit rather than the best or the worst."""
    sub = fits[fits["model"] == model].sort_values(["nll", "participant"], kind="stable")
    if sub.empty:
        raise NotApplicable(f"no {model} fits")
    return str(sub["participant"].iloc[(len(sub) - 1) // 2])


def block_ends(blocks: np.ndarray) -> list[tuple[int, int]]:
    """``(block, position of its last trial)`` for every block, in order of first appearance.

    A block number that recurs later (not contiguous) ends at its last occurrence.
    """
    out: dict[int, int] = {}
    for position, block in enumerate(np.asarray(blocks).tolist()):
        out[int(block)] = position
    return list(out.items())


def learner_blocks(batch, i: int, numbered: bool = True) -> np.ndarray:
    """Block numbers of learner ``i``'s trials; without numbers (``numbered`` False), the
    consecutive blocks the learning curves use (about ten for the longest learner)."""
    n = int(batch.n_trials[i])
    if numbered:
        return batch.block[i, :n].cpu().numpy()
    size = max(1, math.ceil(int(batch.n_trials.max()) / DEFAULT_BLOCKS))
    return np.arange(n) // size + 1


def replicate_state(state: tuple, n: int) -> tuple:
    """The one-learner ``state`` repeated for ``n`` learners.

    State tensors carry the learners on their first axis; those with a first axis of length
    1 are repeated, others (shared tensors such as the Gaussian learner's mean box) are kept.
    The repeats are views (no copies): a model step builds a new state and never writes into
    the old one.
    """
    from catmodel.models.base import map_state

    return map_state(
        lambda s: s.expand(n, *s.shape[1:]) if s.dim() and s.shape[0] == 1 else s, state
    )


def state_probabilities(
    model, state: tuple, t: int, z: torch.Tensor, values: Mapping[str, torch.Tensor]
) -> np.ndarray:
    """The learner's own category probabilities at stimuli ``z``
    (:meth:`~catmodel.models.base.Model.own_probabilities` of its outputs).

    Parameters
    ----------
    model
        The model whose ``state`` (of one learner) it is.
    t
        The trial position the state is used at (the one after the trial it was kept after).
    z
        (G, D) stimuli in model (standardised) units.
    values
        The learner's parameters, each a (1,) tensor.

    Notes
    -----
    One model step per stimulus with feedback -1 returns the outputs and leaves the state as
    it was (no learning without feedback), so every grid point sees the same learner.
    """
    n = len(z)
    many = replicate_state(state, n)
    vals = {k: v.expand(n) for k, v in values.items()}
    feedback = torch.full((n,), -1, dtype=torch.long, device=z.device)
    with torch.no_grad():
        _, logits = model.step(many, t, z, feedback, vals)
    return model.own_probabilities(logits).cpu().numpy()


def _grid(stimuli: np.ndarray, size: int, pad: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    low, high = stimuli.min(axis=0), stimuli.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - pad * span, high + pad * span
    return np.linspace(low[0], high[0], size), np.linspace(low[1], high[1], size)


def _learner_index(batch, participant: str) -> int:
    learners = list(batch.learners)
    if participant not in learners:
        shown = ", ".join(learners[:5]) + (", ..." if len(learners) > 5 else "")
        raise CatmodelError(f"no participant {participant!r} in the fit (participants: {shown})")
    return learners.index(participant)


def check_applicable(folder, model_name: str = "gaussian") -> None:
    """Raise :class:`NotApplicable` unless ``folder`` can show learned Gaussians."""
    if model_name not in folder.models:
        raise NotApplicable(
            f"learned Gaussians need a {model_name} fit (the folder has {', '.join(folder.models)})"
        )
    if folder.trials is None:
        raise NotApplicable("learned Gaussians need the fitted trials (no trials.csv.gz)")
    d = len(folder.features)
    if d != 2:
        raise NotApplicable(
            f"learned Gaussians are drawn in a plane: they need 2 features, "
            f"the data have {d} ({', '.join(folder.features)})"
        )


def learned_gaussians(
    folder, participant: str | None = None, model_name: str = "gaussian", grid_size: int = 81
) -> LearnedGaussians:
    """Re-run a participant's fitted Gaussian learner and keep its state after every block.

    Parameters
    ----------
    folder
        A :class:`~catmodel.results.FitFolder` with a Gaussian fit of two-feature data.
    participant
        The learner id (as in ``fits.csv``); default :func:`default_participant`.
    model_name
        The fitted model's name.
    grid_size
        Grid points per axis for the decision boundary.

    Raises
    ------
    NotApplicable
        No Gaussian fit, no trials, or not two features.
    """
    from catmodel.models.rollout import as_value_tensors, torch_rollout
    from catmodel.simulate.predictive import fitted_table, fitted_values

    check_applicable(folder, model_name)
    participant = participant or default_participant(folder.fits, model_name)
    model = folder.model(model_name)
    table = fitted_table(folder)
    batch = table.to_batch(standardize=folder.standardization or True)
    i = _learner_index(batch, str(participant))
    values = fitted_values(
        folder.fits, model, [batch.learners[i]], batch.n_features, batch.n_categories
    )
    vals = as_value_tensors(values, batch.x, 1)
    n = int(batch.n_trials[i])
    blocks = learner_blocks(batch, i, has_blocks(folder.trials))
    ends = block_ends(blocks)
    _, states = torch_rollout(
        model, batch, torch.tensor([i]), vals, keep_states=[t for _, t in ends]
    )

    std = batch.standardization
    raw = batch.raw_x()[i, :n]
    gx, gy = _grid(raw, grid_size)
    xx, yy = np.meshgrid(gx, gy)
    z = torch.as_tensor(std.apply(np.column_stack([xx.ravel(), yy.ravel()])), dtype=batch.x.dtype)
    category = batch.category[i, :n].cpu().numpy()
    response = batch.response[i, :n].cpu().numpy()
    out = []
    for block, t in ends:
        state = states[t]
        described = model.describe_state(state, 0)
        probs = state_probabilities(model, state, t + 1, z, vals)
        here = blocks == block
        out.append(
            BlockState(
                block=block,
                trial=t,
                means=std.undo(described["means"]),
                covariances=std.undo_covariance(described["covariances"]),
                stimuli=raw[here],
                category=category[here],
                response=response[here],
                probabilities=probs.reshape(len(gy), len(gx), -1),
                unit_votes=np.asarray(described["weights"]).argmax(axis=0),
            )
        )
    return LearnedGaussians(
        participant=str(batch.learners[i]),
        features=(batch.features[0], batch.features[1]),
        categories=tuple(batch.categories),
        unit_category=model.unit_category(batch.n_categories).cpu().numpy(),
        grid_x=gx,
        grid_y=gy,
        blocks=out,
    )


def boundary_fields(probabilities: np.ndarray) -> list[np.ndarray]:
    """Fields whose zero contours are the decision boundaries.

    With two categories, ``P(first) - 0.5`` (the 0.5 contour). With more, one field per pair
    of categories ``a < b``: ``P(a) - P(b)``, masked wherever neither is the most probable
    category. Between two unmasked neighbours the field changes sign only where the argmax
    switches between ``a`` and ``b``, so each border of the argmax regions is traced once.
    """
    k = probabilities.shape[-1]
    if k == 2:
        return [probabilities[..., 0] - 0.5]
    winner = probabilities.argmax(-1)
    fields = []
    for a in range(k):
        for b in range(a + 1, k):
            mine = (winner == a) | (winner == b)
            diff = probabilities[..., a] - probabilities[..., b]
            fields.append(np.ma.masked_where(~mine, diff))
    return fields


def _category_color(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def _shade_regions(
    ax, learned: LearnedGaussians, winner: np.ndarray, indifferent: np.ndarray, alpha: float = 0.1
) -> None:
    """Tint the grid by the learner's most probable category (untinted where indifferent)."""
    from matplotlib.colors import to_rgb

    colours = np.array([to_rgb(_category_color(c)) for c in range(len(learned.categories))])
    image = np.concatenate([colours[winner], np.full((*winner.shape, 1), alpha)], axis=-1)
    image[indifferent, 3] = 0.0
    x, y = learned.grid_x, learned.grid_y
    ax.imshow(
        image,
        origin="lower",
        extent=(x[0], x[-1], y[0], y[-1]),
        aspect="auto",
        interpolation="nearest",
        zorder=0,
    )


def draw_block(ax, learned: LearnedGaussians, state: BlockState, n_sds=(1.0, 2.0)) -> None:
    """Draw one block's units, stimuli and decision boundary on ``ax``."""
    xx, yy = np.meshgrid(learned.grid_x, learned.grid_y)
    k = len(learned.categories)
    probs = state.probabilities
    if np.isfinite(probs).all():
        # Far from every unit the activations underflow and the learner is exactly
        # indifferent; a boundary traced through rounding noise there would mean nothing.
        indifferent = np.ptp(probs, axis=-1) < INDIFFERENT
        _shade_regions(ax, learned, probs.argmax(-1), indifferent)
        for field in boundary_fields(probs):
            field = np.ma.masked_where(indifferent, field)
            if field.min() < 0 < field.max():
                ax.contour(xx, yy, field, levels=[0.0], colors="0.1", linewidths=1.1, zorder=3)
    for c in range(k):
        here = state.category == c
        correct = here & (state.response == c)
        wrong = here & (state.response >= 0) & (state.response != c)
        color = _category_color(c)
        ax.scatter(*state.stimuli[correct].T, s=10, color=color, linewidths=0, zorder=2)
        ax.scatter(
            *state.stimuli[wrong].T,
            s=10,
            facecolors="none",
            edgecolors=color,
            linewidths=0.7,
            zorder=2,
        )
    for mean, cov, c in zip(state.means, state.covariances, state.unit_votes, strict=True):
        draw_gaussian(ax, mean, cov, _category_color(int(c)), n_sds=n_sds, zorder=4)
    ax.set_xlim(learned.grid_x[0], learned.grid_x[-1])
    ax.set_ylim(learned.grid_y[0], learned.grid_y[-1])
    accuracy = state.accuracy
    score = "" if math.isnan(accuracy) else f" ({accuracy:.0%} correct)"
    ax.set_title(f"block {state.block}{score}")


def _legend(fig, learned: LearnedGaussians) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D(
            [],
            [],
            color=_category_color(c),
            marker="o",
            linestyle="none",
            markersize=4,
            label=f"category {label}",
        )
        for c, label in enumerate(learned.categories)
    ]
    handles += [
        Line2D(
            [],
            [],
            color="0.4",
            marker="o",
            linestyle="none",
            markersize=4,
            label="correct response",
        ),
        Line2D(
            [],
            [],
            color="0.4",
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            markersize=4,
            label="error",
        ),
        Line2D(
            [],
            [],
            color="0.4",
            linewidth=1.2,
            label="unit: 1 and 2 SD, coloured by the category its weights favour",
        ),
        Line2D([], [], color="0.1", linewidth=1.1, label="learner's decision boundary"),
        Patch(facecolor="0.5", alpha=0.25, label="learner's preferred category"),
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(handles), 4),
        frameon=False,
    )


def plot_learned_gaussians(
    learned: LearnedGaussians,
    ncols: int | None = None,
    n_sds=(1.0, 2.0),
    title: str = "Gaussian learner",
):
    """One panel per block: the learner's units, the block's stimuli and responses, and its
    decision boundary (see the module docstring).

    Parameters
    ----------
    learned
        From :func:`learned_gaussians`.
    ncols
        Panels per row (default up to 5).
    n_sds
        The contours drawn for every unit, in standard deviations.
    title
        The learner's name in the figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (its panels share both axes).
    """
    import matplotlib.pyplot as plt

    n = len(learned.blocks)
    ncols = ncols or min(5, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        sharex=True,
        sharey=True,
        squeeze=False,
        figsize=(0.6 + 2.3 * ncols, 0.6 + 2.2 * nrows),
    )
    flat = axes.ravel()
    for ax, state in zip(flat, learned.blocks, strict=False):
        draw_block(ax, learned, state, n_sds)
    for ax in flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(learned.features[0])
    for ax in axes[:, 0]:
        ax.set_ylabel(learned.features[1])
    fig.suptitle(f"Learned Gaussians ({title}) of participant {learned.participant}")
    _legend(fig, learned)
    return fig
