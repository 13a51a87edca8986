"""The negative log-likelihood of participants' responses as a function of free parameters.

One call evaluates many learners at once: ``rows[l]`` is the batch row (participant) and
``scale[l]`` the candidate parameter vector of learner ``l``. When the temperature is free it is
*profiled*: for each candidate of the learning parameters the rollout runs once and the NLL is
minimised over the temperature exactly (it enters only the choice rule), so searches and local
optimisers work in one dimension fewer.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from catmodel.kernels.choice import choice_nll, profile_temperature
from catmodel.kernels.common import response_array
from catmodel.models.base import Model
from catmodel.models.choice import choice_log_probs
from catmodel.models.params import ParameterSet
from catmodel.models.rollout import rollout_logits

# logits of at most this many learner-trial-categories are held at once (about 256 MB)
_MAX_ELEMENTS = 1 << 25
_PROFILE_TOL = 1e-5
_PROFILE_ITER = 40


class Objective:
    """NLL of a model on a batch of trials, in scale coordinates of the free parameters.

    Parameters
    ----------
    model
        The model.
    batch
        :class:`~catmodel.data.TrialBatch` with the responses to explain.
    pset
        Free and fixed parameters.
    profile
        Profile the temperature out when it is free (default).
    """

    def __init__(self, model: Model, batch, pset: ParameterSet, profile: bool = True) -> None:
        self.model = model
        self.batch = batch
        self.pset = pset
        self.profile = profile and "temperature" in pset.free_names
        self.free_names = pset.free_names
        self.search_names = [
            n for n in self.free_names if not (self.profile and n == "temperature")
        ]
        self._search_pos = [self.free_names.index(n) for n in self.search_names]
        self.n_evaluations = 0
        self._responses = response_array(batch)

    # --- coordinates --------------------------------------------------------------------
    @property
    def n_search(self) -> int:
        return len(self.search_names)

    def search_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.pset.scale_bounds()
        return lo[self._search_pos], hi[self._search_pos]

    def full_scale(self, search_scale: np.ndarray, temperature_scale: np.ndarray | None):
        """Free scale coordinates (L, F) from search coordinates plus a profiled temperature."""
        search_scale = np.atleast_2d(search_scale)
        out = np.zeros((search_scale.shape[0], len(self.free_names)))
        out[:, self._search_pos] = search_scale
        if self.profile:
            out[:, self.free_names.index("temperature")] = temperature_scale
        return out

    # --- evaluation ---------------------------------------------------------------------
    def __call__(
        self,
        rows: np.ndarray,
        search_scale: np.ndarray,
        temperature_start: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """NLL of learners ``rows`` at ``search_scale`` (L, n_search).

        Returns
        -------
        nll, full_scale
            NLL (L,) — ``inf`` where the model failed — and the free parameters in scale
            coordinates (L, F), with the profiled temperature filled in.
        """
        rows = np.asarray(rows, dtype=np.int64)
        search_scale = np.atleast_2d(np.asarray(search_scale, dtype=float))
        n = len(rows)
        nll = np.empty(n)
        temp_scale = np.zeros(n)
        chunk = max(1, _MAX_ELEMENTS // max(1, self.batch.max_trials * self.batch.n_categories))
        for start in range(0, n, chunk):
            sl = slice(start, min(n, start + chunk))
            nll[sl], temp_scale[sl] = self._evaluate(
                rows[sl],
                search_scale[sl],
                None if temperature_start is None else temperature_start[sl],
            )
        self.n_evaluations += n
        nll = np.where(np.isfinite(nll), nll, np.inf)
        return nll, self.full_scale(search_scale, temp_scale if self.profile else None)

    def profiled_at(self, rows: np.ndarray, free_scale: np.ndarray):
        """:meth:`__call__` at full free scale coordinates (L, F): the NLL minimised over the
        temperature, its search starting from each point's own temperature. Returns the NLL
        and the points with the minimising temperature."""
        free_scale = np.atleast_2d(np.asarray(free_scale, dtype=float))
        temperature = free_scale[:, self.free_names.index("temperature")]
        return self(rows, free_scale[:, self._search_pos], temperature)

    def _evaluate(self, rows, search_scale, temperature_start):
        placeholder = self.full_scale(search_scale, np.zeros(len(rows)))
        values = self.pset.scale_to_natural(placeholder)
        logits = rollout_logits(self.model, self.batch, rows, values).numpy()
        lapse = values.get("lapse", np.zeros(len(rows)))
        if not self.model.has_temperature:
            return choice_nll(logits, self._responses, rows, np.ones(len(rows)), lapse), 0.0
        if not self.profile:
            beta = 1.0 / values["temperature"]
            return choice_nll(logits, self._responses, rows, beta, lapse), 0.0
        p = self.pset["temperature"]
        lo, hi = -math.log(p.upper), -math.log(p.lower)
        if temperature_start is None:
            start = np.full(len(rows), 0.5 * (lo + hi))
        else:
            start = -np.log(np.asarray(p.from_scale(temperature_start), dtype=float))
        nll, log_beta = profile_temperature(
            logits,
            self._responses,
            rows,
            np.ascontiguousarray(lapse),
            lo,
            hi,
            np.ascontiguousarray(start),
            _PROFILE_TOL,
            _PROFILE_ITER,
        )
        return nll, p.to_scale(np.exp(-log_beta))

    def nll_at(self, rows: np.ndarray, free_scale: np.ndarray) -> np.ndarray:
        """NLL at full free scale coordinates (L, F), temperature included (no profiling)."""
        rows = np.asarray(rows, dtype=np.int64)
        free_scale = np.atleast_2d(np.asarray(free_scale, dtype=float))
        values = self.pset.scale_to_natural(free_scale)
        n = len(rows)
        out = np.empty(n)
        chunk = max(1, _MAX_ELEMENTS // max(1, self.batch.max_trials * self.batch.n_categories))
        for start in range(0, n, chunk):
            sl = slice(start, min(n, start + chunk))
            vals = {k: v[sl] for k, v in values.items()}
            logits = rollout_logits(self.model, self.batch, rows[sl], vals).numpy()
            lapse = vals.get("lapse", np.zeros(sl.stop - sl.start))
            beta = 1.0 / vals["temperature"] if self.model.has_temperature else np.ones_like(lapse)
            out[sl] = choice_nll(logits, self._responses, rows[sl], beta, lapse)
        self.n_evaluations += n
        return np.where(np.isfinite(out), out, np.inf)


def chance_predictions(
    objective: Objective, rows: np.ndarray, free_scale: np.ndarray, tolerance: float
) -> np.ndarray:
    """Whether each learner's predictions are chance on every one of its trials.

    Parameters
    ----------
    objective
        The model and trials.
    rows, free_scale
        (L,) batch rows and (L, F) free parameters in scale coordinates.
    tolerance
        Largest distance of a predicted response probability from 1/K that still counts as
        chance.

    Returns
    -------
    numpy.ndarray
        (L,) True where every predicted probability of every (real) trial of the learner lies
        within ``tolerance`` of 1/K; False for a learner whose rollout failed.
    """
    rows = np.asarray(rows, dtype=np.int64)
    values = objective.pset.scale_to_natural(np.atleast_2d(free_scale))
    batch, model = objective.batch, objective.model
    k = batch.n_categories
    out = np.zeros(len(rows), dtype=bool)
    chunk = max(1, _MAX_ELEMENTS // max(1, batch.max_trials * k))
    for start in range(0, len(rows), chunk):
        sl = slice(start, min(len(rows), start + chunk))
        vals = {name: v[sl] for name, v in values.items()}
        logits = rollout_logits(model, batch, rows[sl], vals)
        temperature = vals["temperature"] if model.has_temperature else np.ones(len(logits))
        lapse = vals.get("lapse", np.zeros(len(logits)))
        logp = choice_log_probs(
            logits, torch.as_tensor(temperature)[:, None], torch.as_tensor(lapse)[:, None]
        ).numpy()
        n_real = batch.n_trials[rows[sl]].cpu().numpy()
        real = np.arange(batch.max_trials)[None, :] < n_real[:, None]  # padding is no trial
        off = np.abs(np.exp(logp) - 1.0 / k).max(axis=-1)  # (L, T); NaN where a rollout failed
        out[sl] = np.where(real, off <= tolerance, True).all(axis=1)
    return out


def torch_nll(model: Model, batch, rows: torch.Tensor, values: dict) -> torch.Tensor:
    """Differentiable NLL (L,) through the whole learning trajectory (PyTorch rollout)."""
    from catmodel.models.choice import response_log_likelihood
    from catmodel.models.rollout import torch_rollout

    logits, _ = torch_rollout(model, batch, rows, values)
    temperature = values.get("temperature", torch.ones_like(rows, dtype=batch.x.dtype))
    lapse = values.get("lapse", torch.zeros_like(rows, dtype=batch.x.dtype))
    return -response_log_likelihood(logits, batch.response[rows], temperature, lapse)
