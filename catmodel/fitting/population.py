"""The population distribution of an empirical-Bayes fit, and its table (``population.csv``).

A Gaussian over a model's free parameters on the scale they are searched on (log10 for rates,
logit for probabilities, linear otherwise): one mean per group (the whole sample, or each
condition with ``--population-by condition``) and one covariance shared by every group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catmodel.models.params import ParameterSet

#: the columns of population.csv
POPULATION_COLUMNS = [
    "model",
    "condition",
    "parameter",
    "scale",
    "mean",
    "sd",
    "se_mean",
    "median_natural",
    "n_participants",
    "covariance",
]


@dataclass
class Population:
    """A fitted Gaussian population over the free parameters (scale coordinates).

    Attributes
    ----------
    names
        The free parameters, in the order of the columns of :attr:`mean`.
    groups
        The groups that have a mean of their own: ``["all"]``, or the conditions.
    mean
        (G, F) population mean of each group.
    cov
        (F, F) covariance shared by every group (diagonal when :attr:`diagonal`).
    counts
        (G,) participants in each group.
    diagonal
        Whether the covariance was restricted to its diagonal.
    iterations, converged, change
        EM iterations run, whether the change in the summed log evidence fell below the
        tolerance, and the last change.
    history
        The summed log evidence after every iteration.
    """

    names: list[str]
    groups: list[str]
    mean: np.ndarray
    cov: np.ndarray
    counts: np.ndarray
    diagonal: bool
    iterations: int = 0
    converged: bool = False
    change: float = float("nan")
    history: list[float] = field(default_factory=list)

    @property
    def sd(self) -> np.ndarray:
        """(F,) population standard deviations (scale coordinates)."""
        return np.sqrt(np.diag(self.cov))

    def se_mean(self) -> np.ndarray:
        """(G, F) standard errors of the group means: sd / sqrt(participants in the group)
        (the sampling error of a mean of the group's MAP estimates, ignoring the estimates'
        own posterior spread, which the EM has already folded into the covariance)."""
        return self.sd[None, :] / np.sqrt(np.maximum(self.counts, 1))[:, None]

    def n_parameters(self) -> int:
        """Population parameters (means of every group plus the covariance's free entries),
        the |M| of the integrated BIC."""
        f = len(self.names)
        cov = f if self.diagonal else f * (f + 1) // 2
        return len(self.groups) * f + cov

    def record(self) -> dict:
        """A JSON-able summary for the run record."""
        return {
            "groups": list(self.groups),
            "covariance": "diagonal" if self.diagonal else "full",
            "iterations": int(self.iterations),
            "converged": bool(self.converged),
            "change": float(self.change),
        }

    def to_frame(self, model: str, pset: ParameterSet) -> pd.DataFrame:
        """One row per group x free parameter (the rows of ``population.csv``): mean, sd and
        the mean's standard error on the search scale, and the natural-scale median (the
        search scale's mean mapped back: a Gaussian's median survives any monotone map)."""
        rows = []
        se = self.se_mean()
        for g, group in enumerate(self.groups):
            for j, name in enumerate(self.names):
                param = pset[name]
                rows.append(
                    {
                        "model": model,
                        "condition": group,
                        "parameter": name,
                        "scale": param.scale,
                        "mean": float(self.mean[g, j]),
                        "sd": float(self.sd[j]),
                        "se_mean": float(se[g, j]),
                        "median_natural": float(param.from_scale(self.mean[g, j])),
                        "n_participants": int(self.counts[g]),
                        "covariance": "diagonal" if self.diagonal else "full",
                    }
                )
        return pd.DataFrame(rows, columns=POPULATION_COLUMNS)
