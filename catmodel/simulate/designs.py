"""Task designs: stimulus sequences with categories, in the trial schema the loader reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from catmodel.errors import SettingsError

#: the original model's two-category task (means, covariances), 200 points per category
TWO_GAUSSIAN_MEANS = np.array([[-0.5, 0.25], [-0.25, -0.6]])
TWO_GAUSSIAN_COVS = np.array(
    [[[0.0185, -0.005], [-0.005, 0.065]], [[0.0125, 0.005], [0.005, 0.005]]]
)


def two_gaussian(
    n_participants: int, n_trials: int = 400, seed: int = 0, block_size: int = 40
) -> pd.DataFrame:
    """The demo's task: two bivariate normal categories, equal numbers in a shuffled order.

    Each participant gets a fresh sample of ``n_trials`` stimuli (half per category, the extra
    one to category A when odd) in a random order.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for p in range(n_participants):
        n_a = (n_trials + 1) // 2
        cats = np.r_[np.zeros(n_a, int), np.ones(n_trials - n_a, int)]
        rng.shuffle(cats)
        x = np.empty((n_trials, 2))
        for k in (0, 1):
            idx = np.flatnonzero(cats == k)
            x[idx] = rng.multivariate_normal(TWO_GAUSSIAN_MEANS[k], TWO_GAUSSIAN_COVS[k], len(idx))
        frames.append(_frame(p, x, np.array(["A", "B"])[cats], block_size))
    return pd.concat(frames, ignore_index=True)


def _frame(participant: int, x: np.ndarray, category: np.ndarray, block_size: int) -> pd.DataFrame:
    n = len(x)
    frame = pd.DataFrame({
        "participant": f"sim{participant + 1:03d}",
        "trial": np.arange(1, n + 1),
        "block": np.arange(n) // block_size + 1,
    })
    for d in range(x.shape[1]):
        frame[f"x{d + 1}"] = x[:, d]
    frame["category"] = category
    return frame


DESIGNS = {"two-gaussian": two_gaussian}


def make_design(name: str, n_participants: int, n_trials: int, seed: int = 0, **options):
    """Stimuli and categories of ``n_participants`` simulated participants on design ``name``."""
    if name not in DESIGNS:
        raise SettingsError(f"unknown design {name!r} (designs: {', '.join(sorted(DESIGNS))})")
    return DESIGNS[name](n_participants, n_trials, seed=seed, **options)
