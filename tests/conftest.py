"""Shared fixtures: small simulated data sets and the location of the shared real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catmodel.data.batch import batch_from_frame

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


def small_frame(n_learners=3, n_trials=60, n_features=2, n_categories=2, seed=0, separation=1.0):
    """Random Gaussian-category trials with responses, learners of different lengths."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, separation, (n_categories, n_features))
    rows = []
    for p in range(n_learners):
        n = n_trials - 7 * p
        for t in range(n):
            c = int(rng.integers(0, n_categories))
            x = means[c] + rng.normal(0, 1, n_features)
            rows.append(
                {
                    "learner": f"p{p}",
                    "participant": f"p{p}",
                    "block": t // 20 + 1,
                    **{f"x{d + 1}": x[d] for d in range(n_features)},
                    "category": c,
                    "response": int(rng.integers(0, n_categories)),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def small_batch():
    frame = small_frame()
    return batch_from_frame(frame, ["x1", "x2"])
