"""Local refinement by gradients through the whole learning trajectory (Adam, PyTorch).

The NLL is differentiated with respect to the unconstrained parameters through every trial's
learning step (the closed-form inner gradients of the step functions are ordinary tensor
operations, so autograd sees the whole trajectory). Offered as an alternative to batched
Nelder-Mead; ``benchmarks/refinement.py`` measures which recovers parameters better per unit
time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from catmodel.fitting.likelihood import Objective, torch_nll

#: default number of Adam steps
ITERATIONS = 150


def refine_gradient(
    objective: Objective,
    rows: np.ndarray,
    start_scale: np.ndarray,
    iterations: int = ITERATIONS,
    learning_rate: float = 0.05,
    tolerance: float = 1e-4,
    report: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adam on every (participant, start) problem at once.

    Parameters
    ----------
    objective
        Supplies the model, batch and parameter set.
    rows
        (N,) batch row of each problem.
    start_scale
        (N, F) starting points in scale coordinates (all free parameters).
    iterations, learning_rate
        Adam steps and step size in unconstrained coordinates.
    tolerance
        A problem counts as converged when its best NLL improved by less than this over the
        last 10 steps.
    report
        Called after every step with the problem-steps done so far (steps x problems).

    Returns
    -------
    scale, nll, converged
        Best points (N, F), their NLL (N,) from the compiled path, and convergence flags.
    """
    pset, batch, model = objective.pset, objective.batch, objective.model
    dtype, device = batch.x.dtype, batch.x.device
    lo, hi = (torch.as_tensor(b, dtype=dtype, device=device) for b in pset.scale_bounds())
    z = torch.tensor(
        pset.scale_to_unconstrained(start_scale), dtype=dtype, device=device, requires_grad=True
    )
    rows_t = torch.as_tensor(rows, dtype=torch.long, device=device)
    optimiser = torch.optim.Adam([z], lr=learning_rate)
    best = torch.full((len(rows),), float("inf"), dtype=dtype, device=device)
    best_z = z.detach().clone()
    history = []
    for step in range(iterations):
        optimiser.zero_grad()
        scale = lo + (hi - lo) * torch.sigmoid(z)
        values = _natural(pset, scale)
        nll = torch_nll(model, batch, rows_t, values)
        loss = torch.where(torch.isfinite(nll), nll, torch.zeros_like(nll)).sum()
        loss.backward()
        with torch.no_grad():
            finite = torch.isfinite(nll)
            improved = finite & (nll < best)
            best = torch.where(improved, nll, best)
            best_z[improved] = z.detach()[improved]
            z.grad[~finite] = 0.0
        history.append(best.clone())
        optimiser.step()
        if report is not None:
            report((step + 1) * len(rows))
    converged = np.zeros(len(rows), dtype=bool)
    if len(history) > 10:
        converged = ((history[-11] - history[-1]) < tolerance).cpu().numpy()
    scale = pset.unconstrained_to_scale(best_z.cpu().numpy())
    nll = objective.nll_at(rows, scale)
    return scale, nll, converged


def _natural(pset, scale: torch.Tensor) -> dict[str, torch.Tensor]:
    """Differentiable natural values of all parameters from free scale coordinates."""
    out = {}
    free = pset.free_names
    n = scale.shape[0]
    for p in pset.params:
        if p.name in free:
            c = scale[:, free.index(p.name)]
            if p.scale == "log":
                out[p.name] = 10.0**c
            elif p.scale == "logit":
                out[p.name] = torch.sigmoid(c)
            else:
                out[p.name] = c
        else:
            out[p.name] = torch.full(
                (n,), pset.fixed[p.name], dtype=scale.dtype, device=scale.device
            )
    return out
