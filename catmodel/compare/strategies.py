"""Which response strategy describes each participant, block by block (decision-bound analysis).

The rule-based vs information-integration literature reports, per block of trials, which
decision-bound model (:mod:`catmodel.models.decision_bound`) fits a participant's responses
best by BIC: a unidimensional rule on either feature, a conjunctive rule, a linear or quadratic
bound, or guessing. :func:`fit_strategies` does this for every (participant, block) in one
batch per model, so the blocks of all participants are fitted together like participants.

A strategy whose orientation is a setting (which side of a criterion holds which category, the
corner of a conjunction) is fitted in every orientation, and its NLL is the best of them: the
orientation is chosen, not estimated, so it is not counted as a parameter (as in the
literature's analyses). The chosen one is reported in ``orientation``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel.data.batch import Standardization, TrialBatch, batch_from_frame
from catmodel.errors import SettingsError
from catmodel.fitting.fit import fit
from catmodel.models.base import Model
from catmodel.models.decision_bound import CORNERS, SIDES
from catmodel.models.registry import get_model

#: each strategy and the settings of its orientations (all fitted; the best NLL counts)
STRATEGIES: dict[str, tuple[tuple[str, dict], ...]] = {
    "ud_x1": tuple(("ud_x1", {"above": s}) for s in reversed(SIDES)),
    "ud_x2": tuple(("ud_x2", {"above": s}) for s in reversed(SIDES)),
    "cj": tuple(("cj", {"corner": c, "inside": s}) for c in CORNERS for s in reversed(SIDES)),
    "glc": (("glc", {}),),
    "gqc": (("gqc", {}),),
    "guessing": (("guessing", {}),),
}
#: separator between a participant id and its block number in block learners' ids
BLOCK_SEPARATOR = "#b"


def block_numbers(n_trials: int, block_size: int) -> np.ndarray:
    """Block (1-based) of each of a participant's ``n_trials`` trials.

    Blocks of ``block_size`` consecutive trials; a last partial block shorter than half a
    block joins the one before it (otherwise it is a block of its own).
    """
    if int(block_size) != block_size or block_size < 1:
        raise SettingsError(f"--block-size must be a positive integer, got {block_size}")
    blocks = np.arange(n_trials) // block_size + 1
    rest = n_trials % block_size
    if n_trials > block_size and 0 < rest < block_size / 2:
        blocks[blocks == blocks[-1]] -= 1
    return blocks


def block_frame(frame: pd.DataFrame, block_size: int) -> pd.DataFrame:
    """A trial table (sorted by learner, then trial) with each learner's blocks as learners.

    Adds ``strategy_block`` (1-based) and ``source_learner`` and replaces ``learner`` by
    ``<learner>#b<block>``, so that one batch holds every (participant, block).
    """
    out = frame.copy()
    sizes = out.groupby("learner", sort=False).size()
    out["strategy_block"] = np.concatenate([block_numbers(n, block_size) for n in sizes])
    out["source_learner"] = out["learner"]
    out["learner"] = (
        out["learner"].astype(str) + BLOCK_SEPARATOR + out["strategy_block"].astype(str)
    )
    return out


def block_batch(
    table, block_size: int, standardize: bool | Standardization = True
) -> tuple[TrialBatch, pd.DataFrame]:
    """The :class:`~catmodel.data.TrialBatch` of every (participant, block) of ``table`` and
    its long frame. Features are standardised over the whole table (not per block), so a
    criterion means the same in every block."""
    frame = block_frame(table.frame, block_size)
    batch = batch_from_frame(frame, list(table.features), list(table.categories), standardize)
    return batch, frame


@dataclass
class StrategyFits:
    """Fitted strategies of every (participant, block).

    Attributes
    ----------
    table
        One row per (participant, block): ``participant``, ``condition`` (when the data have
        one), ``block``, ``n_trials`` (with a response), ``nll_<s>`` and ``bic_<s>`` for each
        strategy, ``best_model``, ``bic_weight`` (the best strategy's weight
        ``exp(-ΔBIC/2)`` normalised over the strategies), ``orientation`` (the best model's
        settings, where it has any) and the best model's parameters (natural scale, in the
        units the models saw; NaN for parameters of other strategies).
    models
        The fitted model (orientation) behind each strategy of each row: ``{strategy: [Model
        per row]}``.
    values
        ``{strategy: {parameter: (rows,)}}`` natural-scale values at each row's best fit.
    batch
        The batch of (participant, block) learners the fits ran on.
    """

    table: pd.DataFrame
    models: dict[str, list[Model]]
    values: dict[str, dict[str, np.ndarray]]
    batch: TrialBatch

    def best(self, row: int) -> tuple[Model, dict[str, float]]:
        """The best strategy's model and parameter values for row ``row`` of :attr:`table`."""
        name = self.table["best_model"].iloc[row]
        vals = {k: float(v[row]) for k, v in self.values[name].items()}
        return self.models[name][row], vals


def _variants(name: str) -> list[Model]:
    """The models of strategy ``name``, one per orientation, named ``name[settings]``."""
    out = []
    for base, settings in STRATEGIES[name]:
        model = get_model(base, **settings)
        model.name = f"{name}[{_orientation_label(settings)}]" if settings else name
        out.append(model)
    return out


