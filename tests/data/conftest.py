"""Fixtures for the trial-data tests: small files written into a temporary directory."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """``write_file("a.csv", text)`` writes ``text`` (gzipped when the name ends in .gz)."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return write


def trial_frame(
    n_participants: int = 3, n_trials: int = 40, seed: int = 0, labels=("A", "B")
) -> pd.DataFrame:
    """A standard-schema table: two features, categories alternating, noisy responses."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(1, n_participants + 1):
        category = np.array([labels[t % len(labels)] for t in range(n_trials)], dtype=object)
        flip = rng.random(n_trials) < 0.3
        response = category.copy()
        response[flip] = np.array(
            [labels[(labels.index(c) + 1) % len(labels)] for c in category[flip]], dtype=object
        )
        rows.append(
            pd.DataFrame(
                {
                    "participant": p,
                    "trial": np.arange(1, n_trials + 1),
                    "x1": rng.normal(size=n_trials),
                    "x2": rng.normal(size=n_trials),
                    "category": category,
                    "response": response,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def make_frame() -> Callable[..., pd.DataFrame]:
    """The :func:`trial_frame` builder, for tests that need their own sizes or labels."""
    return trial_frame


@pytest.fixture
def standard_frame() -> pd.DataFrame:
    return trial_frame()


@pytest.fixture
def standard_csv(tmp_path: Path, standard_frame: pd.DataFrame) -> Path:
    path = tmp_path / "all.csv"
    standard_frame.to_csv(path, index=False)
    return path
