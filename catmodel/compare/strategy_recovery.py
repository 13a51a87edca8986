"""Strategy recovery: are simulated participants assigned to the strategy that generated them?

For each design and each strategy of :data:`~catmodel.compare.strategies.STRATEGIES`,
participants are simulated for one block of trials with parameters drawn over the strategy's
generating box (in its default orientation), every strategy is fitted to every participant
(:func:`~catmodel.compare.strategies.fit_strategies`), and the best by BIC is counted. The
study also reports how sensible the generating boxes are: each simulated participant's expected
agreement with its own noiseless bound (its accuracy were its own strategy the truth) and its
expected accuracy on the design's categories.
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
        probabilities).
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
    confusion = confusion.div(confusion.sum(1), axis=0)
    order = pd.MultiIndex.from_product([list(designs), names], names=["design", "generating"])
    return StrategyRecovery(confusion=confusion.reindex(order), participants=participants)
