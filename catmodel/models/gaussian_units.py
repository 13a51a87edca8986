"""What both update rules of the Gaussian learner share: where units start, which category each
unit belongs to, and the box their means stay in."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from catmodel.errors import SettingsError


def halton(n_points: int, n_dims: int) -> np.ndarray:
    """The first ``n_points`` points (starting at index 1) of the Halton sequence in [0, 1]^D."""
    primes = _primes(n_dims)
    out = np.empty((n_points, n_dims))
    for j, base in enumerate(primes):
        for i in range(n_points):
            f, r, k = 1.0, 0.0, i + 1
            while k > 0:
                f /= base
                r += f * (k % base)
                k //= base
            out[i, j] = r
    return out


def _primes(n: int) -> list[int]:
    found: list[int] = []
    candidate = 2
    while len(found) < n:
        if all(candidate % p for p in found):
            found.append(candidate)
        candidate += 1
    return found


def unit_category(n_categories: int, units_per_category: int, device=None) -> torch.Tensor:
    """The category of every unit: units ``k*M .. k*M+M-1`` belong to category k."""
    m = units_per_category
    return torch.arange(n_categories * m, device=device) // m


def mean_box(batch) -> tuple[np.ndarray, np.ndarray]:
    """The box the units' means stay in: the stimuli's box widened by its width on each side."""
    low, high = np.asarray(batch.box_low), np.asarray(batch.box_high)
    width = np.maximum(high - low, 1e-12)
    return low - width, high + width


def start_override(settings: Mapping, means: np.ndarray, sd: float) -> tuple[np.ndarray, float]:
    """The starting means and standard deviation, replaced by the settings ``init_means``
    (J x D) and ``init_sd`` where the user gave them."""
    if settings["init_means"] is not None:
        given = np.asarray(settings["init_means"], dtype=float)
        if given.shape != means.shape:
            raise SettingsError(
                f"init_means must be {means.shape[0]} x {means.shape[1]} (units x features), "
                f"got {given.shape}"
            )
        means = given
    if settings["init_sd"] is not None:
        sd = float(settings["init_sd"])
    return means, sd