def _orientation_label(settings: Mapping[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in settings.items())


def fit_strategies(
    batch: TrialBatch,
    strategies: Sequence[str] | None = None,
    *,
    starts: int = 3,
    candidates: int | None = None,
    seed: int = 0,
    fix: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    free: Sequence[str] = (),
    blocks: Sequence[int] | None = None,
    progress: bool = False,
    device: str = "cpu",
    dtype: str = "float64",
) -> StrategyFits:
    """Fit every strategy (in every orientation) to every learner of ``batch`` by BIC.

    Parameters
    ----------
    batch
        Learners to classify, e.g. the (participant, block) learners of :func:`block_batch`.
    strategies
        Names from :data:`STRATEGIES` (default: all).
    starts, candidates, seed, fix, bounds, free
        As for :func:`catmodel.fitting.fit.fit`; ``fix``, ``bounds`` and ``free`` apply to
        every strategy that has the parameter. A strategy whose model asks for more starts
        (:attr:`~catmodel.models.decision_bound.DecisionBound.min_starts`: ``gqc``, 10) gets
        that many.
    blocks
        Block number of each learner (default: from the learner ids of :func:`block_frame`,
        else 1).
    progress
        Show the fits' progress bars.
    device, dtype
        Where the fits run (as for :func:`catmodel.fitting.fit.fit`).
    """
    names = list(strategies or STRATEGIES)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise SettingsError(
            f"unknown strategy {unknown[0]!r} (strategies: {', '.join(STRATEGIES)})"
        )
    if batch.n_categories != 2:
        raise SettingsError(
            f"strategies need two categories, the data have {batch.n_categories} "
            "(select two-category conditions, e.g. with --where)"
        )
    variants_of = {name: _variants(name) for name in names}
    known = {
        p.name
        for variants in variants_of.values()
        for p in variants[0].params(batch.n_features, batch.n_categories)
    }
    for key in [*(fix or {}), *(bounds or {}), *free]:
        if key not in known:
            raise SettingsError(
                f"no strategy has a parameter {key!r} (parameters: {', '.join(sorted(known))})"
            )
    n = batch.n_learners
    nll: dict[str, np.ndarray] = {}
    bic: dict[str, np.ndarray] = {}
    chosen: dict[str, list[Model]] = {}
    values: dict[str, dict[str, np.ndarray]] = {}
    n_trials = None
    for name in names:
        variants = variants_of[name]
        mine = {p.name for p in variants[0].params(batch.n_features, batch.n_categories)}
        result = fit(
            batch,
            variants,
            starts=max(starts, getattr(variants[0], "min_starts", 1)),
            candidates=candidates,
            seed=seed,
            fix={k: v for k, v in (fix or {}).items() if k in mine},
            bounds={k: v for k, v in (bounds or {}).items() if k in mine},
            free=[k for k in free if k in mine],
            ci=None,
            progress=progress,
            device=device,
            dtype=dtype,
        )
        fits = [result[m.name] for m in variants]
        stack = np.stack([f.nll for f in fits])  # (variants, learners)
        pick = np.argmin(stack, axis=0)
        nll[name] = stack[pick, np.arange(n)]
        bic[name] = np.stack([f.bic for f in fits])[pick, np.arange(n)]
        chosen[name] = [variants[i] for i in pick]
        values[name] = {
            p: np.array([fits[i].values[p][j] for j, i in enumerate(pick)]) for p in fits[0].values
        }
        n_trials = fits[0].n_trials
    table = _strategy_table(batch, names, nll, bic, chosen, values, n_trials, blocks)
    return StrategyFits(table=table, models=chosen, values=values, batch=batch)


def _strategy_table(batch, names, nll, bic, chosen, values, n_trials, blocks) -> pd.DataFrame:
    n = batch.n_learners
    participants, block = [], []
    for i, learner in enumerate(batch.learners):
        head, sep, tail = learner.rpartition(BLOCK_SEPARATOR)
        is_block = bool(sep) and tail.isdigit()
        participants.append(head if is_block else batch.participants[i])
        block.append(int(tail) if is_block else 1)
    if blocks is not None:
        block = [int(b) for b in blocks]
    table = pd.DataFrame({"participant": participants})
    if batch.conditions is not None:
        table["condition"] = list(batch.conditions)
    table["block"] = block
    table["n_trials"] = n_trials
    for name in names:
        table[f"nll_{name}"] = nll[name]
    bics = np.stack([bic[name] for name in names], -1)  # (learners, strategies)
    for j, name in enumerate(names):
        table[f"bic_{name}"] = bics[:, j]
    best = np.argmin(bics, axis=1)
    delta = bics - bics[np.arange(n), best][:, None]
    weights = np.exp(-0.5 * delta)
    table["best_model"] = [names[j] for j in best]
    table["bic_weight"] = 1.0 / weights.sum(1)
    table["orientation"] = [
        _orientation_label(chosen[names[j]][i].settings) for i, j in enumerate(best)
    ]
    params = list(dict.fromkeys(p for name in names for p in values[name]))
    for p in params:
        table[p] = [
            values[names[j]][p][i] if p in values[names[j]] else np.nan for i, j in enumerate(best)
        ]
    return table


def strategy_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Share of participants best fit by each strategy, by condition and block (long form)."""
    keys = ["condition", "block"] if "condition" in table else ["block"]
    counts = table.groupby([*keys, "best_model"]).size().rename("n").reset_index()
    totals = counts.groupby(keys)["n"].transform("sum")
    counts["share"] = counts["n"] / totals
    return counts
