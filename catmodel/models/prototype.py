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
    ``attention_1 .. attention_{D-1}`` (linear, [-5, 5], generating [-1, 1]), ``lr_proto``
    (only with ``delta=True``; log, [10^-2.5, 1], generating [10^-1.5, 10^-0.5]) and the
    temperature (log, [10^-3, 10^1], generating [10^-2, 10^-0.5]); the lapse is fixed at 0.01
    unless freed.

Learning curves in the generating box (method in :mod:`catmodel.models.similarity`)
    (a) ``ii`` task, blocks 1..10 of 30 trials:

        city-block  .615 .649 .646 .653 .655 .652 .653 .655 .651 .653
        euclidean   .656 .718 .725 .732 .738 .741 .740 .747 .746 .745
        delta=True  .595 .633 .634 .642 .642 .642 .643 .645 .638 .644

    (b) SHJ, blocks 1 / 4 / 16: I .82/.97/.97, II .32/.41/.47, III .61/.73/.74,
        IV .73/.87/.88, V .55/.72/.72, VI .29/.41/.47 (city-block).

    Prototypes settle within a block, so the curves rise only over the first block or two
    whatever the box: the model's accuracy is set by where the prototypes put the boundary,
    and the temperature box spans near-deterministic (10^-2) to clearly noisy (10^-0.5)
    responding. Two limits are the model's, not the box's: with the city-block metric the
    points equidistant from two prototypes that differ on both dimensions form whole quadrants,
    so on the diagonal ``ii`` boundary accuracy stays below about .70 even with equal
    attention and near-deterministic responding (the Euclidean metric reaches about .75);
    and in SHJ types II and VI both categories have the same mean, so responding there is at
    or below chance (recency of the running means).
"""

from __future__ import annotations

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


class PrototypeState(NamedTuple):
    """One learner's prototypes and how many feedback trials each category has had."""

    prototypes: torch.Tensor  #: (L, K, D) running category means
    counts: torch.Tensor  #: (L, K) feedback trials per category


class Prototype(Model):
    """Nearest-prototype learner: running category means, logits = -distance."""

    name = "prototype"
    summary = (
        "each category's prototype is the running mean of its members seen so far; "
        "logits are negative attention-weighted distances to the prototypes"
    )
    temperature_param = make_temperature(10**-3, 10**1, 0.1, (10**-2, 10**-0.5))
    default_settings: ClassVar[dict] = {"metric": "city-block", "delta": False}
    setting_docs: ClassVar[dict] = {
        "metric": "city-block (separable dimensions, r = 1) or euclidean (integral, r = 2)",
        "delta": "update prototypes by a delta rule with a free rate lr_proto instead of the "
        "count-based running mean",
    }

    def _check_settings(self) -> None:
        self.r = metric_exponent(str(self.settings["metric"]))
        self.delta = self._flag("delta")

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        params = attention_params(n_features)
        if self.delta:
            params.append(
                Param(
                    "lr_proto",
                    0.1,
                    10**-2.5,
                    1.0,
                    "log",
                    generating=(10**-1.5, 10**-0.5),
                    doc="delta-rule learning rate of the prototypes (1 = last exemplar)",
                )
            )
        return params

    # --- the learner ------------------------------------------------------------------
    def init_state(self, batch, index, values) -> State:
        n = len(index)
        x = batch.x
        proto = torch.zeros(
            (n, batch.n_categories, batch.n_features), dtype=x.dtype, device=x.device
        )
        count = torch.zeros((n, batch.n_categories), dtype=x.dtype, device=x.device)
        return PrototypeState(proto, count)

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
        return PrototypeState(new_proto, new_count), logits

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
