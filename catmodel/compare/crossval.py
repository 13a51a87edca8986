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

Blocks are the data's own (a ``block`` column), or, with ``n_blocks``, each participant's trials
split into that many consecutive blocks of (as nearly as possible) equal size
(:func:`consecutive_blocks`), for data recorded without blocks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from catmodel.errors import SettingsError
from catmodel.fitting.fit import fit_model
from catmodel.fitting.likelihood import Objective
from catmodel.models.base import Model
from catmodel.models.params import ParameterSet

SCHEMES = ("forward", "leave-one-block-out")


def data_blocks(batch) -> np.ndarray:
    """The distinct block numbers of the batch's trials (one block, 0, without a block
    column)."""
    return np.unique(batch.block[batch.mask].cpu().numpy())


def _blocks(batch) -> np.ndarray:
    blocks = data_blocks(batch)
    if len(blocks) < 2:
        raise SettingsError(
            "cross-validation needs at least two blocks (a block column, or blocks in the "
            "design; or split each participant's trials into consecutive blocks)"
        )
    return blocks


def check_blocks(batch, n_blocks: int | None = None) -> int:
    """The number of blocks cross-validation will use; raise before any fitting if too few.

    Parameters
    ----------
    batch
        The trials.
    n_blocks
        Split each learner's trials into this many consecutive blocks instead of using the
        data's blocks (see :func:`consecutive_blocks`).

    Raises
    ------
    SettingsError
        Fewer than two blocks, or a learner with fewer trials than ``n_blocks``.
    """
    if n_blocks is None:
        return len(_blocks(batch))
    if n_blocks < 2:
        raise SettingsError(f"cross-validation needs at least two blocks, not {n_blocks}")
    counts = batch.n_trials.cpu().numpy()
    short = np.flatnonzero(counts < n_blocks)
    if len(short):
        i = int(short[0])
        raise SettingsError(
            f"cannot split the trials of participant {batch.learners[i]!r} ({int(counts[i])} "
            f"trials) into {n_blocks} blocks"
        )
    return n_blocks


def consecutive_blocks(batch, n_blocks: int):
    """The batch with each learner's trials split into ``n_blocks`` consecutive blocks.

    Learner ``i``'s trial at position ``t`` (of ``n_i``) goes to block ``1 + t * n_blocks //
    n_i``: blocks in trial order whose sizes differ by at most one. Padded trials keep -1.
    """
    check_blocks(batch, n_blocks)
    n = batch.n_trials.to(batch.block).unsqueeze(1)
    position = torch.arange(batch.max_trials, device=batch.block.device).unsqueeze(0)
    block = torch.where(batch.mask, 1 + position * n_blocks // n, torch.full_like(batch.block, -1))
    return dataclasses.replace(batch, block=block.to(batch.block))


def _responses_only(batch, keep: torch.Tensor):
    """The batch with the responses outside ``keep`` removed (the learner still sees every
    trial; only the kept responses enter a likelihood)."""
    return batch.with_responses(
        torch.where(keep, batch.response, torch.full_like(batch.response, -1))
    )


def _parameter_set(model, batch, parameter_sets: Mapping[str, ParameterSet]) -> ParameterSet:
    """The given parameter set of ``model``, else its defaults."""
    if model.name in parameter_sets:
        return parameter_sets[model.name]
    return ParameterSet.for_model(model, batch.n_features, batch.n_categories)


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
    *,
    parameter_sets: Mapping[str, ParameterSet] | None = None,
    refine: str = "nelder-mead",
    n_blocks: int | None = None,
) -> pd.DataFrame:
    """Held-out NLL per participant and model.

    Parameters
    ----------
    batch
        The trials (with a ``block`` for each trial, unless ``n_blocks`` is given).
    models
        Models to compare.
    scheme
        ``"forward"`` or ``"leave-one-block-out"``.
    starts, candidates, seed, refine
        Fitting settings for each fold (see :func:`catmodel.fitting.fit.fit_model`).
    min_train_blocks
        ``forward`` only: the first split leaves at least this many blocks for training.
    parameter_sets
        ``{model name: ParameterSet}``: the free parameters, boxes and fixed values of each
        refit (those of the fit being cross-validated); a model not listed gets its defaults.
    n_blocks
        Split each learner's trials into this many consecutive blocks (see
        :func:`consecutive_blocks`) instead of using the data's blocks.

    Returns
    -------
    pandas.DataFrame
        participant, model, cv_nll (summed over held-out folds), n_scored (responses scored),
        scheme, folds.
    """
    if scheme not in SCHEMES:
        raise SettingsError(f"unknown cross-validation scheme {scheme!r} ({', '.join(SCHEMES)})")
    if n_blocks is not None:
        batch = consecutive_blocks(batch, n_blocks)
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
        pset = _parameter_set(model, batch, parameter_sets or {})
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
                refine=refine,
                ci=None,  # held-out prediction needs the estimates only
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


def crossval_summary(cv: pd.DataFrame) -> pd.DataFrame:
    """Per model: summed held-out NLL, held-out trials and NLL per held-out trial, best first.

    Parameters
    ----------
    cv
        The table of :func:`cross_validate`.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, heldout_nll, heldout_trials, nll_per_trial``, sorted by
        ``heldout_nll``.
    """
    sums = cv.groupby("model", sort=False).agg(
        heldout_nll=("cv_nll", "sum"), heldout_trials=("n_scored", "sum")
    )
    sums["nll_per_trial"] = sums["heldout_nll"] / sums["heldout_trials"].where(
        sums["heldout_trials"] > 0
    )
    return sums.sort_values("heldout_nll", kind="stable").reset_index()
