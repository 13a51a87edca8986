"""Compiled CPU kernels (numba) for forward-only rollouts and the choice rule.

Each kernel mirrors a model's PyTorch step function exactly; tests hold them to 1e-10.
"""
