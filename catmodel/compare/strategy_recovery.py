"""Strategy recovery: are simulated participants assigned to the strategy that generated them?

For each design and each strategy of :data:`~catmodel.compare.strategies.STRATEGIES`,
participants are simulated for one block of trials with parameters drawn over the strategy's
generating box (in its default orientation), every strategy is fitted to every participant
(:func:`~catmodel.compare.strategies.fit_strategies`), and the best by BIC is counted. The
study also reports how sensible the generating boxes are: each simulated participant's expected
agreement with its own noiseless bound (its accuracy were its own strategy the truth), its
expected accuracy on the design's categories, and how closely the simplest strategies (a line,
an axis-aligned corner) follow its bound on its stimuli (:func:`rule_agreement`; for ``gqc``,
whether the bound is genuinely quadratic there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from catmodel.compare.recovery import simulate_participants
from catmodel.compare.strategies import STRATEGIES, fit_strategies
from catmodel.data.batch import TrialBatch
from catmodel.models.choice import choice_log_probs
from catmodel.models.decision_bound import DecisionBound
from catmodel.models.registry import get_model
from catmodel.models.rollout import rollout_logits


@dataclass
class StrategyRecovery:
    """Result of :func:`strategy_recovery`.

    Attributes
    ----------
    confusion
        Rows: design and generating strategy; columns: the share of its participants assigned
        to each strategy (rows sum to 1).
    participants
        One row per simulated participant: design, generating and assigned strategy, BIC
        weight, ``own_agreement`` and ``design_accuracy`` (expected, from the response
        probabilities) and ``rule_agreement`` (:func:`rule_agreement` of its noiseless
        bound: how closely a line or an axis-aligned corner follows it on its stimuli).
    """

    confusion: pd.DataFrame
    participants: pd.DataFrame

    def diagonal(self) -> pd.Series:
        """Share assigned to the generating strategy, by (design, strategy)."""
        return pd.Series(
            {
                key: self.confusion.loc[key, key[1]]
                for key in self.confusion.index
                if key[1] in self.confusion.columns
            }
        )


def expected_accuracies(model, batch, values) -> tuple[np.ndarray, np.ndarray]:
    """Per learner: expected agreement with the model's own noiseless bound, and expected
    accuracy on the batch's categories (mean over trials of the response probabilities)."""
    rows = np.arange(batch.n_learners)
    logits = rollout_logits(model, batch, rows, values)
    lapse = torch.as_tensor(np.asarray(values.get("lapse", np.zeros(len(rows))), dtype=float))
    probs = torch.exp(choice_log_probs(logits, 1.0, lapse[:, None]))
    mask = batch.mask
    if isinstance(model, DecisionBound):
        # the noiseless strategy responds the category its bound's side says
        own = torch.argmax(logits, -1)
    else:  # a random responder has no bound: its most likely response is its strategy
        own = torch.argmax(probs, -1)
    agree = torch.gather(probs, -1, own[..., None])[..., 0]
    correct = torch.gather(probs, -1, batch.category.clamp(min=0)[..., None])[..., 0]
    n = mask.sum(1).double()
    return (
        (torch.where(mask, agree, 0.0).sum(1) / n).numpy(),
        (torch.where(mask, correct, 0.0).sum(1) / n).numpy(),
    )


#: orientations (degrees, 0 to 180) of the lines :func:`rule_agreement` tries
LINE_ANGLES = np.arange(0.0, 180.0, 1.0)


def rule_agreement(x: np.ndarray, labels: np.ndarray) -> float:
    """The highest share of ``labels`` that any noiseless unidimensional, linear or
    conjunctive bound reproduces on the stimuli ``x``.

    How far a bound is from the simpler strategies on these stimuli: 1 when a line (a
    unidimensional rule is a line at 0 or 90 degrees) or an axis-aligned corner splits the
    stimuli as the labels do. Lines at every degree (:data:`LINE_ANGLES`) and every threshold
    between stimuli; corners at every pair of thresholds, in all four orientations, either
    category inside.

    Parameters
    ----------
    x
        Stimuli (N, 2), the first two features.
    labels
        (N,) 0 or 1: the category a bound responds to each stimulus.
    """
    x = np.asarray(x, dtype=float)[:, :2]
    lab = np.asarray(labels).astype(bool)
    n = len(lab)
    if n == 0:
        return float("nan")

    def split(order: np.ndarray) -> np.ndarray:
        # best agreement of "second above a threshold" or its reverse, along each ordering
        # (columns): the first-category labels below plus the second-category ones above
        ones = np.cumsum(lab[order], 0)  # second-category labels among the first k + 1
        first_below = np.arange(1, n + 1)[:, None] - ones
        agree = first_below + (ones[-1] - ones)
        agree = np.vstack([ones[-1][None], agree])  # the threshold below every stimulus
        return np.maximum(agree, n - agree).max(0)

    theta = np.radians(LINE_ANGLES)
    proj = x @ np.stack([np.cos(theta), np.sin(theta)])
    best = split(np.argsort(proj, 0)).max()
    # corners: the second-category count in every quadrant below-left of (c1, c2), from a 2D
    # prefix sum over the stimuli's ranks; the other corners by flipping the axes
    for s1 in (1.0, -1.0):
        for s2 in (1.0, -1.0):
            r1 = np.argsort(np.argsort(s1 * x[:, 0]))
            r2 = np.argsort(np.argsort(s2 * x[:, 1]))
            grid = np.zeros((n + 1, n + 1))
            count = np.zeros((n + 1, n + 1))
            np.add.at(grid, (r1 + 1, r2 + 1), lab.astype(float))
            np.add.at(count, (r1 + 1, r2 + 1), 1.0)
            second_in = grid.cumsum(0).cumsum(1)
            first_in = count.cumsum(0).cumsum(1) - second_in
            # second category inside: its labels inside plus the first category's outside
            agree = second_in + (n - lab.sum() - first_in)
            best = max(best, agree.max(), (n - agree).max())
    return float(best) / n


