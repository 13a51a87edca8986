"""Speed of the likelihood rollout and of fitting: prints one JSON object.

* ``forward_learner_trials_per_s``: learner-trials per second of the batched forward rollout
  (:func:`catmodel.models.rollout.rollout_logits`, the function every fit calls) at P = 1, 100
  and 10,000 learners x 400 trials, Gaussian learner, float64, D = 2, K = 2 — and the same at
  D = 4, K = 4 (``forward_d4k4_learner_trials_per_s``), and for the original SGD learner
  (``update="sgd"``, ``forward_sgd_learner_trials_per_s``, D = 2, K = 2);
* ``backward_learner_trials_per_s``: forward + backward (gradients of the NLL through the whole
  learning trajectory, PyTorch) at the same sizes;
* the same on CUDA when a GPU is present (``cuda``);
* ``fit_100x400_s``: wall time of ``catmodel.fitting.fit`` with default settings on 100
  simulated participants x 400 trials (Gaussian), and ``fit_4models_100x400_s`` with the four
  learning models (gaussian, prototype, exemplar, alcove);
* ``naive_eval_400_s``: in the same run, the original model written naively — a per-trial loop
  with ``torch.optim.SGD`` and ``MultivariateNormal(covariance_matrix=...)`` — evaluating one
  400-trial likelihood; ``speedup_forward_vs_naive`` compares it with the rollout at P = 10,000.

``--device cuda`` (issue 14) measures the CUDA path instead, in ``--dtype`` (default
float32 there): ``forward_learner_trials_per_s`` at P = 10^4, 10^5 and 10^6 (Gaussian, D = 2,
K = 2) and ``fit_10000x400_4models_s``, the time to fit 10,000 simulated participants x 400
trials with the four learning models (``fit(..., device="cuda")``). Without a CUDA device it
stops with one line (exit 2); ``--device auto`` then measures the CPU. Every report says which
device it measured (``device``).

Usage::

    python benchmarks/fit_speed.py            # everything (a few minutes on 2 cores)
    python benchmarks/fit_speed.py --quick    # small sizes, no fits (a smoke test)
    python benchmarks/fit_speed.py --device cuda [--dtype float64] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from catmodel.compare.recovery import simulate_participants
from catmodel.data.trials import TrialTable
from catmodel.fitting.fit import fit
from catmodel.fitting.likelihood import torch_nll
from catmodel.models.gaussian import Gaussian
from catmodel.models.params import ParameterSet
from catmodel.models.rollout import rollout_logits
from catmodel.simulate.designs import make_design
from catmodel.simulate.simulate import sample_parameters

TRIALS = 400


def gaussian_batch(
    n_rows: int, n_features: int = 2, n_categories: int = 2, seed: int = 0, device: str = "cpu"
):
    """``n_rows`` participants x 400 trials of Gaussian categories (D features, K labels)."""
    if n_features == 2 and n_categories == 2:
        frame = make_design("two-gaussian", n_rows, TRIALS, seed=seed)
    else:
        rng = np.random.default_rng(seed)
        means = rng.normal(0, 1.5, (n_categories, n_features))
        rows = []
        for p in range(n_rows):
            cats = rng.integers(0, n_categories, TRIALS)
            x = means[cats] + rng.normal(0, 1, (TRIALS, n_features))
            for t in range(TRIALS):
                rows.append(
                    {
                        "participant": f"p{p}",
                        "trial": t + 1,
                        **{f"x{d + 1}": x[t, d] for d in range(n_features)},
                        "category": int(cats[t]),
                    }
                )
        import pandas as pd

        frame = pd.DataFrame(rows)
    batch = TrialTable.from_frame(frame).to_batch()
    return batch.to(device) if device != "cpu" else batch


def _values(model, batch, n, device="cpu", requires_grad=False):
    pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    natural = sample_parameters(pset, n, seed=1)
    return {
        k: torch.tensor(v, dtype=batch.x.dtype, device=device, requires_grad=requires_grad)
        for k, v in natural.items()
    }


def time_forward(model, batch, n_learners: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` learner-trials per second of ``rollout_logits``."""
    index = torch.arange(n_learners, device=batch.x.device) % batch.n_learners
    values = _values(model, batch, n_learners, device=str(batch.x.device))
    rollout_logits(model, batch, index, values)  # compile / warm up
    best = float("inf")
    for _ in range(repeats):
        _sync(batch)
        t0 = time.perf_counter()
        rollout_logits(model, batch, index, values)
        _sync(batch)
        best = min(best, time.perf_counter() - t0)
    return n_learners * TRIALS / best


def time_backward(model, batch, n_learners: int) -> float:
    """Learner-trials per second of NLL forward + backward through the trajectory."""
    index = torch.arange(n_learners, device=batch.x.device) % batch.n_learners
    values = _values(model, batch, n_learners, device=str(batch.x.device), requires_grad=True)
    _sync(batch)
    t0 = time.perf_counter()
    nll = torch_nll(model, batch, index, values).sum()
    nll.backward()
    _sync(batch)
    return n_learners * TRIALS / (time.perf_counter() - t0)


def _sync(batch) -> None:
    if batch.x.device.type == "cuda":
        torch.cuda.synchronize()


