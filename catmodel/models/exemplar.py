"""The exemplar learner: the Generalized Context Model (GCM; Nosofsky, 1986) run trial by trial.

Representation
    Every feedback trial's stimulus is stored with its feedback label. On trial t the summed
    similarity of the stimulus to the stored exemplars of category k is::

        S_k(t) = sum_{i < t, feedback_i = k} m_i(t) exp(-c d(x_t, x_i))

    with sensitivity ``c`` and the attention-weighted distance ``d`` of the ``metric`` setting
    (:mod:`catmodel.models.similarity`). Memory strengths are ``m_i(t) = 1`` (no forgetting)
    or, with the setting ``memory_decay=True``, ``m_i(t) = exp(-decay (t - i))`` where ``t - i``
    counts trial positions (trials without feedback included) and ``decay >= 0`` is free.
    ``decay = 0`` is the GCM without forgetting, a boundary value of the box: a likelihood-ratio
    test of decay against no decay needs a chi-bar-squared reference distribution.

Response
    Logits are ``o_k = log S_k``, computed in log space (a per-category log-sum-exp), so that
    even similarities below the smallest double (large ``c``, far stimuli, strong decay) give
    finite logits. The GCM's response scaling ``P(k) ∝ S_k^γ`` is the shared choice rule's
    ``γ = 1 / temperature``, so there is no second free scaling parameter. A category without a
    stored exemplar yet gets the mean logit of the categories that have one; with none, all
    logits are 0 (uniform responding).

Parameters
    ``attention_1 .. attention_{D-1}`` (linear, [-5, 5], generating [-1, 1]), ``sensitivity``
    (log, [10^-1, 10^2], generating [10^0, 10^1.25]), ``decay`` (only with
    ``memory_decay=True``; linear, [0, 1], generating [0, 0.05]) and the temperature (log,
    [10^-3, 10^1], generating [10^-1.5, 10^0]); lapse fixed at 0.01 unless freed.

    Upper bound of ``decay``: at ``decay = 1`` an exemplar keeps e^-1 of its strength per
    trial, so responses are driven by the last two or three exemplars of each category; beyond
    that the model only becomes a more extreme "the latest feedback of the nearest category"
    rule. The generating box keeps half-lives above ln 2 / 0.05 = 14 trials.

Learning curves in the generating box (method in :mod:`catmodel.models.similarity`)
    (a) ``ii`` task, blocks 1..10 of 30 trials:

        city-block         .630 .711 .730 .737 .743 .748 .751 .755 .756 .756
        memory_decay=True  .627 .698 .714 .718 .726 .727 .729 .729 .724 .728
        euclidean          .650 .732 .749 .756 .761 .766 .767 .771 .773 .772

    (b) SHJ, blocks 1 / 4 / 16: I .78/.97/.97, II .60/.92/.93, III .71/.94/.95,
        IV .73/.97/.97, V .63/.92/.93, VI .48/.82/.84.

    On the eight SHJ items the stored exemplars soon cover every stimulus, so in this box the
    model is near its asymptote by block 4. Fitted to Nosofsky et al.'s (1994) SHJ curves
    (``tests/models/test_models_shj.py``; shared c and temperature, attention per type) it
    follows the slower human curves with c = 7.5, temperature = 0.056 and attention
    concentrated on one or two dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from catmodel.models.base import Model, Param, State, make_temperature
from catmodel.models.similarity import (
    attention_params,
    attention_weights,
    attention_weights_np,
    distance,
    fill_missing,
    metric_exponent,
)

#: upper bound of the memory decay rate per trial (see the module docstring)
DECAY_UPPER = 1.0


class ExemplarState(NamedTuple):
    """The exemplars stored so far: one memory slot per trial."""

    memory: torch.Tensor  #: (L, T, D) the stimulus of each feedback trial
    stored: torch.Tensor  #: (L, T, K) bool: the slot holds an exemplar of category k


class Exemplar(Model):
    """GCM run trial by trial: summed similarity to every stored exemplar, logits log S_k."""

    name = "exemplar"
    summary = (
        "GCM trial by trial: summed exponential similarity to every earlier feedback trial's "
        "stimulus per category (optional memory decay); logits log S_k"
    )
    # generating box where people are fitted (crossley_cat_unlearn_2cat: median 0.71, IQR
    # 0.51-1.24; response scaling gamma = 1 / temperature from 1 to 32): below 10^-1.5 choices
    # are deterministic but for the lapse, and the temperature cannot be told from 1e-3
    temperature_param = make_temperature(10**-3, 10**1, 0.1, (10**-1.5, 10**0))
    default_settings: ClassVar[dict] = {"metric": "city-block", "memory_decay": False}
    setting_docs: ClassVar[dict] = {
        "metric": "city-block (separable dimensions, r = 1) or euclidean (integral, r = 2)",
        "memory_decay": "free a memory decay rate: exemplar strength exp(-decay * trials ago)",
    }

    def _check_settings(self) -> None:
        self.r = metric_exponent(str(self.settings["metric"]))
        self.memory_decay = self._flag("memory_decay")

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        params = attention_params(n_features)
        params.append(
            Param(
                "sensitivity",
                3.0,
                10**-1,
                10**2,
                "log",
                generating=(10**0, 10**1.25),
                doc="sensitivity c of the similarity exp(-c d)",
            )
        )
        if self.memory_decay:
            params.append(
                Param(
                    "decay",
                    0.0,
                    0.0,
                    DECAY_UPPER,
                    "linear",
                    generating=(0.0, 0.05),
                    doc="memory decay per trial: strength exp(-decay * trials ago)",
                )
            )
        return params

    # --- the learner ------------------------------------------------------------------
    def init_state(self, batch, index, values) -> State:
        n = len(index)
        x = batch.x
        t_max = batch.max_trials
        memory = torch.zeros((n, t_max, batch.n_features), dtype=x.dtype, device=x.device)
        stored = torch.zeros((n, t_max, batch.n_categories), dtype=torch.bool, device=x.device)
        return ExemplarState(memory, stored)

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        memory, stored = state
        n, t_max, k = stored.shape
        slots = torch.arange(t_max, device=x.device)
        if t == 0:
            logits = x.new_zeros((n, k))  # nothing stored yet: uniform
        else:
            # only slots before t can hold an exemplar, so only they are compared
            w = attention_weights(values, x.shape[1], x)
            d = distance(x[:, None, :], memory[:, :t], w[:, None, :], self.r)  # (L, t)
            log_m = -values["sensitivity"][:, None] * d
            if self.memory_decay:
                ago = (t - slots[:t]).to(x.dtype)
                log_m = log_m - values["decay"][:, None] * ago[None, :]
            # per-category log-sum-exp over the stored slots, safe for empty categories
            seen = stored[:, :t]
            z = torch.where(seen, log_m[:, :, None], -math.inf)
            has = seen.any(1)
            top = torch.where(has, z.max(1).values, 0.0)
            total = torch.exp(z - top[:, None, :]).sum(1)
            log_s = torch.log(torch.where(has, total, 1.0)) + top
            logits = fill_missing(log_s, has)

        here = (slots == t)[None, :] & (feedback >= 0)[:, None]  # (L, T)
        label = torch.nn.functional.one_hot(feedback.clamp(min=0), k).bool()  # (L, K)
        new_memory = torch.where(here[:, :, None], x[:, None, :], memory)
        new_stored = torch.where(here[:, :, None], label[:, None, :], stored)
        return ExemplarState(new_memory, new_stored), logits

    # --- kernel -----------------------------------------------------------------------
    def kernel_logits(self, batch, index, values):
        if batch.x.dtype != torch.float64:
            return None
        from catmodel.kernels.exemplar import exemplar_logits

        n = len(index)
        w = attention_weights_np(values, batch.n_features, n)
        decay = (
            np.ascontiguousarray(values["decay"], dtype=np.float64)
            if self.memory_decay
            else np.zeros(n)
        )
        return exemplar_logits(
            batch,
            index,
            w,
            np.ascontiguousarray(values["sensitivity"], dtype=np.float64),
            decay,
            r=self.r,
            memory_decay=self.memory_decay,
        )

    def describe_state(self, state: State, index: int) -> dict:
        memory, stored = state
        keep = stored[index].any(-1)
        return {
            "exemplars": memory[index][keep].detach().cpu().numpy(),
            "labels": stored[index][keep].int().argmax(-1).cpu().numpy(),
        }
