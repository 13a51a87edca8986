"""Fit results: per model and participant, the best parameters and everything a reviewer asks.

Fitted quantities carry a trailing underscore where they live on an estimator; here they are
plain attributes of result objects, which are separate from the models (as in statsmodels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catmodel.models.base import Model
from catmodel.models.params import ParameterSet


@dataclass
class ModelFit:
    """One model fitted to every learner of a batch.

    Attributes
    ----------
    model, pset
        The model (with its settings) and its free/fixed parameters.
    participants, conditions
        Learner ids and conditions (or ``None``).
    values
        Natural-scale best values of every parameter, ``{name: (P,)}`` (fixed ones included).
    scale
        (P, F) best free parameters in scale coordinates (log10 for log-scaled).
    se
        (P, F) standard errors in scale coordinates; NaN where the Hessian is not positive
        definite (``se_ok`` False).
    nll, n_trials
        Best negative log-likelihood and number of trials with a response.
    converged
        The local optimiser met its tolerance from the best start and at least two starts
        reached the best NLL within 0.1.
    at_bound
        Names of free parameters at an edge of the box, per learner.
    start_nll
        (P, S) NLL reached from every start.
    """

    model: Model
    pset: ParameterSet
    participants: list[str]
    conditions: list[str] | None
    values: dict[str, np.ndarray]
    scale: np.ndarray
    se: np.ndarray
    se_ok: np.ndarray
    nll: np.ndarray
    n_trials: np.ndarray
    converged: np.ndarray
    optimizer_converged: np.ndarray
    at_bound: list[list[str]]
    start_nll: np.ndarray
    seconds: float = 0.0
    evaluations: int = 0
    info: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def n_params(self) -> int:
        return len(self.pset.free)

    @property
    def aic(self) -> np.ndarray:
        return 2.0 * self.nll + 2.0 * self.n_params

    @property
    def bic(self) -> np.ndarray:
        return 2.0 * self.nll + self.n_params * np.log(np.maximum(self.n_trials, 1))

    def to_frame(self) -> pd.DataFrame:
        """One row per participant: parameters, standard errors and fit statistics."""
        frame = pd.DataFrame({"participant": self.participants, "model": self.name})
        if self.conditions is not None:
            frame["condition"] = self.conditions
        for name in self.pset.names:
            frame[name] = self.values[name]
        free = self.pset.free_names
        for name in self.pset.names:
            frame[f"se_{name}"] = self.se[:, free.index(name)] if name in free else np.nan
        frame["nll"] = self.nll
        frame["aic"] = self.aic
        frame["bic"] = self.bic
        frame["n_params"] = self.n_params
        frame["n_trials"] = self.n_trials
        frame["converged"] = self.converged
        frame["at_bound"] = [";".join(b) for b in self.at_bound]
        # standard errors need a positive definite Hessian; where it is not, they are NaN
        frame["hessian_pd"] = self.se_ok
        return frame

    def starts_frame(self) -> pd.DataFrame:
        """Long table of the NLL reached from every start."""
        p, s = self.start_nll.shape
        return pd.DataFrame(
            {
                "participant": np.repeat(self.participants, s),
                "model": self.name,
                "start": np.tile(np.arange(1, s + 1), p),
                "nll": self.start_nll.reshape(-1),
                "best_nll": np.repeat(self.nll, s),
            }
        )


@dataclass
class FitResult:
    """Several models fitted to the same trials.

    Attributes
    ----------
    fits
        One :class:`ModelFit` per model, in the order requested.
    standardization
        The feature map the models saw (recorded so plots can undo it).
    settings
        The fitting settings (starts, seed, candidates, refinement, ...).
    """

    fits: list[ModelFit]
    standardization: object = None
    settings: dict = field(default_factory=dict)

    def __getitem__(self, model_name: str) -> ModelFit:
        for f in self.fits:
            if f.name == model_name:
                return f
        raise KeyError(model_name)

    @property
    def models(self) -> list[str]:
        return [f.name for f in self.fits]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per participant x model (the columns of ``fits.csv``)."""
        frames = [f.to_frame() for f in self.fits]
        frame = pd.concat(frames, ignore_index=True, sort=False)
        lead = ["participant", "model"] + (["condition"] if "condition" in frame else [])
        stats = ["nll", "aic", "bic", "n_params", "n_trials", "converged", "at_bound", "hessian_pd"]
        params = [c for c in frame.columns if c not in lead + stats and not c.startswith("se_")]
        ses = [c for c in frame.columns if c.startswith("se_")]
        ordered = []
        for p in params:
            ordered += [p, f"se_{p}"] if f"se_{p}" in ses else [p]
        return frame[lead + ordered + stats]

    def starts_frame(self) -> pd.DataFrame:
        return pd.concat([f.starts_frame() for f in self.fits], ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Per model and parameter: median [IQR] of the fitted values, and fit totals.

        A table to paste into a paper: one row per model, parameters as ``median [q1, q3]``
        (natural scale), then summed NLL, AIC and BIC, and the share of converged fits.
        """
        rows = []
        for f in self.fits:
            row: dict[str, object] = {"model": f.name, "k": f.n_params}
            for name in f.pset.free_names:
                v = f.values[name]
                q1, med, q3 = np.nanpercentile(v, [25, 50, 75])
                row[name] = f"{_fmt(med)} [{_fmt(q1)}, {_fmt(q3)}]"
            row["sum NLL"] = round(float(np.sum(f.nll)), 1)
            row["sum AIC"] = round(float(np.sum(f.aic)), 1)
            row["sum BIC"] = round(float(np.sum(f.bic)), 1)
            row["converged"] = f"{np.mean(f.converged):.0%}"
            row["n"] = len(f.participants)
            rows.append(row)
        return pd.DataFrame(rows).set_index("model").fillna("")

    def __repr__(self) -> str:
        return f"FitResult(models={self.models}, participants={len(self.fits[0].participants)})"


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "nan"
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.3g}"
    return f"{v:.2e}"
