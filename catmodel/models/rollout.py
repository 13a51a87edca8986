"""Run a model over every learner's trials: the one rollout that fitting, simulation and the
benchmarks all call.

Learners are (batch row, parameter vector) pairs: ``index[l]`` is the batch row whose trials
learner ``l`` sees and ``values[name][l]`` its parameters, so participants x candidate parameter
vectors run in one pass. Forward-only rollouts on the CPU use the model's compiled kernel when it
has one for the settings; otherwise, and whenever gradients are needed, the step function runs
trial by trial in PyTorch (on whatever device the batch lives).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import torch

from catmodel.models.base import Model, State, map_state


def as_value_tensors(values: Mapping[str, object], like: torch.Tensor, n: int):
    """Parameter values as (n,) tensors of the dtype and device of ``like``."""
    out = {}
    for name, v in values.items():
        if isinstance(v, np.ndarray):
            v = np.array(v, dtype=np.float64)  # a writable copy (pandas may hand out views)
        t = torch.as_tensor(v, dtype=like.dtype, device=like.device)
        out[name] = t.expand(n).clone() if t.dim() == 0 else t
    return out


def rollout_logits(
    model: Model,
    batch,
    index,
    values: Mapping[str, object],
    backend: str = "auto",
) -> torch.Tensor:
    """Logits (L, T, K) of every learner on every trial, computed before that trial's feedback.

    Parameters
    ----------
    model
        The model.
    batch
        :class:`~catmodel.data.TrialBatch` holding the trials.
    index
        (L,) batch row of each learner.
    values
        Natural-scale parameter values, each a scalar or (L,).
    backend
        ``"auto"`` (kernel when available and no gradient is required), ``"kernel"`` or
        ``"torch"``.

    Returns
    -------
    torch.Tensor
        Logits, zero on padded trials. Differentiable with respect to ``values`` on the
        ``torch`` backend.
    """
    index_t = torch.as_tensor(index, dtype=torch.long, device=batch.x.device)
    vals = as_value_tensors(values, batch.x, len(index_t))
    needs_grad = any(v.requires_grad for v in vals.values())
    if backend in ("auto", "kernel") and not needs_grad and batch.x.device.type == "cpu":
        np_vals = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in vals.items()}
        out = model.kernel_logits(batch, index_t.cpu().numpy(), np_vals)
        if out is not None:
            return torch.from_numpy(out)
        if backend == "kernel":
            raise ValueError(f"model {model.name!r} has no kernel for settings {model.settings}")
    logits, _ = torch_rollout(model, batch, index_t, vals)
    return logits


def torch_rollout(
    model: Model,
    batch,
    index: torch.Tensor,
    values: Mapping[str, torch.Tensor],
    keep_states: Iterable[int] = (),
) -> tuple[torch.Tensor, dict[int, State]]:
    """Step through the trials in PyTorch.

    Parameters
    ----------
    keep_states
        Trial positions after which to keep a copy of the state (e.g. block ends, for plots).

    Returns
    -------
    logits, states
        Logits (L, T, K) and ``{t: state after trial t}`` for the requested positions.
    """
    keep = set(keep_states)
    x = batch.x[index]
    feedback = batch.feedback[index]
    n_trials = batch.n_trials[index]
    state = model.init_state(batch, index, values)
    outputs = []
    kept: dict[int, State] = {}
    for t in range(x.shape[1]):
        present = t < n_trials
        fb = torch.where(present, feedback[:, t], torch.full_like(feedback[:, t], -1))
        state, logits = model.step(state, t, x[:, t], fb, values)
        outputs.append(torch.where(present[:, None], logits, torch.zeros_like(logits)))
        if t in keep:
            kept[t] = map_state(lambda s: s.detach().clone(), state)
    if not outputs:
        k = batch.n_categories
        return x.new_zeros((len(index), 0, k)), kept
    return torch.stack(outputs, 1), kept
