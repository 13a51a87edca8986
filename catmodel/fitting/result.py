"""Fit results: per model and participant, the best parameters and everything a reviewer asks.

Fitted quantities carry a trailing underscore where they live on an estimator; here they are
plain attributes of result objects, which are separate from the models (as in statsmodels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catmodel.fitting.intervals import Intervals
from catmodel.fitting.population import Population
from catmodel.models.base import Model, Param
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
        (P, F) standard errors in scale coordinates (log10 for log-scaled parameters, logit
        for logit-scaled ones; in fits.csv ``se_log10_<p>``, ``se_logit_<p>``, ``se_<p>``,
        see :func:`se_column`). NaN for a parameter at a bound of the box (``at_bound``),
        and NaN for all where the Hessian of the parameters off the bounds is not positive
        definite (``se_ok`` False).
    nll, n_trials
        Best negative log-likelihood and number of trials with a response.
    converged
        (P,) nullable boolean (``pd.array(..., dtype="boolean")``): the local optimiser met
        its tolerance from the best start and at least one *other* start reached the best
        NLL within 0.1. Unknown (``pd.NA``) where only one start was refined (``starts=1``,
        or the search found no second candidate a quarter of the box away from the best);
        False for a learning model whose predictions stay at chance (a flat likelihood).
    optimizer_converged
        (P,) the local optimiser met its tolerance from the best start.
    at_bound
        Names of free parameters at an edge of the box, per learner.
    start_nll
        (P, S) NLL reached from every start. The starts are search candidates in separated
        regions of the box: chosen greedily in order of NLL, each differs from the starts
        chosen before it by at least a quarter of the box width in some searched coordinate;
        NaN after the last start of a learner that had fewer such candidates than S.
    intervals
        Confidence intervals of the free parameters in scale coordinates
        (:class:`~catmodel.fitting.intervals.Intervals`), or None; NaN for a parameter at a
        bound. In fits.csv ``ci_low_<p>`` and ``ci_high_<p>`` on the natural scale.
    ci_method, ci_level
        How the intervals were computed (``"wald"`` or ``"profile"``; None without intervals)
        and their confidence level.
    at_chance
        (P,) a learning model whose predictions at the best fit are chance on every trial
        (every response probability within 1e-6 of 1/K): it learned nothing from the
        learner's data (such fits are not converged, and :attr:`FitResult.notes` names them).
    method
        ``"ml"`` (maximum likelihood) or ``"eb"`` (empirical Bayes,
        :mod:`catmodel.fitting.empirical_bayes`). For ``"eb"`` the parameters are MAP
        estimates, ``nll`` is the NLL at the MAP, ``se`` holds posterior standard deviations
        (fits.csv ``post_sd_log10_<p>``, ``post_sd_logit_<p>``, ``post_sd_<p>``) and the
        intervals are posterior intervals (weighted quantiles of importance draws of the
        posterior, search scale).
    log_evidence
        (P,) Laplace log model evidence per participant (``"eb"`` only; None for ML).
    population
        The fitted population distribution (``"eb"`` only).
    posterior_mean
        (P, F) each participant's posterior mean of the free parameters on the search scale
        (``"eb"`` with intervals only; fits.csv ``post_mean_log10_<p>``, ...): the estimate
        with the least expected squared error, which parameter recovery reads; the MAP in
        the parameter columns is the mode.
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
    converged: pd.api.extensions.ExtensionArray
    optimizer_converged: np.ndarray
    at_bound: list[list[str]]
    start_nll: np.ndarray
    at_chance: np.ndarray
    intervals: Intervals | None = None
    ci_method: str | None = None
    ci_level: float | None = None
    seconds: float = 0.0
    evaluations: int = 0
    info: dict = field(default_factory=dict)
    method: str = "ml"
    log_evidence: np.ndarray | None = None
    population: Population | None = None
    posterior_mean: np.ndarray | None = None

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
        for p in self.pset.params:
            i = free.index(p.name) if p.name in free else None
            frame[self._uncertainty_column(p)] = np.nan if i is None else self.se[:, i]
            if self.posterior_mean is not None:
                frame[post_mean_column(p)] = np.nan if i is None else self.posterior_mean[:, i]
        frame["method"] = self.method
        frame["log_evidence"] = (
            np.nan if self.log_evidence is None else np.asarray(self.log_evidence, dtype=float)
        )
        frame["nll"] = self.nll
        frame["aic"] = self.aic
        frame["bic"] = self.bic
        frame["n_params"] = self.n_params
        frame["n_trials"] = self.n_trials
        # nullable: empty in fits.csv where convergence is unknown (a single start)
        frame["converged"] = pd.array(self.converged, dtype="boolean")
        frame["at_bound"] = [";".join(b) for b in self.at_bound]
        # standard errors need a positive definite Hessian; where it is not, they are NaN
        frame["hessian_pd"] = self.se_ok
        if self.intervals is not None:
            for p in self.pset.params:
                low, high = self._natural_interval(p)
                frame[f"ci_low_{p.name}"], frame[f"ci_high_{p.name}"] = low, high
            if self.ci_method == "profile":
                frame["ci_at_edge"] = self._interval_edges()
        return frame

    def _natural_interval(self, param: Param) -> tuple[np.ndarray, np.ndarray]:
        """A parameter's interval ends on the natural scale (NaN for a fixed parameter)."""
        free = self.pset.free_names
        if param.name not in free or self.intervals is None:
            nan = np.full(len(self.participants), np.nan)
            return nan, nan.copy()
        i = free.index(param.name)
        low = param.from_scale(self.intervals.low[:, i])
        return np.asarray(low, dtype=float), np.asarray(param.from_scale(self.intervals.high[:, i]))

    def _interval_edges(self) -> list[str]:
        """Per learner, the interval ends that stopped at an edge of the box, as
        ``name:low;name:high`` (the profile stayed below its threshold up to the edge)."""
        n, names = len(self.participants), self.pset.free_names
        if self.intervals is None:
            return [""] * n
        sides = (("low", self.intervals.low_at_edge), ("high", self.intervals.high_at_edge))
        return [
            ";".join(
                f"{name}:{side}"
                for j, name in enumerate(names)
                for side, flags in sides
                if flags[i, j]
            )
            for i in range(n)
        ]

    def _uncertainty_column(self, param: Param) -> str:
        """The column of a parameter's uncertainty: its standard error (ML) or its posterior
        standard deviation (EB), named by the scale it is on."""
        return post_sd_column(param) if self.method == "eb" else se_column(param)

    def population_frame(self) -> pd.DataFrame | None:
        """The population table of an empirical-Bayes fit (None for ML)."""
        if self.population is None:
            return None
        return self.population.to_frame(self.name, self.pset)

    def parameter_columns(self, name: str) -> list[str]:
        """The columns of :meth:`to_frame` that belong to parameter ``name``, in order: its
        value, its standard error (EB: posterior sd, then posterior mean) and, with intervals,
        their ends."""
        columns = [name, self._uncertainty_column(self.pset[name])]
        if self.posterior_mean is not None:
            columns.append(post_mean_column(self.pset[name]))
        if self.intervals is not None:
            columns += [f"ci_low_{name}", f"ci_high_{name}"]
        return columns

    def starts_frame(self) -> pd.DataFrame:
        """Long table of the NLL reached from every start that was refined."""
        p, s = self.start_nll.shape
        frame = pd.DataFrame(
            {
                "participant": np.repeat(self.participants, s),
                "model": self.name,
                "start": np.tile(np.arange(1, s + 1), p),
                "nll": self.start_nll.reshape(-1),
                "best_nll": np.repeat(self.nll, s),
            }
        )
        # learners with fewer separated starts have NaN in the slots they did not use
        return frame[~np.isnan(self.start_nll.reshape(-1))].reset_index(drop=True)


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
    notes
        Warnings about the fit, one line each (e.g. participants with too few trials for a
        model's parameters, or whose fit of a learning model predicts chance on every trial);
        :meth:`to_string` ends with them.
    """

    fits: list[ModelFit]
    standardization: object = None
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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
        stats = ["method", "log_evidence", "nll", "aic", "bic", "n_params", "n_trials"]
        stats += ["converged", "at_bound", "hessian_pd"]
        stats += ["ci_at_edge"] if "ci_at_edge" in frame else []
        # each parameter followed by its uncertainty, parameters in the order models declare
        ordered = [c for f in self.fits for name in f.pset.names for c in f.parameter_columns(name)]
        return frame[lead + list(dict.fromkeys(ordered)) + stats]

    def starts_frame(self) -> pd.DataFrame:
        return pd.concat([f.starts_frame() for f in self.fits], ignore_index=True)

    def population_frame(self) -> pd.DataFrame | None:
        """Every empirical-Bayes model's population table (``population.csv``), or None
        when no model was fitted by empirical Bayes."""
        frames = [f.population_frame() for f in self.fits if f.population is not None]
        return pd.concat(frames, ignore_index=True) if frames else None

    def parameter_summary(self) -> pd.DataFrame:
        """Per model and free parameter: how the fitted values spread over participants.

        Returns
        -------
        pandas.DataFrame
            One row per model x free parameter, in the order fitted: ``model``,
            ``parameter``, ``median``, ``q1``, ``q3`` (25th and 75th percentiles; natural
            scale, NaN fits left out) and ``at_bound`` (share of participants whose fit is
            at an edge of the parameter's box, 0 to 1).
        """
        rows = []
        for f in self.fits:
            for name in f.pset.free_names:
                q1, median, q3 = np.nanpercentile(f.values[name], [25, 50, 75])
                at_bound = np.mean([name in names for names in f.at_bound])
                rows.append(
                    {
                        "model": f.name,
                        "parameter": name,
                        "median": median,
                        "q1": q1,
                        "q3": q3,
                        "at_bound": float(at_bound),
                    }
                )
        columns = ["model", "parameter", "median", "q1", "q3", "at_bound"]
        return pd.DataFrame(rows, columns=columns)

    def summary(self) -> pd.DataFrame:
        """Per model: free parameters, participants, fit totals and convergence.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``model`` (in the order fitted), with ``k`` (free parameters), ``n``
            (participants), ``sum_nll``, ``sum_aic``, ``sum_bic`` (summed over participants),
            ``converged`` (share of participants whose fit converged, 0 to 1) and
            ``converged_unknown`` (share whose convergence is unknown: one start); the rest
            did not converge. The spread
            of the parameters is :meth:`parameter_summary`; both, explained and readable at
            100 columns, are :meth:`to_string`.
        """
        rows = [
            {
                "model": f.name,
                "k": f.n_params,
                "n": len(f.participants),
                "sum_nll": float(np.sum(f.nll)),
                "sum_aic": float(np.sum(f.aic)),
                "sum_bic": float(np.sum(f.bic)),
                "converged": convergence_shares(f.converged)[0],
                "converged_unknown": convergence_shares(f.converged)[1],
            }
            for f in self.fits
        ]
        return pd.DataFrame(rows).set_index("model")

    def to_string(self) -> str:
        """Both summaries as text no wider than 100 columns, each under a line that explains
        its columns (never truncated, unlike a DataFrame's repr), then the :attr:`notes`."""
        n = len(self.fits[0].participants) if self.fits else 0
        parameters = self.parameter_summary()
        lines = [
            f"Fitted parameters over {n} participants (natural scale): median and interquartile",
            "range (IQR: q1 = 25th, q3 = 75th percentile); at bound = share of participants",
            "whose fit is at an edge of the parameter's box.",
            "",
            _parameter_table(parameters) if len(parameters) else "(no free parameters)",
            "",
            "Per model: k free parameters, n participants, NLL, AIC and BIC summed over",
            "participants, and the shares of fits that converged (the best start met the",
            "optimiser's tolerance and another start reached the same NLL within 0.1) and",
            "whose convergence is unknown (a single start).",
            "",
            _model_table(self.summary()),
        ]
        population = self.population_frame()
        if population is not None:
            lines += [
                "",
                "Empirical Bayes: each model's population on the search scale (log10 for rates,",
                "logit for probabilities): mean, sd and the mean's standard error; median on",
                "the natural scale. Parameters are MAP estimates shrunk towards it.",
                "",
                _population_table(population),
            ]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"FitResult(models={self.models}, participants={len(self.fits[0].participants)})"


def _parameter_table(table: pd.DataFrame) -> str:
    """The parameter summary as text, the model named once above its parameters."""
    first = table["model"].ne(table["model"].shift()).to_numpy()
    rows = [
        [
            r.model if new else "",
            r.parameter,
            _fmt(r.median),
            _fmt(r.q1),
            _fmt(r.q3),
            _percent(r.at_bound),
        ]
        for new, r in zip(first, table.itertuples(), strict=True)
    ]
    return text_table(["model", "parameter", "median", "q1", "q3", "at bound"], rows, left=2)


def _population_table(table: pd.DataFrame) -> str:
    """The population table (:meth:`FitResult.population_frame`) as text."""
    rows = [
        [
            r.model,
            str(r.condition),
            r.parameter,
            _fmt(r.mean),
            _fmt(r.sd),
            _fmt(r.se_mean),
            _fmt(r.median_natural),
        ]
        for r in table.itertuples()
    ]
    header = ["model", "group", "parameter", "mean", "sd", "se(mean)", "median"]
    return text_table(header, rows, left=3)


def _model_table(table: pd.DataFrame) -> str:
    """The per-model summary as text."""
    rows = [
        [
            str(r.Index),
            str(r.k),
            str(r.n),
            f"{r.sum_nll:.1f}",
            f"{r.sum_aic:.1f}",
            f"{r.sum_bic:.1f}",
            _percent(r.converged),
            _percent(r.converged_unknown),
        ]
        for r in table.itertuples()
    ]
    header = ["model", "k", "n", "sum NLL", "sum AIC", "sum BIC", "converged", "unknown"]
    return text_table(header, rows, left=1)


#: the prefix of a standard error's column in fits.csv, by the scale of its parameter: the
#: standard error is on the scale the parameter is searched on, and the name says which
SE_PREFIX = {"log": "se_log10_", "logit": "se_logit_", "linear": "se_"}


def se_column(param: Param) -> str:
    """The fits.csv column of a parameter's standard error: ``se_log10_<p>`` for a log-scaled
    parameter, ``se_logit_<p>`` for a logit-scaled one, ``se_<p>`` for a linear one."""
    return SE_PREFIX[param.scale] + param.name


def post_sd_column(param: Param) -> str:
    """The fits.csv column of a parameter's posterior standard deviation (empirical Bayes),
    named like its standard error: ``post_sd_log10_<p>``, ``post_sd_logit_<p>``,
    ``post_sd_<p>``."""
    return "post_sd_" + se_column(param)[len("se_") :]


def post_mean_column(param: Param) -> str:
    """The fits.csv column of a parameter's posterior mean (empirical Bayes) on the search
    scale, named like its posterior sd: ``post_mean_log10_<p>``, ``post_mean_logit_<p>``,
    ``post_mean_<p>``."""
    return "post_mean_" + se_column(param)[len("se_") :]


def convergence_shares(converged) -> tuple[float, float]:
    """Shares of fits that converged and whose convergence is unknown (0 to 1 each).

    Parameters
    ----------
    converged
        Per fit True, False or missing (``pd.NA``/NaN: unknown), e.g. :attr:`ModelFit.converged`
        or the ``converged`` column of a fits.csv read back.
    """
    values = as_nullable_boolean(converged)
    if len(values) == 0:
        return float("nan"), float("nan")
    unknown = np.asarray(values.isna())
    return float(np.mean(values.fillna(False))), float(np.mean(unknown))


def as_nullable_boolean(values) -> pd.api.extensions.ExtensionArray:
    """A nullable boolean array from booleans, 0/1, ``"True"``/``"False"`` (as a CSV file
    read back may hold them) and missing values (None, NaN, ``pd.NA``: unknown)."""
    words = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}

    def one(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        if isinstance(value, str):
            return words.get(value.strip().lower(), pd.NA)
        return bool(value)

    return pd.array([one(v) for v in pd.Series(values, dtype="object")], dtype="boolean")


def text_table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Columns of text two spaces apart: the first ``left`` left-aligned (names), the others
    right-aligned (numbers)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells) -> str:
        return "  ".join(
            cell.ljust(w) if j < left else cell.rjust(w)
            for j, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "nan"
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.3g}"
    return f"{v:.2e}"
