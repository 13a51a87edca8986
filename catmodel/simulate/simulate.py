"""Simulated responses: the same rollout the likelihood uses, then draws from the choice rule.

A learner's trajectory depends on the stimuli and the feedback it sees, not on its own
responses, so simulating a participant is one rollout followed by sampling each trial's response
from the choice rule — exactly the probabilities the likelihood scores.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from catmodel.models.base import Model
from catmodel.models.choice import choice_log_probs
from catmodel.models.rollout import as_value_tensors, rollout_logits


def response_probabilities(
    model: Model, batch, values: Mapping[str, object], index=None
) -> torch.Tensor:
    """Choice probabilities (L, T, K) of learners ``index`` (default: every batch row)."""
    if index is None:
        index = torch.arange(batch.n_learners)
    index = torch.as_tensor(index, dtype=torch.long)
    vals = as_value_tensors(values, batch.x, len(index))
    logits = rollout_logits(model, batch, index, vals)
    like = {"dtype": logits.dtype, "device": logits.device}
    temperature = vals.get("temperature", torch.ones(len(index), **like))
    lapse = vals.get("lapse", torch.zeros(len(index), **like))
    return torch.exp(choice_log_probs(logits, temperature[:, None], lapse[:, None]))


def simulate_responses(
    model: Model,
    batch,
    values: Mapping[str, object],
    seed: int = 0,
    n_runs: int = 1,
) -> torch.Tensor:
    """Draw responses (n_runs, L, T) for every batch row; -1 on padded trials.

    Parameters
    ----------
    values
        Natural-scale parameters, scalars or (L,) per batch row.
    seed
        Seed of the response draws.
    n_runs
        Independent simulated runs per learner (for predictive intervals).
    """
    # drawn on the CPU whatever device the model ran on: the same seed, the same responses
    probs = response_probabilities(model, batch, values).to(device="cpu", dtype=torch.float64)
    gen = torch.Generator().manual_seed(int(seed))
    flat = probs.reshape(-1, probs.shape[-1]).clamp_min(0)
    draws = torch.multinomial(
        flat.expand(n_runs, *flat.shape).reshape(-1, flat.shape[-1]),
        1,
        replacement=True,
        generator=gen,
    )
    draws = draws.reshape(n_runs, *probs.shape[:2])
    return torch.where(batch.mask.cpu()[None], draws, torch.full_like(draws, -1))


def sample_parameters(pset, n: int, seed: int, box: str = "generating") -> dict[str, np.ndarray]:
    """Draw ``n`` parameter vectors uniformly (in scale coordinates) over a box.

    ``box="generating"`` uses each parameter's generating box (where learning curves are
    neither instant nor flat); ``"fitting"`` the fitting box. Fixed parameters keep their value.
    """
    rng = np.random.default_rng(seed)
    lo, hi = pset.generating_scale_box() if box == "generating" else pset.scale_bounds()
    scale = lo + (hi - lo) * rng.random((n, len(lo)))
    return pset.scale_to_natural(scale)
