"""Robustness of the Gaussian learner over learning rates: prints one JSON object.

The demo's two-category task (2 x 200 points, five epochs in fresh orders, the original
starting state) is learned at learning rates 1e-6, 3e-6, 1e-5, ..., 10 (15 half-decade steps),
(a) ``lr_cov`` alone (the others at the demo's values) and (b) all learning rates together,
with momentum 0 and 0.9, in float64 and float32, with the generative term off (weight 0) and
on (weight 1), for ``--seeds`` seeds per cell (each seed its own sample and orders).

Per cell and in total it counts runs, exceptions, non-finite outputs, and degenerate
covariances — judged independently of the band: condition number above 1e6, or a float32
Cholesky that fails, at the end of any epoch — and reports last-epoch accuracy and KL(true ||
learned) at the start and the end. It also reports the demo's accuracy, the check "KL at the
end below KL at the start for every seed at every lr_cov from 1e-3 to 1e-1 with momentum 0 and
the generative term on", and, for reference, how often the original free-matrix
parameterisation fails on the same task.

Usage::

    python benchmarks/robustness.py            # full grid (about a minute on 2 cores)
    python benchmarks/robustness.py --quick    # CI-sized subset
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from catmodel.demo import MOMENTUM, RATES, demo_model, demo_trials
from catmodel.models.base import state_tensors
from catmodel.models.kl import kl_gaussian
from catmodel.models.rollout import torch_rollout
from catmodel.simulate.designs import TWO_GAUSSIAN_COVS, TWO_GAUSSIAN_MEANS

RATE_GRID = [10 ** (-6 + 0.5 * i) for i in range(15)]
CONDITION_LIMIT = 1e6


def run_cell_batch(rates, mode, momentum, dtype, generative, seeds, covariance="spectral"):
    """Run every (rate, seed) of one setting in one batched rollout; per-run diagnostics."""
    batch, _ = demo_trials(seeds, dtype=dtype)
    n_seeds = len(seeds)
    index = torch.arange(n_seeds).repeat(len(rates))
    lr = torch.tensor(np.repeat(rates, n_seeds), dtype=dtype)
    values = {k: torch.full_like(lr, v) for k, v in RATES.items()}
    if mode == "lr_cov":
        values["lr_cov"] = lr
    else:
        values = {k: lr for k in RATES}
    model = demo_model(generative=generative, momentum=momentum, covariance=covariance)
    epoch = batch.max_trials // 5
    ends = [epoch * (e + 1) - 1 for e in range(5)]
    with torch.no_grad():
        state0 = model.init_state(batch, index, values)
        logits, kept = torch_rollout(model, batch, index, values, keep_states=ends)
    finite = torch.isfinite(logits).all(-1).all(-1)
    for t in ends:
        finite &= torch.stack(
            [
                torch.isfinite(s).reshape(len(index), -1).all(-1)
                for s in state_tensors(kept[t])
                if s.is_floating_point() and s.shape[0] == len(index)
            ]
        ).all(0)
    degenerate = torch.zeros(len(index), dtype=torch.bool)
    for t in ends:
        degenerate |= _degenerate(model, kept[t])
    last = slice(batch.max_trials - epoch, batch.max_trials)
    cat = batch.category[index][:, last]
    accuracy = (logits[:, last].argmax(-1) == cat).double().mean(1)
    kl_start = _kl(model, state0)
    kl_end = _kl(model, kept[ends[-1]])
    return {
        "rate": lr.double().numpy(),
        "finite": finite.numpy(),
        "degenerate": degenerate.numpy(),
        "accuracy": accuracy.numpy(),
        "kl_start": kl_start,
        "kl_end": kl_end,
    }


def _covariances(model, state) -> torch.Tensor:
    cov = state.cov
    return model.cov.matrices(cov).double()


def _degenerate(model, state) -> torch.Tensor:
    """Condition number above 1e6 or a failing float32 Cholesky, for any unit."""
    sigma = _covariances(model, state)
    eig = torch.linalg.eigvalsh(sigma)
    cond = eig[..., -1] / eig[..., 0]
    bad = ~(cond <= CONDITION_LIMIT)  # NaN counts as degenerate
    _, info = torch.linalg.cholesky_ex(sigma.float())
    return (bad | (info != 0)).any(-1)


def _kl(model, state) -> np.ndarray:
    """Mean over categories of KL(true || learned), per learner (NaN if not computable)."""
    mu = state.means.double().numpy()
    sigma = _covariances(model, state).numpy()
    out = np.empty(mu.shape[0])
    for i in range(mu.shape[0]):
        try:
            out[i] = np.mean(
                [
                    kl_gaussian(TWO_GAUSSIAN_MEANS[k], TWO_GAUSSIAN_COVS[k], mu[i, k], sigma[i, k])
                    for k in range(2)
                ]
            )
        except np.linalg.LinAlgError:
            out[i] = math.nan
    return out


def cell_records(rates, mode, momentum, dtype, generative, seeds) -> list[dict]:
    n = len(seeds)
    try:
        res = run_cell_batch(rates, mode, momentum, dtype, generative, seeds)
        exceptions = np.zeros(len(rates) * n, dtype=bool)
    except Exception:
        res = None
        exceptions = np.ones(len(rates) * n, dtype=bool)
    records = []
    for i, rate in enumerate(rates):
        sl = slice(i * n, (i + 1) * n)
        rec = {
            "mode": mode,
            "rate": rate,
            "momentum": momentum,
            "dtype": str(dtype).replace("torch.", ""),
            "generative": generative,
            "runs": n,
            "exceptions": int(exceptions[sl].sum()),
        }
        if res is None:
            rec.update(non_finite=0, degenerate=0, accuracy=None)
        else:
            kl_s, kl_e = res["kl_start"][sl], res["kl_end"][sl]
            rec.update(
                non_finite=int((~res["finite"][sl]).sum()),
                degenerate=int(res["degenerate"][sl].sum()),
                accuracy=round(float(np.nanmean(res["accuracy"][sl])), 4),
            )
            if generative:
                rec.update(
                    kl_start=round(float(np.nanmean(kl_s)), 4),
                    kl_end=round(float(np.nanmean(kl_e)), 4),
                    kl_decreased=int(np.sum(kl_e < kl_s)),
                )
        records.append(rec)
    return records


def original_failures(seeds) -> list[dict]:
    """How often the original free-matrix parameterisation fails, by lr_cov (reference)."""
    out = []
    batch, _ = demo_trials(seeds)
    n = len(seeds)
    for rate in [1e-5, 1e-4, 1e-3, 1e-2]:
        values = {k: torch.full((n,), v, dtype=torch.float64) for k, v in RATES.items()}
        values["lr_cov"] = torch.full((n,), rate, dtype=torch.float64)
        model = demo_model(covariance="full")
        with torch.no_grad():
            state = model.init_state(batch, torch.arange(n), values)
            for t in range(batch.max_trials):
                state, _ = model.step(state, t, batch.x[:, t], batch.feedback[:, t], values)
        failed_at = state.failed_at
        failed = failed_at >= 0
        out.append(
            {
                "lr_cov": rate,
                "runs": n,
                "failed": int(failed.sum()),
                "first_failure_trial": int(failed_at[failed].min()) + 1 if failed.any() else None,
            }
        )
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized subset")
    parser.add_argument("--seeds", type=int, default=20, help="seeds per cell (default 20)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.quick:
        rates, seeds = [1e-6, 1e-3, 1e-1, 10.0], list(range(3))
    else:
        rates, seeds = RATE_GRID, list(range(args.seeds))
    cells = []
    for mode in ("lr_cov", "all"):
        for momentum in (0.0, 0.9):
            for dtype in (torch.float64, torch.float32):
                for generative in (0.0, 1.0):
                    cells += cell_records(rates, mode, momentum, dtype, generative, seeds)
    total = {
        key: int(sum(c[key] for c in cells))
        for key in ("runs", "exceptions", "non_finite", "degenerate")
    }
    demo = cell_records([RATES["lr_cov"]], "lr_cov", MOMENTUM, torch.float64, 0.0, seeds)[0]
    kl_cells = [
        c
        for c in cells
        if c["mode"] == "lr_cov"
        and c["momentum"] == 0.0
        and c["generative"]
        and 1e-3 * 0.999 <= c["rate"] <= 1e-1 * 1.001
    ]
    report = {
        "total": total,
        "cells": cells,
        "demo_accuracy": demo["accuracy"],
        "kl_check": {
            "rule": "generative on, momentum 0, lr_cov in [1e-3, 1e-1]: KL end < KL start "
            "for every seed",
            "cells": len(kl_cells),
            "runs": int(sum(c["runs"] for c in kl_cells)),
            "decreased": int(sum(c["kl_decreased"] for c in kl_cells)),
            "all_decreased": all(c["kl_decreased"] == c["runs"] for c in kl_cells),
        },
        "original_full_matrix_failures": original_failures(seeds[:5]),
        "settings": {
            "rates": rates,
            "seeds": len(seeds),
            "condition_limit": CONDITION_LIMIT,
            "sd_band": list(demo_model().settings["sd_band"]),
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
