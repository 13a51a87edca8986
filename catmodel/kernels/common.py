"""Shared helpers for the compiled kernels."""

from __future__ import annotations

import numpy as np


def batch_arrays(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous float64 stimuli, int64 feedback and int64 trial counts of a batch.

    The arrays are cached on the batch (its ``meta`` dict) because a fit calls the kernels
    thousands of times on the same trials.
    """
    key = "_kernel_arrays"
    cached = batch.meta.get(key)
    if cached is None or cached[0] is not batch.x:
        arrays = (
            np.ascontiguousarray(batch.x.detach().cpu().numpy(), dtype=np.float64),
            np.ascontiguousarray(batch.feedback.cpu().numpy(), dtype=np.int64),
            np.ascontiguousarray(batch.n_trials.cpu().numpy(), dtype=np.int64),
        )
        cached = (batch.x, arrays)
        batch.meta[key] = cached
    return cached[1]


def response_array(batch) -> np.ndarray:
    """Contiguous int64 response indices (n_learners, n_trials) of a batch, cached."""
    key = "_kernel_response"
    cached = batch.meta.get(key)
    if cached is None or cached[0] is not batch.response:
        cached = (batch.response, np.ascontiguousarray(batch.response.cpu().numpy(), np.int64))
        batch.meta[key] = cached
    return cached[1]
