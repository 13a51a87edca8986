"""The prototype learner: each category is represented by the mean of its members seen so far.

Representation
    Category k's prototype ``p_k`` is the running mean of the stimuli seen with feedback k so
    far (count based: ``p_k <- p_k + (x - p_k) / n_k`` after the n_k-th such trial). With the
    setting ``delta=True`` the first feedback of a category sets ``p_k = x`` and later ones move
    it by a delta rule ``p_k <- p_k + lr_proto (x - p_k)`` with a free learning rate
    ``lr_proto`` (an exponentially weighted mean that tracks drifting categories).

Response
    Logits are negative attention-weighted distances, ``o_k = -d(x, p_k)`` (metric setting
    ``city-block`` or ``euclidean``, see :mod:`catmodel.models.similarity`). The similarity
    ``exp(-c d)`` of the classic prototype model has a sensitivity ``c`` that trades off
    exactly with the shared choice temperature (``P(k) ∝ exp(-c d_k / T)``), so ``c ≡ 1`` and
    only the temperature is free. A category without a prototype yet gets the mean logit of the
    categories that have one; with none, all logits are 0 (uniform responding).

Parameters
    attention_1 .. attention_{D-1} (linear, [-5, 5], generating [-1, 1]), lr_proto (only with
    ``delta=True``; log, [10^-2.5, 1], generating [10^-1.5, 10^-0.5]) and the temperature
    (log, [10^-2.5, 10^1], generating [10^-1.5, 10^-0.5]); the lapse is fixed at 0.01 unless
    freed.

Boxes (standardised features: mean 0, sd 1 per feature; see ``scratch`` numbers below)
    Measured by expected accuracy per block (mean choice probability of the correct category,
    averaged over 400 parameter draws uniform in the generating box, each on a fresh sequence).

    (a) Information-integration task: two bivariate normal categories in 2-D, equal covariance
        elongated along the diagonal (sd 3 : 1), means separated along the anti-diagonal
        (Mahalanobis distance 2.07, best possible accuracy .85), 400 trials, blocks of 40.
        Count-based prototypes, blocks 1..10:
        .689 .754 .764 .767 .770 .772 .774 .775 .776 .776 (prototypes settle within a block,
        so the curve is set by the first trials; temperature 10^-1.5 gives .83 at the end,
        10^-0.5 gives .69).
        ``delta=True``: .673 .731 .741 .744 .746 .747 .749 .749 .749 .750.
    (b) SHJ types (16-trial blocks of two passes over the 8 items, blocks 1..16, end of
        block 1 / 4 / 16): I .82/.96/.96, II .52/.52/.52 (a prototype model cannot learn the
        XOR), IV .70/.79/.79, VI .50/.50/.50.

    The prototype model learns little after its prototypes have settled, so no box gives the
    slow rise of human curves on task (a); the generating box of the temperature is where the
    end accuracy spans .69 (flat-ish) to .83 (near the best possible .85).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

import numpy as np
import torch

from catmodel.errors import SettingsError
from catmodel.models.base import TEMPERATURE, Model, Param, State
from catmodel.models.similarity import (
    attention_params,
    attention_weights,
    attention_weights_np,
    distance,
    fill_missing,
    metric_exponent,
)


class Prototype(Model):
    """Nearest-prototype learner: running category means, logits = -distance."""

    name = "prototype"
    summary = (
        "each category's prototype is the running mean of its members seen so far; "
        "logits are negative attention-weighted distances to the prototypes"
    )
    default_settings: ClassVar[dict] = {"metric": "city-block", "delta": False}
    setting_docs: ClassVar[dict] = {
        "metric": "city-block (separable dimensions, r = 1) or euclidean (integral, r = 2)",
        "delta": "update prototypes by a delta rule with a free rate lr_proto instead of the "
        "count-based running mean",
    }

    def _check_settings(self) -> None:
        self.r = metric_exponent(str(self.settings["metric"]))
        if not isinstance(self.settings["delta"], (bool, np.bool_)):
            raise SettingsError(f"delta must be true or false, got {self.settings['delta']!r}")
        self.delta = bool(self.settings["delta"])

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        params = attention_params(n_features)
        if self.delta:
            params.append(
                Param("lr_proto", 0.1, 10**-2.5, 1.0, "log", generating=(10**-1.5, 10**-0.5),
                      doc="delta-rule learning rate of the prototypes (1 = last exemplar)")
            )
        return params

    def choice_params(self) -> list[Param]:
        temperature = TEMPERATURE.with_bounds(10**-3, 10**1)
        return [replace(temperature, default=0.1, generating=(10**-2, 10**-0.5)),
                *super().choice_params()[1:]]

    # --- the learner ------------------------------------------------------------------
    def init_state(self, batch, index, values) -> State:
        n = len(index)
        x = batch.x
        proto = torch.zeros((n, batch.n_categories, batch.n_features), dtype=x.dtype,
                            device=x.device)
        count = torch.zeros((n, batch.n_categories), dtype=x.dtype, device=x.device)
        return proto, count

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        proto, count = state
        k = proto.shape[1]
        w = attention_weights(values, x.shape[1], x)
        has = count > 0
        logits = fill_missing(-distance(x[:, None, :], proto, w[:, None, :], self.r), has)

        hit = (torch.arange(k, device=x.device)[None, :] == feedback[:, None]) & (
            feedback[:, None] >= 0
        )
        if self.delta:
            rate = torch.where(has, values["lr_proto"][:, None], torch.ones_like(count))
        else:
            rate = 1.0 / (count + 1.0)
        moved = proto + rate[:, :, None] * (x[:, None, :] - proto)
        new_proto = torch.where(hit[:, :, None], moved, proto)
        new_count = torch.where(hit, count + 1.0, count)
        return (new_proto, new_count), logits

    # --- kernel -----------------------------------------------------------------------
    def kernel_logits(self, batch, index, values):
        if batch.x.dtype != torch.float64:
            return None
        from catmodel.kernels.prototype import prototype_logits

        n = len(index)
        w = attention_weights_np(values, batch.n_features, n)
        lr = np.ascontiguousarray(values["lr_proto"]) if self.delta else np.zeros(n)
        return prototype_logits(batch, index, w, lr, r=self.r, delta=self.delta)

    def describe_state(self, state: State, index: int) -> dict:
        proto, count = state
        return {
            "prototypes": proto[index].detach().cpu().numpy(),
            "counts": count[index].detach().cpu().numpy(),
        }
