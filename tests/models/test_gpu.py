"""The CUDA path: the same step functions on a GPU give the CPU's numbers (skips without one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from catmodel.fitting.likelihood import torch_nll
from catmodel.models.registry import available_models, get_model
from catmodel.models.rollout import rollout_logits

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


@pytest.mark.parametrize("name", sorted(available_models()))
def test_rollout_on_cuda_matches_cpu(name, small_batch):
    model = get_model(name)
    pset_values = {p.name: p.default for p in model.params(2, 2)}
    idx = torch.arange(small_batch.n_learners)
    cpu = rollout_logits(model, small_batch, idx, pset_values, backend="torch")
    gpu_batch = small_batch.to("cuda")
    gpu = rollout_logits(model, gpu_batch, idx.cuda(), pset_values)
    assert np.allclose(gpu.cpu().numpy(), cpu.numpy(), atol=1e-9)


def test_gradients_through_the_trajectory_on_cuda(small_batch):
    model = get_model("gaussian")
    batch = small_batch.to("cuda")
    values = {
        p.name: torch.full((3,), p.default, dtype=torch.float64, device="cuda", requires_grad=True)
        for p in model.params(2, 2)
    }
    nll = torch_nll(model, batch, torch.arange(3, device="cuda"), values).sum()
    nll.backward()
    assert all(torch.isfinite(v.grad).all() for v in values.values())


@pytest.mark.parametrize("name", ["gaussian", "prototype", "exemplar", "alcove"])
def test_nll_on_cuda_float64_matches_the_cpu_kernels(name, small_batch):
    from catmodel.fitting.likelihood import Objective
    from catmodel.models.params import ParameterSet

    model = get_model(name)
    pset = ParameterSet.for_model(model, small_batch.n_features, small_batch.n_categories)
    lo, hi = pset.scale_bounds()
    rows = np.arange(small_batch.n_learners)
    point = np.tile((lo + hi) / 2, (len(rows), 1))
    cpu = Objective(model, small_batch, pset).nll_at(rows, point)
    gpu = Objective(model, small_batch.to("cuda"), pset).nll_at(rows, point)
    assert np.allclose(gpu, cpu, rtol=1e-6, atol=0)


def test_fit_on_cuda_runs_and_agrees_with_the_cpu_fit(small_batch):
    from catmodel.fitting.fit import fit

    cpu = fit(small_batch, "prototype", starts=2, candidates=16, ci=None)
    gpu = fit(small_batch, "prototype", starts=2, candidates=16, ci=None, device="cuda")
    assert np.allclose(gpu.fits[0].nll, cpu.fits[0].nll, rtol=1e-6)


def test_simulate_on_cuda_draws_the_cpus_responses():
    from catmodel.models.registry import get_model as model_named
    from catmodel.simulate.predictive import simulate_design

    model = model_named("gaussian")
    cpu, _ = simulate_design(model, "ii", 4, seed=3, n_trials=120, draw=True)
    gpu, _ = simulate_design(model, "ii", 4, seed=3, n_trials=120, draw=True, device="cuda")
    assert (gpu["response"] == cpu["response"]).all()