def rule_agreements(model, batch, values) -> np.ndarray:
    """Per learner, :func:`rule_agreement` of the model's noiseless responses on its stimuli
    (NaN for a model without a bound)."""
    if not isinstance(model, DecisionBound):
        return np.full(batch.n_learners, np.nan)
    logits = rollout_logits(model, batch, np.arange(batch.n_learners), values)
    labels = (logits[..., 1] > logits[..., 0]).numpy()
    mask = batch.mask.numpy()
    x = batch.x.numpy()
    return np.array([rule_agreement(x[i][mask[i]], labels[i][mask[i]]) for i in range(len(x))])


def concat_batches(batches: Sequence[TrialBatch]) -> TrialBatch:
    """One batch of the learners of several (each standardised on its own, as simulated),
    padded to the longest; learner ids are prefixed by the batch's position (``3/sim001``)."""
    t_max = max(b.max_trials for b in batches)

    def cat(name: str, fill) -> torch.Tensor:
        parts = []
        for b in batches:
            t = getattr(b, name)
            pad = [0, 0] * (t.dim() - 2) + [0, t_max - t.shape[1]]
            parts.append(torch.nn.functional.pad(t, pad, value=fill))
        return torch.cat(parts)

    first = batches[0]
    return replace(
        first,
        learners=tuple(f"{i}/{id_}" for i, b in enumerate(batches) for id_ in b.learners),
        participants=tuple(f"{i}/{p}" for i, b in enumerate(batches) for p in b.participants),
        conditions=None,
        x=cat("x", 0.0),
        n_trials=torch.cat([b.n_trials for b in batches]),
        category=cat("category", -1),
        feedback=cat("feedback", -1),
        response=cat("response", -1),
        block=cat("block", -1),
        row=cat("row", -1),
    )


def strategy_recovery(
    designs: Sequence[str] = ("ii", "rb"),
    strategies: Sequence[str] | None = None,
    n_participants: int = 100,
    n_trials: int = 100,
    seed: int = 0,
    starts: int = 3,
    progress: bool = False,
) -> StrategyRecovery:
    """Simulate each strategy on each design and classify the simulated blocks.

    Parameters
    ----------
    designs
        Design names (:func:`catmodel.simulate.designs.make_design`); stimuli are
        standardised per simulated data set, as a fit would do.
    strategies
        Strategy names (default: all of :data:`STRATEGIES`); each is simulated in its
        default orientation and every one of them is fitted.
    n_participants, n_trials
        Simulated participants per (design, strategy), each one block of ``n_trials``.
    seed
        Seed of the stimuli, parameters and responses.
    starts
        Local refinements per fit.
    """
    names = list(strategies or STRATEGIES)
    rows, batches = [], []
    for d, design in enumerate(designs):
        for s, name in enumerate(names):
            model = get_model(STRATEGIES[name][0][0])
            _, batch, values = simulate_participants(
                model, design, n_participants, n_trials, seed + 1000 * d + 10 * s
            )
            own, accuracy = expected_accuracies(model, batch, values)
            rows.append(
                pd.DataFrame(
                    {
                        "design": design,
                        "generating": name,
                        "participant": list(batch.learners),
                        "own_agreement": own,
                        "design_accuracy": accuracy,
                        "rule_agreement": rule_agreements(model, batch, values),
                    }
                )
            )
            batches.append(batch)
    # one batch for all: every strategy is fitted once over every simulated participant
    fits = fit_strategies(
        concat_batches(batches), names, starts=starts, seed=seed, progress=progress
    )
    participants = pd.concat(rows, ignore_index=True)
    participants["best_model"] = fits.table["best_model"].to_numpy()
    participants["bic_weight"] = fits.table["bic_weight"].to_numpy()
    confusion = (
        pd.crosstab(
            [participants["design"], participants["generating"]], participants["best_model"]
        )
        .reindex(columns=names, fill_value=0)
        .astype(float)
    )
    confusion = confusion.div(confusion.sum(axis=1), axis=0)
    order = pd.MultiIndex.from_product([list(designs), names], names=["design", "generating"])
    return StrategyRecovery(confusion=confusion.reindex(order), participants=participants)
