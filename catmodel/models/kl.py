"""Closed-form facts about multivariate normal distributions used across the toolkit."""

from __future__ import annotations

import numpy as np


def kl_gaussian(mean0, cov0, mean1, cov1) -> float:
    """KL(N(mean0, cov0) || N(mean1, cov1)) in nats."""
    mean0, mean1 = np.asarray(mean0, float), np.asarray(mean1, float)
    cov0, cov1 = np.asarray(cov0, float), np.asarray(cov1, float)
    d = len(mean0)
    inv1 = np.linalg.inv(cov1)
    diff = mean1 - mean0
    _, logdet0 = np.linalg.slogdet(cov0)
    _, logdet1 = np.linalg.slogdet(cov1)
    return float(0.5 * (np.trace(inv1 @ cov0) + diff @ inv1 @ diff - d + logdet1 - logdet0))
