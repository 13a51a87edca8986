"""Padded tensors for batched rollouts: learners x trials x features, with masks and label indices.

The validated long table (:class:`catmodel.data.TrialTable`) holds one row per trial. Models run
on a :class:`TrialBatch`: every learner's trials in order, padded to the longest learner, with
integer indices for the category, the feedback label and the response. ``-1`` marks "none": a
padded trial, a trial without feedback (the model predicts but does not learn), or a trial
without a response (it contributes no likelihood term).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

NO_LABEL = -1


@dataclass(frozen=True)
class Standardization:
    """Per-feature affine map ``z = (x - mean) / sd`` applied before a model sees the stimuli.

    Features are standardised per data set (pooled over all learners and trials), so that
    learning rates, covariance bands and parameter boxes mean the same on data recorded in any
    units. The map is recorded with every result and undone for plots.
    """

    mean: tuple[float, ...]
    sd: tuple[float, ...]

    @classmethod
    def identity(cls, n_features: int) -> Standardization:
        return cls(mean=(0.0,) * n_features, sd=(1.0,) * n_features)

    @classmethod
    def fit(cls, features: np.ndarray) -> Standardization:
        """Estimate the map from an (n_trials, n_features) array; constant features keep sd 1."""
        mean = features.mean(axis=0)
        sd = features.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        return cls(mean=tuple(float(m) for m in mean), sd=tuple(float(s) for s in sd))

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - np.asarray(self.mean)) / np.asarray(self.sd)

    def undo(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=float) * np.asarray(self.sd) + np.asarray(self.mean)

    def undo_covariance(self, cov: np.ndarray) -> np.ndarray:
        """Map covariance matrices (..., D, D) from standardised back to original units."""
        s = np.asarray(self.sd)
        return np.asarray(cov) * s[:, None] * s[None, :]


@dataclass(frozen=True)
class TrialBatch:
    """Every learner's trials as padded tensors.

    Attributes
    ----------
    learners
        Learner ids (one per row of the tensors), e.g. ``"12"`` or ``"12:2"`` for a learner key
        of several columns.
    participants
        The participant of each learner.
    conditions
        The condition of each learner, or ``None`` when the data have no condition column.
    categories
        Category labels in index order.
    features
        Feature names in column order of ``x``.
    x
        Stimuli, float tensor (n_learners, n_trials, n_features), standardised by
        ``standardization``; zero on padded trials.
    n_trials
        Number of real trials of each learner (its trials are ``0 .. n_trials - 1``).
    category, feedback, response
        Long tensors (n_learners, n_trials) of label indices, ``-1`` for none.
    block
        Long tensor (n_learners, n_trials) of block numbers (``-1`` on padded trials).
    row
        Long tensor (n_learners, n_trials): the row of the long table each trial came from
        (``-1`` on padded trials), used to write predictions back.
    standardization
        The map applied to the features.
    box_low, box_high, stim_mean, stim_sd
        Per-feature minimum, maximum, mean and standard deviation of the (standardised) stimuli
        over the whole data set. Models place their starting states by these, so a learner
        starts in the same state whether it is fitted alone or with the rest of its data set.
    """

    learners: tuple[str, ...]
    participants: tuple[str, ...]
    conditions: tuple[str, ...] | None
    categories: tuple
    features: tuple[str, ...]
    x: torch.Tensor
    n_trials: torch.Tensor
    category: torch.Tensor
    feedback: torch.Tensor
    response: torch.Tensor
    block: torch.Tensor
    row: torch.Tensor
    standardization: Standardization
    box_low: tuple[float, ...] = ()
    box_high: tuple[float, ...] = ()
    stim_mean: tuple[float, ...] = ()
    stim_sd: tuple[float, ...] = ()
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def n_learners(self) -> int:
        return int(self.x.shape[0])

    @property
    def max_trials(self) -> int:
        return int(self.x.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.x.shape[2])

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    @property
    def mask(self) -> torch.Tensor:
        """Bool (n_learners, n_trials): the trial exists (is not padding)."""
        t = torch.arange(self.max_trials, device=self.x.device)
        return t[None, :] < self.n_trials[:, None]

    @property
    def responded(self) -> torch.Tensor:
        """Bool (n_learners, n_trials): the trial has a response and so a likelihood term."""
        return self.response >= 0

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None):
        """A copy on another device and/or with another floating dtype for ``x``."""

        def move(t: torch.Tensor) -> torch.Tensor:
            return t.to(device=device)

        x = self.x.to(device=device, dtype=dtype or self.x.dtype)
        return replace(
            self,
            x=x,
            n_trials=move(self.n_trials),
            category=move(self.category),
            feedback=move(self.feedback),
            response=move(self.response),
            block=move(self.block),
            row=move(self.row),
        )

    def select(self, index) -> TrialBatch:
        """The learners at ``index`` (a list, array or slice), trimmed to their longest."""
        idx = torch.as_tensor(np.arange(self.n_learners)[index], dtype=torch.long)
        n = self.n_trials[idx]
        t_max = int(n.max()) if len(idx) else 0

        def pick(t: torch.Tensor) -> torch.Tensor:
            return t[idx, :t_max]

        return replace(
            self,
            learners=tuple(self.learners[i] for i in idx.tolist()),
            participants=tuple(self.participants[i] for i in idx.tolist()),
            conditions=None
            if self.conditions is None
            else tuple(self.conditions[i] for i in idx.tolist()),
            x=pick(self.x),
            n_trials=n,
            category=pick(self.category),
            feedback=pick(self.feedback),
            response=pick(self.response),
            block=pick(self.block),
            row=pick(self.row),
        )

    def with_responses(self, response: torch.Tensor) -> TrialBatch:
        """The same trials with other responses (simulated ones, for example)."""
        return replace(self, response=response.to(self.response))

    def with_feedback(self, feedback: torch.Tensor) -> TrialBatch:
        """The same trials with another feedback mask or labels (for cross-validation)."""
        return replace(self, feedback=feedback.to(self.feedback))

    def raw_x(self) -> np.ndarray:
        """Stimuli in the original units (padded trials stay at the feature means)."""
        return self.standardization.undo(self.x.cpu().numpy())

    def on_table_rows(self, values, n_rows: int, fill=np.nan) -> np.ndarray:
        """Per-trial ``values`` (n_learners, n_trials) put back on the long table's rows.

        Parameters
        ----------
        values
            One value per learner and trial (padded trials are ignored).
        n_rows
            Rows of the long table the batch was made from.
        fill
            Value of rows with no trial in the batch; ``None`` gives an object array (labels).
        """
        values = np.asarray(values)
        rows = self.row.cpu().numpy()
        present = rows >= 0
        out = np.full(n_rows, fill, dtype=object if fill is None else values.dtype)
        out[rows[present]] = values[present]
        return out


def sort_labels(labels) -> list:
    """Sort category labels: numbers numerically, then strings alphabetically."""

    def key(v):
        if isinstance(v, (int, float, np.integer, np.floating)):
            return (0, float(v), "")
        return (1, 0.0, str(v))

    return sorted(set(labels), key=key)


def batch_from_frame(
    frame: pd.DataFrame,
    features: list[str],
    categories: list | None = None,
    standardization: Standardization | bool = True,
    dtype: torch.dtype = torch.float64,
) -> TrialBatch:
    """Build a :class:`TrialBatch` from a normalised long table.

    Parameters
    ----------
    frame
        One row per trial, sorted by learner then trial order, with columns ``learner``,
        ``participant``, the ``features``, ``category``, and optionally ``response``,
        ``feedback`` (missing = no learning), ``block`` and ``condition``.
    features
        Feature column names.
    categories
        Category labels in index order; default: the sorted labels of ``category``.
    standardization
        ``True`` to standardise features over the whole table, ``False`` for none, or a
        :class:`Standardization` to reuse (e.g. the one a fit recorded).
    dtype
        Floating dtype of the stimuli (float64 by default).
    """
    if categories is None:
        categories = sort_labels(frame["category"].dropna().tolist())
    index_of = {label: i for i, label in enumerate(categories)}
    raw = frame[features].to_numpy(dtype=float)
    if standardization is True:
        standardization = Standardization.fit(raw)
    elif standardization is False:
        standardization = Standardization.identity(len(features))
    z = standardization.apply(raw) if len(raw) else raw

    learner_codes, learners = pd.factorize(frame["learner"], sort=False)
    n_learners = len(learners)
    counts = np.bincount(learner_codes, minlength=n_learners)
    t_max = int(counts.max()) if n_learners else 0
    # position of each row within its learner (rows are already in trial order)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    order = np.argsort(learner_codes, kind="stable")
    pos = np.empty(len(frame), dtype=np.int64)
    pos[order] = np.arange(len(frame)) - np.repeat(starts, counts)

    def labels_to_index(column: str) -> np.ndarray:
        if column not in frame:
            return np.full(len(frame), NO_LABEL, dtype=np.int64)
        values = frame[column].tolist()
        return np.array([NO_LABEL if _missing(v) else index_of[v] for v in values], dtype=np.int64)

    def padded(values: np.ndarray, fill, dt) -> np.ndarray:
        out = np.full((n_learners, t_max, *values.shape[1:]), fill, dtype=dt)
        out[learner_codes, pos] = values
        return out

    category = labels_to_index("category")
    feedback = labels_to_index("feedback") if "feedback" in frame else category
    response = labels_to_index("response")
    block = (
        frame["block"].fillna(-1).to_numpy(dtype=np.int64)
        if "block" in frame
        else np.zeros(len(frame), dtype=np.int64)
    )
    first = frame.iloc[[order[s] for s in starts]] if n_learners else frame.iloc[[]]
    participants = tuple(str(p) for p in first["participant"]) if n_learners else ()
    conditions = (
        tuple(str(c) for c in first["condition"]) if "condition" in frame and n_learners else None
    )
    return TrialBatch(
        learners=tuple(str(v) for v in learners),
        participants=participants,
        conditions=conditions,
        categories=tuple(categories),
        features=tuple(features),
        x=torch.as_tensor(padded(z, 0.0, np.float64), dtype=dtype),
        n_trials=torch.as_tensor(counts, dtype=torch.long),
        category=torch.as_tensor(padded(category, NO_LABEL, np.int64)),
        feedback=torch.as_tensor(padded(feedback, NO_LABEL, np.int64)),
        response=torch.as_tensor(padded(response, NO_LABEL, np.int64)),
        block=torch.as_tensor(padded(block, -1, np.int64)),
        row=torch.as_tensor(padded(np.arange(len(frame), dtype=np.int64), -1, np.int64)),
        standardization=standardization,
        box_low=tuple(float(v) for v in z.min(axis=0)) if len(z) else (),
        box_high=tuple(float(v) for v in z.max(axis=0)) if len(z) else (),
        stim_mean=tuple(float(v) for v in z.mean(axis=0)) if len(z) else (),
        stim_sd=tuple(float(v) for v in z.std(axis=0)) if len(z) else (),
    )


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
