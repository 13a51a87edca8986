"""Simulated fits tables shared by the model-comparison tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def simulate_fits(
    n_participants: int = 12,
    models: dict[str, int] | None = None,
    seed: int = 0,
    advantage: dict[str, float] | None = None,
    with_condition: bool = True,
) -> pd.DataFrame:
    """One row per participant × model with nll, aic, bic computed from their formulas.

    ``models`` maps a model name to its number of parameters; ``advantage`` lowers
    that model's nll on average (a better fit).
    """
    models = models or {"gcm": 3, "prototype": 2, "gaussian": 4}
    advantage = advantage or {}
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_participants):
        n_trials = int(rng.integers(150, 300))
        base = rng.uniform(80.0, 120.0)
        for name, k in models.items():
            nll = base - advantage.get(name, 0.0) + rng.normal(0.0, 4.0)
            row = {
                "participant": f"s{i:02d}",
                "model": name,
                "nll": nll,
                "aic": 2 * nll + 2 * k,
                "bic": 2 * nll + k * np.log(n_trials),
                "n_params": k,
                "n_trials": n_trials,
            }
            if with_condition:
                row["condition"] = "rule" if i % 2 else "ii"
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def make_fits():
    """The :func:`simulate_fits` factory, for tests that need other settings."""
    return simulate_fits


@pytest.fixture
def fits() -> pd.DataFrame:
    """Twelve participants × three models; ``gcm`` fits better by 6 nll on average."""
    return simulate_fits(advantage={"gcm": 6.0})
