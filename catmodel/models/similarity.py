"""Shared pieces of the similarity-based models (prototype, exemplar, ALCOVE).

Attention
    A learner weighs the D stimulus dimensions by attention weights ``w_d >= 0`` that sum to one.
    They are free parameters parameterised as log ratios to the last dimension,
    ``attention_d = log(w_d / w_D)`` for ``d = 1 .. D-1`` (linear scale, bounds [-5, 5], default
    0 = equal attention), so that ``w = softmax([attention_1, .., attention_{D-1}, 0])``. Any
    point of the box is a valid weighting, the weights never reach exactly zero, and with one
    dimension there is nothing to weigh (no attention parameter). Free weights that sum to one
    do not trade off with the models' sensitivity or the shared temperature, which a free
    overall scale of the weights would.

Distance
    The model setting ``metric`` picks the Minkowski exponent ``r``: ``"city-block"`` (r = 1,
    for separable dimensions, the default) or ``"euclidean"`` (r = 2, integral dimensions)::

        d(x, y) = (sum_d w_d |x_d - y_d|^r)^(1/r)

    The Euclidean distance's square root has an infinite derivative at zero distance, which a
    stimulus meets every time it is compared with an identical stored one. :func:`distance`
    therefore takes the root only of positive sums (the "double where"), so that gradients
    through the learning trajectory stay finite; the value is unchanged.

Categories without a representation
    Before a category's first feedback a prototype model has no prototype and an exemplar model
    no exemplar, so its similarity is undefined. Rule (:func:`fill_missing`): such a category
    gets the mean logit of the categories that do have a representation; when none has, all
    logits are 0 (uniform responding).

How the generating boxes of the similarity models were chosen
    Fitting standardises every feature (mean 0, sd 1 over the data set), so the boxes are for
    standardised features. A generating box should give learning curves that are neither
    instant nor flat; each model's docstring lists the curves measured for its box:

    (a) information-integration task, the model-recovery default: ``make_design("ii", 400
        participants, 300 trials, block_size=30)`` — two bivariate normal categories with a
        diagonal optimal boundary, best possible accuracy .84; one parameter vector per
        participant drawn uniformly (scale coordinates) from the generating box; expected
        accuracy (mean choice probability of the correct category, lapse 0.01) per block of 30;
    (b) the six SHJ types (:mod:`catmodel.simulate.shj`), 60 sequences of 16 two-pass blocks
        per type, each with its own draw; expected accuracy in blocks 1, 4 and 16.

    Fitting boxes extend at least half a decade (log parameters) beyond the generating box on
    each side.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from catmodel.errors import SettingsError
from catmodel.models.base import Param

#: Minkowski exponent of each distance metric
METRICS: dict[str, int] = {"city-block": 1, "euclidean": 2}

#: bounds of the attention log ratios (w_d / w_D between e^-5 = 0.007 and e^5 = 148)
ATTENTION_BOUND = 5.0


def metric_exponent(metric: str) -> int:
    """The Minkowski exponent ``r`` of a ``metric`` setting.

    Raises
    ------
    SettingsError
        For an unknown metric name.
    """
    if metric not in METRICS:
        raise SettingsError(f"unknown metric {metric!r} (metrics: {', '.join(sorted(METRICS))})")
    return METRICS[metric]


def attention_names(n_features: int) -> list[str]:
    """Names of the attention parameters: ``attention_1 .. attention_{D-1}``."""
    return [f"attention_{d + 1}" for d in range(n_features - 1)]


def attention_params(n_features: int, generating: tuple[float, float] = (-1.0, 1.0)) -> list[Param]:
    """The D - 1 attention parameters (log ratios ``log(w_d / w_D)``).

    Parameters
    ----------
    n_features
        Number of stimulus dimensions D.
    generating
        Generating box of every attention parameter (natural = linear scale).
    """
    return [
        Param(
            name,
            0.0,
            -ATTENTION_BOUND,
            ATTENTION_BOUND,
            "linear",
            generating=generating,
            doc=f"attention to dimension {d + 1} relative to dimension {n_features}: "
            f"log(w_{d + 1} / w_{n_features})",
        )
        for d, name in enumerate(attention_names(n_features))
    ]


def attention_weights(values: Mapping[str, torch.Tensor], n_features: int, like: torch.Tensor):
    """Attention weights (L, D) from the parameters; equal weights for D = 1.

    Parameters
    ----------
    values
        Natural parameter values, each (L,).
    n_features
        D.
    like
        A tensor giving the dtype and device (and, through ``like.shape[0]``, L).
    """
    n = like.shape[0]
    logs = [values[name] for name in attention_names(n_features)]
    logs.append(torch.zeros(n, dtype=like.dtype, device=like.device))
    return torch.softmax(torch.stack(logs, -1), -1)


def attention_weights_np(values: Mapping[str, np.ndarray], n_features: int, n: int) -> np.ndarray:
    """NumPy version of :func:`attention_weights` for the kernels: (n, D) float64."""
    logs = np.zeros((n, n_features))
    for d, name in enumerate(attention_names(n_features)):
        logs[:, d] = np.broadcast_to(np.asarray(values[name], dtype=np.float64), (n,))
    logs -= logs.max(axis=1, keepdims=True)
    e = np.exp(logs)
    return np.ascontiguousarray(e / e.sum(axis=1, keepdims=True))


def safe_sqrt(s: torch.Tensor) -> torch.Tensor:
    """``sqrt(s)`` for ``s >= 0`` whose gradient is 0 (not infinite or NaN) at ``s = 0``."""
    positive = s > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, s, torch.ones_like(s))), 0.0)


def distance(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, r: int) -> torch.Tensor:
    """Attention-weighted Minkowski distance over the last dimension.

    Parameters
    ----------
    x, y
        Points (..., D), broadcast against each other.
    w
        Attention weights (..., D), broadcastable.
    r
        1 (city-block) or 2 (Euclidean).

    Returns
    -------
    torch.Tensor
        Distances (...).
    """
    diff = torch.abs(x - y)
    if r == 1:
        return (w * diff).sum(-1)
    return safe_sqrt((w * diff * diff).sum(-1))


def fill_missing(logits: torch.Tensor, has: torch.Tensor) -> torch.Tensor:
    """Give categories without a representation the mean logit of those with one.

    Parameters
    ----------
    logits
        (L, K); entries where ``has`` is false are ignored (they may be anything finite or not).
    has
        Bool (L, K): the category has a prototype / at least one stored exemplar.

    Returns
    -------
    torch.Tensor
        (L, K) logits; rows where no category has a representation are all 0 (uniform).
    """
    zero = torch.zeros_like(logits)
    kept = torch.where(has, logits, zero)
    n_has = has.sum(-1, keepdim=True).to(logits.dtype)
    mean = kept.sum(-1, keepdim=True) / n_has.clamp(min=1.0)
    return torch.where(has, kept, mean.expand_as(logits))
