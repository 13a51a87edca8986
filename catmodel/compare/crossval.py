"""Cross-validated NLL that respects trial order.

A learner's state depends on every trial it has seen, so trials cannot be shuffled into folds.
Two schemes keep the order:

``forward``
    Fit on the blocks up to a split, predict the blocks after it (the learner runs through the
    whole session; only the later responses are scored). With several splits, each later
    block is predicted once, from a fit to everything before it.
``leave-one-block-out``
    For each block, fit to the responses of all other blocks and score that block's responses.
    The held-out block's trials still update the learner — the person saw them and got
    feedback — only their responses leave the likelihood.

Both return held-out NLL per participant and model; lower is better, and no parameter count
penalty is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from catmodel.errors import SettingsError
from catmodel.fitting.fit import fit_model
from catmodel.fitting.likelihood import Objective
from catmodel.models.base import Model
from catmodel.models.params import ParameterSet

SCHEMES = ("forward", "leave-one-block-out")


def _blocks(batch) -> np.ndarray:
    present = batch.block[batch.mask]
    blocks = np.unique(present.cpu().numpy())
    if len(blocks) < 2:
        raise SettingsError(
            "cross-validation needs at least two blocks (a block column, or blocks in the design)"
        )
    return blocks


def _responses_only(batch, keep: torch.Tensor):
    """The batch with the responses outside ``keep`` removed (the learner still sees every
    trial; only the kept responses enter a likelihood)."""
    return batch.with_responses(
        torch.where(keep, batch.response, torch.full_like(batch.response, -1))
    )


def _held_out_nll(model, batch, pset, fit, score_mask: torch.Tensor) -> np.ndarray:
    """NLL of the responses in ``score_mask`` under the fitted parameters."""
    objective = Objective(model, _responses_only(batch, score_mask), pset)
    return objective.nll_at(np.arange(batch.n_learners), fit.scale)


def cross_validate(
    batch,
    models: Sequence[Model],
    scheme: str = "leave-one-block-out",
    starts: int = 3,
    candidates: int | None = None,
    seed: int = 0,
    min_train_blocks: int = 1,
) -> pd.DataFrame:
    """Held-out NLL per participant and model.

    Parameters
    ----------
    batch
        The trials (with a ``block`` for each trial).
    models
        Models to compare.
    scheme
        ``"forward"`` or ``"leave-one-block-out"``.
    starts, candidates, seed
        Fitting settings for each fold.
    min_train_blocks
        ``forward`` only: the first split leaves at least this many blocks for training.

    Returns
    -------
    pandas.DataFrame
        participant, model, cv_nll (summed over held-out folds), n_scored (responses scored),
        scheme, folds.
    """
    if scheme not in SCHEMES:
        raise SettingsError(f"unknown cross-validation scheme {scheme!r} ({', '.join(SCHEMES)})")
    blocks = _blocks(batch)
    if scheme == "forward":
        folds = [
            (blocks[blocks <= b], blocks[blocks > b][:1]) for b in blocks[min_train_blocks - 1 : -1]
        ]
    else:
        folds = [(blocks[blocks != b], np.array([b])) for b in blocks]
    block = batch.block.cpu().numpy()
    rows = []
    for model in models:
        pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
        total = np.zeros(batch.n_learners)
        scored = np.zeros(batch.n_learners, dtype=int)
        for train, test in folds:
            train_mask = torch.as_tensor(np.isin(block, train))
            test_mask = torch.as_tensor(np.isin(block, test))
            fit = fit_model(
                model,
                _responses_only(batch, train_mask),
                pset,
                starts=starts,
                candidates=candidates,
                seed=seed,
            )
            total += _held_out_nll(model, batch, pset, fit, test_mask)
            scored += ((batch.response >= 0) & test_mask).sum(1).cpu().numpy()
        for i, participant in enumerate(batch.learners):
            rows.append(
                {
                    "participant": participant,
                    "model": model.name,
                    "cv_nll": total[i],
                    "n_scored": int(scored[i]),
                    "scheme": scheme,
                    "folds": len(folds),
                }
            )
    return pd.DataFrame(rows)
