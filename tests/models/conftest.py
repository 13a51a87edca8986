"""Small trial batches for the model tests: random stimuli, padded learners of different
lengths, trials without feedback and trials without a response."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from catmodel.data.batch import TrialBatch, batch_from_frame


def random_frame(
    n_features: int = 2,
    n_categories: int = 2,
    binary: bool = False,
    lengths=(12, 25, 7),
    seed: int = 0,
    p_no_feedback: float = 0.15,
    p_no_response: float = 0.1,
) -> pd.DataFrame:
    """A long table of random trials: one learner per entry of ``lengths``.

    Stimuli are standard normal (or 0/1 with ``binary``), categories and responses uniform;
    a share of trials has no feedback (no learning) and a share no response (no likelihood
    term). Trial 2 of every learner has no feedback, so each learner has at least one.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for i, n in enumerate(lengths):
        if binary:
            x = rng.integers(0, 2, (n, n_features)).astype(float)
        else:
            x = rng.normal(size=(n, n_features))
        category = rng.integers(0, n_categories, n)
        feedback = category.astype(object)
        no_feedback = rng.random(n) < p_no_feedback
        no_feedback[min(1, n - 1)] = True
        feedback[no_feedback] = None
        response = rng.integers(0, n_categories, n).astype(object)
        response[rng.random(n) < p_no_response] = None
        frame = pd.DataFrame(
            {
                "learner": f"L{i}",
                "participant": f"P{i}",
                "category": category,
                "feedback": feedback,
                "response": response,
                "block": np.arange(n) // 4 + 1,
            }
        )
        for d in range(n_features):
            frame[f"x{d + 1}"] = x[:, d]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def random_batch(**kwargs) -> TrialBatch:
    """:func:`random_frame` as a standardised :class:`TrialBatch` (categories 0..K-1)."""
    frame = random_frame(**kwargs)
    d = kwargs.get("n_features", 2)
    k = kwargs.get("n_categories", 2)
    return batch_from_frame(frame, [f"x{i + 1}" for i in range(d)], categories=list(range(k)))


def frame_batch(frame: pd.DataFrame, features: list[str], categories, standardize=True):
    """A batch from a frame with ``learner``, ``participant`` and the given columns."""
    return batch_from_frame(
        frame, features, categories=list(categories), standardization=standardize
    )


@pytest.fixture
def make_batch() -> Callable[..., TrialBatch]:
    """``make_batch(n_features=2, n_categories=2, binary=False, lengths=..., seed=0)``."""
    return random_batch


@pytest.fixture
def batch_of() -> Callable[..., TrialBatch]:
    """``batch_of(frame, features, categories, standardize=True)``."""
    return frame_batch
