"""Shared helpers for the compiled kernels."""

from __future__ import annotations

import numpy as np


def batch_arrays(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous float64 stimuli, int64 feedback and int64 trial counts of a batch.

    The arrays are cached on the batch (its ``meta`` dict) because a fit calls the kernels
    thousands of times on the same trials. Batches derived with ``with_feedback`` or
    ``with_responses`` share that dict, so the cache is keyed on the tensors themselves.
    """
    key = "_kernel_arrays"
    sources = (batch.x, batch.feedback, batch.n_trials)
    cached = batch.meta.get(key)
    if cached is None or any(a is not b for a, b in zip(cached[0], sources, strict=True)):
        arrays = (
            np.ascontiguousarray(batch.x.detach().cpu().numpy(), dtype=np.float64),
            np.ascontiguousarray(batch.feedback.cpu().numpy(), dtype=np.int64),
            np.ascontiguousarray(batch.n_trials.cpu().numpy(), dtype=np.int64),
        )
        cached = (sources, arrays)
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
