"""The guessing model: a biased random responder that learns nothing.

``P(k) = b_k`` on every trial, with response biases ``b`` parameterised as log ratios to the last
category, ``bias_k = log(b_k / b_K)`` for ``k = 1 .. K-1`` (linear scale, bounds [-5, 5],
default 0 = unbiased), so that ``b = softmax([bias_1, .., bias_{K-1}, 0])``. It is the floor every
learning model must beat in a model comparison. Its logits are ``log b_k`` and the choice rule
is applied with temperature 1 and no lapse (``has_temperature = False``: a temperature or a
lapse would only re-parameterise the biases).

Boxes: fitting [-5, 5] (b_k / b_K from 0.007 to 148); generating [-1, 1] (biases within a
factor e of each other, e.g. between .27 and .73 with two categories).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from catmodel.models.base import RESPONSE_ONLY, Model, Param, State

#: bounds of the bias log ratios
BIAS_BOUND = 5.0


def bias_names(n_categories: int) -> list[str]:
    """Names of the bias parameters: ``bias_1 .. bias_{K-1}``."""
    return [f"bias_{k + 1}" for k in range(n_categories - 1)]


class GuessingState(NamedTuple):
    """No state: a zero tensor whose shape carries the number of categories."""

    shape: torch.Tensor  #: (L, K) zeros


class Guessing(Model):
    """Biased random responding: P(k) = b_k on every trial."""

    name = "guessing"
    role = RESPONSE_ONLY
    summary = "biased random responder (no learning): the floor every learning model must beat"
    default_settings: ClassVar[dict] = {}
    setting_docs: ClassVar[dict] = {}
    has_temperature = False

    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        return [
            Param(
                name,
                0.0,
                -BIAS_BOUND,
                BIAS_BOUND,
                "linear",
                generating=(-1.0, 1.0),
                doc=f"response bias: log(b_{k + 1} / b_{n_categories})",
            )
            for k, name in enumerate(bias_names(n_categories))
        ]

    def init_state(self, batch, index, values) -> State:
        # no state; the number of categories rides along so that step can shape its logits
        return GuessingState(
            torch.zeros(
                (len(index), batch.n_categories), dtype=batch.x.dtype, device=batch.x.device
            )
        )

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        (shape,) = state
        k = shape.shape[1]
        logs = [values[name] for name in bias_names(k)]
        logs.append(torch.zeros(shape.shape[0], dtype=shape.dtype, device=shape.device))
        logits = torch.log_softmax(torch.stack(logs, -1), -1)
        return state, logits

    def kernel_logits(self, batch, index, values):
        # constant logits need no compiled kernel; float32 batches keep the torch step's dtype
        if batch.x.dtype != torch.float64:
            return None
        n, k = len(index), batch.n_categories
        logs = np.zeros((n, k))
        for j, name in enumerate(bias_names(k)):
            logs[:, j] = np.broadcast_to(np.asarray(values[name], dtype=np.float64), (n,))
        top = logs.max(axis=1, keepdims=True)
        logits = logs - (top + np.log(np.exp(logs - top).sum(axis=1, keepdims=True)))
        out = np.zeros((n, batch.max_trials, k))
        n_trials = batch.n_trials.cpu().numpy()[np.asarray(index)]
        present = np.arange(batch.max_trials)[None, :] < n_trials[:, None]
        out[present] = np.repeat(logits, present.sum(1), axis=0)
        return out
