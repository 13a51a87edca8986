"""Compile every kernel ahead of a real run (``catmodel warmup``).

Numba compiles a kernel on its first call and caches it (:mod:`catmodel.kernels.cache`); the
first fit after an install therefore spends 30-120 s compiling. Fitting every registered
model once to a tiny made-up data set goes through every kernel a fit calls, so that the
compilation happens when the user chooses (say, once on a cluster's login node before jobs
start) rather than inside the first job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from catmodel.data.batch import batch_from_frame
from catmodel.fitting.fit import fit
from catmodel.models.base import Model
from catmodel.models.registry import available_models, get_model

#: model settings with kernels of their own beyond each registered model's defaults
EXTRA_VARIANTS: tuple[tuple[str, dict], ...] = (("gaussian", {"update": "sgd"}),)


def warmup_models() -> list[Model]:
    """Every registered model (variants included) and :data:`EXTRA_VARIANTS`."""
    models = [get_model(name) for name in sorted(available_models())]
    return models + [get_model(name, **settings) for name, settings in EXTRA_VARIANTS]


def tiny_frame(n_learners: int = 2, n_trials: int = 24, seed: int = 0) -> pd.DataFrame:
    """A made-up two-feature, two-category table: enough trials to run every kernel."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_learners):
        for _ in range(n_trials):
            c = int(rng.integers(0, 2))
            x = rng.normal(c - 0.5, 1.0, 2)
            rows.append(
                {
                    "learner": f"w{p}",
                    "participant": f"w{p}",
                    "x1": x[0],
                    "x2": x[1],
                    "category": c,
                    "response": int(rng.integers(0, 2)),
                }
            )
    return pd.DataFrame(rows)


def warm_up(models: Sequence[Model] | None = None) -> list[tuple[str, float]]:
    """Fit each model once to :func:`tiny_frame`, compiling (or loading) its kernels.

    Parameters
    ----------
    models
        The models to warm up (default :func:`warmup_models`).

    Returns
    -------
    list of (str, float)
        Each model's name (with non-default settings) and the seconds its fit took: long
        where it compiled, short where the cache already held its kernels.
    """
    batch = batch_from_frame(tiny_frame(), ["x1", "x2"])
    timings = []
    for model in models if models is not None else warmup_models():
        t0 = time.perf_counter()
        fit(batch, [model], starts=2, candidates=8, ci="wald")
        label = model.name
        if model.name == "gaussian" and model.settings.get("update") == "sgd":
            label += " (update=sgd)"
        timings.append((label, time.perf_counter() - t0))
    return timings
