"""The shared choice rule: P(k) = (1 - lapse) softmax(logits / temperature)_k + lapse / K.

Every model's response scaling is this temperature, so no model frees a second parameter that
trades off with it. The lapse keeps every log probability at or above log(lapse / K), so the
likelihood is finite everywhere in the parameter box.
"""

from __future__ import annotations

import math

import torch


def choice_log_probs(
    logits: torch.Tensor, temperature: torch.Tensor | float, lapse: torch.Tensor | float
) -> torch.Tensor:
    """Log response probabilities.

    Parameters
    ----------
    logits
        (..., K) model outputs before feedback.
    temperature, lapse
        Scalars or tensors broadcastable to ``logits.shape[:-1]``.

    Returns
    -------
    torch.Tensor
        (..., K) log probabilities; rows of non-finite logits (a failed learner) give NaN.
    """
    k = logits.shape[-1]
    temperature = torch.as_tensor(temperature, dtype=logits.dtype, device=logits.device)
    lapse = torch.as_tensor(lapse, dtype=logits.dtype, device=logits.device)
    if temperature.dim():
        temperature = temperature[..., None]
    if lapse.dim():
        lapse = lapse[..., None]
    log_soft = torch.log_softmax(logits / temperature, dim=-1)
    # log((1 - e) p + e / K) in log space, exact at e = 0
    return torch.logaddexp(torch.log1p(-lapse) + log_soft, torch.log(lapse / k))


def response_log_likelihood(
    logits: torch.Tensor,
    response: torch.Tensor,
    temperature: torch.Tensor | float,
    lapse: torch.Tensor | float,
) -> torch.Tensor:
    """Summed log-likelihood of responses per learner.

    Parameters
    ----------
    logits
        (L, T, K).
    response
        Long (L, T) response index, ``-1`` where there is no response (no term).
    temperature, lapse
        (L,) or scalars.

    Returns
    -------
    torch.Tensor
        (L,) log-likelihood; ``-inf``-free by construction when ``lapse > 0``.
    """
    logp = choice_log_probs(logits, _per_trial(temperature), _per_trial(lapse))
    has = response >= 0
    picked = torch.gather(logp, -1, response.clamp(min=0)[..., None])[..., 0]
    return torch.where(has, picked, torch.zeros_like(picked)).sum(-1)


def _per_trial(v):
    if isinstance(v, torch.Tensor) and v.dim() == 1:
        return v[:, None]
    return v


def log_uniform(k: int) -> float:
    return -math.log(k)