def naive_eval(n_trials: int = TRIALS, seed: int = 0) -> float:
    """Seconds for one likelihood evaluation by the original per-trial autograd loop."""
    from torch.distributions import MultivariateNormal

    frame = make_design("two-gaussian", 1, n_trials, seed=seed)
    x = torch.tensor(frame[["x1", "x2"]].to_numpy())
    y = torch.tensor((frame["category"] == "B").to_numpy().astype(int))
    mu = torch.nn.Parameter(torch.tensor([[-0.25, 0.05], [-0.15, -0.25]], dtype=torch.float64))
    cov = torch.nn.Parameter(0.02 * torch.eye(2, dtype=torch.float64).repeat(2, 1, 1))
    w = torch.nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))
    opt = torch.optim.SGD(
        [{"params": [mu], "lr": 0.002}, {"params": [cov], "lr": 1e-5}, {"params": [w], "lr": 0.1}],
        momentum=0.3,
    )
    temperature = 0.1
    t0 = time.perf_counter()
    log_lik = 0.0
    for t in range(n_trials):
        a = MultivariateNormal(mu, covariance_matrix=cov).log_prob(x[t]).exp()
        out = w @ a
        log_lik += float(torch.log_softmax(out.detach() / temperature, -1)[y[t]])
        loss = torch.nn.functional.cross_entropy(out[None], y[t][None])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def fit_time(models, n: int = 100, seed: int = 0) -> float:
    """Wall time of a default fit of ``models`` to ``n`` simulated participants x 400 trials."""
    _, batch, _ = simulate_participants(Gaussian(), "two-gaussian", n, TRIALS, seed=seed)
    fit(batch.select(range(2)), models)  # compile the kernels outside the timing
    t0 = time.perf_counter()
    fit(batch, models)
    return time.perf_counter() - t0


def cuda_report(quick: bool, dtype: str) -> dict:
    """The CUDA path's figures (see the module's docstring)."""
    from catmodel.fitting.device import DTYPES
    from catmodel.models.registry import get_model

    model = Gaussian()
    sizes = [10_000] if quick else [10_000, 100_000, 1_000_000]
    gpu = gaussian_batch(100).to(device="cuda", dtype=DTYPES[dtype])
    report: dict = {
        "device": "cuda",
        "name": torch.cuda.get_device_name(0),
        "dtype": dtype,
        "forward_learner_trials_per_s": {str(p): round(time_forward(model, gpu, p)) for p in sizes},
    }
    n = 200 if quick else 10_000
    _, batch, _ = simulate_participants(Gaussian(), "two-gaussian", n, TRIALS, seed=0)
    four = [get_model(m) for m in ("gaussian", "prototype", "exemplar", "alcove")]
    fit(batch.select(range(2)), four, device="cuda", dtype=dtype, ci="wald")  # warm up
    t0 = time.perf_counter()
    fit(batch, four, device="cuda", dtype=dtype, ci="wald")
    report[f"fit_{n}x{TRIALS}_4models_s"] = round(time.perf_counter() - t0, 2)
    return report


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no fits")
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda", "auto"),
        default="cpu",
        help="cpu (default), cuda (the CUDA path's figures) or auto (cuda when available)",
    )
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default=None, help="cuda only (float32)"
    )
    args = parser.parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            print(
                "fit_speed.py: error: --device cuda: no CUDA device is available", file=sys.stderr
            )
            raise SystemExit(2)
        report = cuda_report(args.quick, args.dtype or "float32")
        print(json.dumps(report, indent=1))
        return report
    sizes = [1, 100] if args.quick else [1, 100, 10_000]
    model = Gaussian()
    report: dict = {"device": "cpu", "threads": torch.get_num_threads()}
    batch = gaussian_batch(100)
    report["forward_learner_trials_per_s"] = {
        str(p): round(time_forward(model, batch, p)) for p in sizes
    }
    report["backward_learner_trials_per_s"] = {
        str(p): round(time_backward(model, batch, p)) for p in sizes
    }
    report["forward_sgd_learner_trials_per_s"] = {
        str(p): round(time_forward(Gaussian(update="sgd"), batch, p)) for p in sizes
    }
    batch4 = gaussian_batch(20 if args.quick else 100, n_features=4, n_categories=4)
    report["forward_d4k4_learner_trials_per_s"] = {
        str(p): round(time_forward(model, batch4, p)) for p in sizes
    }
    naive = min(naive_eval() for _ in range(1 if args.quick else 3))
    report["naive_eval_400_s"] = round(naive, 4)
    top = report["forward_learner_trials_per_s"][str(sizes[-1])]
    report["speedup_forward_vs_naive"] = round(top / (TRIALS / naive), 1)
    if torch.cuda.is_available():
        gpu = gaussian_batch(100, device="cuda")
        cuda_sizes = sizes + ([1_000_000] if not args.quick else [])
        report["cuda"] = {
            "device": torch.cuda.get_device_name(0),
            "forward_learner_trials_per_s": {
                str(p): round(time_forward(model, gpu, p)) for p in cuda_sizes
            },
            "backward_learner_trials_per_s": {
                str(p): round(time_backward(model, gpu, p)) for p in sizes
            },
        }
    if not args.quick:
        report["fit_100x400_s"] = round(fit_time([model]), 2)
        from catmodel.models.registry import get_model

        four = [get_model(n) for n in ("gaussian", "prototype", "exemplar", "alcove")]
        report["fit_4models_100x400_s"] = round(fit_time(four), 2)
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
