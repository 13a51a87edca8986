"""Is every model's likelihood a smooth, reproducible function of its parameters? Prints JSON.

For each model and data set, parameter vectors are drawn uniformly over the whole fitting box
(scale coordinates: log10 for rates and temperatures), each for a participant drawn at random.

* ``share_smooth``: the share of vectors where the NLL is smooth on a tiny scale: with u a random
  unit direction and δ = 1e-9 · max(|θ|, 1) · u (a relative perturbation of 1e-9),
  ``|NLL(θ + δ) + NLL(θ − δ) − 2 NLL(θ)| ≤ 1e-6``. A second difference, so a steep but smooth
  surface passes; a chaotic learner (whose trajectory amplifies a change in the 9th digit of a
  rate into a different sequence of states) fails.
* ``max_path_diff``: the largest |NLL difference| for the same vector between the code paths
  that compute it — the compiled kernel with the vectors in one batch (the Gaussian ``sgd``
  kernel runs such a batch in SIMD lockstep blocks), the kernel one vector at a time, and the
  PyTorch step function in float64 — on a subset of the vectors.

Data sets: ``simulated`` (the shipped ``data/example.csv.gz``: 20 simulated participants x 400
trials) and ``real`` (``crossley_cat_unlearn_2cat`` from ``../shared/datasets``: 80 participants,
trials 1-300, responses logged as key codes dropped), skipped when that folder is absent.

Models at their default settings (every registered model) enter ``worst``: the minimum
``share_smooth`` and the maximum ``max_path_diff`` over them. The original Gaussian learner
(``gaussian[update=sgd]``) and the natural update with density activations
(``gaussian[activation=density]``) are reported beside them, outside ``worst``.

Usage::

    python benchmarks/smoothness.py            # 2,000 vectors per model and data set
    python benchmarks/smoothness.py --quick    # 300 vectors, fewer path checks (< 3 minutes)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from catmodel.data import ColumnMap, load_trials
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.smoothness import LIMIT, RELATIVE_STEP, box_vectors, check_smoothness
from catmodel.models.choice import response_log_likelihood
from catmodel.models.params import ParameterSet
from catmodel.models.registry import default_models, get_model
from catmodel.models.rollout import as_value_tensors, rollout_logits

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets" / "crossley_cat_unlearn_2cat"
#: models outside ``worst``: the original learner and the density-activation candidate
CANDIDATES = {
    "gaussian[update=sgd]": ("gaussian", {"update": "sgd"}),
    "gaussian[activation=density]": ("gaussian", {"activation": "density"}),
}


def datasets() -> dict[str, object]:
    """The data sets as batches (standardised, as fitting sees them)."""
    out = {"simulated": load_trials(str(REPO / "data" / "example.csv.gz")).to_batch()}
    files = sorted((SHARED / "cat_unlearn_2_cat" / "data").glob("sub_*_data.csv.gz"))
    if files:
        columns = ColumnMap(
            participant="subject",
            category="cat",
            response="resp",
            features="x,y",
            trials="1-300",
            drop_invalid_responses=True,
        )
        out["real"] = load_trials([str(f) for f in files], columns).to_batch()
    return out


def torch_nll(model, batch, pset: ParameterSet, rows, theta) -> np.ndarray:
    """The NLL by the PyTorch step function (float64), in chunks."""
    out = np.empty(len(rows))
    for start in range(0, len(rows), 256):
        sl = slice(start, start + 256)
        values = pset.scale_to_natural(theta[sl])
        index = torch.as_tensor(rows[sl])
        vals = as_value_tensors(values, batch.x, len(index))
        logits = rollout_logits(model, batch, index, vals, backend="torch")
        temperature = vals.get("temperature", torch.ones(len(index), dtype=batch.x.dtype))
        lapse = vals.get("lapse", torch.zeros(len(index), dtype=batch.x.dtype))
        ll = response_log_likelihood(logits, batch.response[index], temperature, lapse)
        out[sl] = -ll.numpy()
    return out


def measure(model, batch, n_vectors: int, n_paths: int, seed: int) -> dict:
    """share_smooth and max_path_diff of one model on one data set."""
    pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    objective = Objective(model, batch, pset)
    theta, rows = box_vectors(*pset.scale_bounds(), n_vectors, batch.n_learners, seed)
    t0 = time.perf_counter()
    check = check_smoothness(objective.nll_at, rows, theta, seed=seed)
    record = {
        "share_smooth": check.share_smooth,
        "vectors": n_vectors,
        "largest_second_difference": float(np.max(check.second_difference)),
    }
    if not check.smooth.all():
        worst = np.argsort(-check.second_difference)[:3]
        record["least_smooth"] = [
            dict(zip(pset.free_names, np.round(theta[i], 3).tolist(), strict=True)) for i in worst
        ]
    sub = slice(0, min(n_paths, n_vectors))
    batched = check.nll[sub]
    one_at_a_time = np.array(
        [objective.nll_at(rows[i : i + 1], theta[i : i + 1])[0] for i in range(sub.stop)]
    )
    by_torch = torch_nll(model, batch, pset, rows[sub], theta[sub])
    diffs = np.abs(np.stack([batched - one_at_a_time, batched - by_torch]))
    record["max_path_diff"] = float(np.nanmax(diffs)) if np.isfinite(diffs).all() else np.inf
    record["path_vectors"] = sub.stop
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 vectors, 100 path checks")
    parser.add_argument("--vectors", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=None, help="comma-separated (default: all)")
    args = parser.parse_args(argv)
    n_vectors = args.vectors or (300 if args.quick else 2000)
    n_paths = 100 if args.quick else 300
    torch.set_num_threads(1)

    names = args.models.split(",") if args.models else [*default_models(), "guessing"]
    models = {name: get_model(name) for name in names}
    extra = {} if args.models else {k: get_model(n, **s) for k, (n, s) in CANDIDATES.items()}
    result: dict = {"relative_step": RELATIVE_STEP, "limit": LIMIT, "models": {}}
    for data_name, batch in datasets().items():
        for name, model in {**models, **extra}.items():
            rec = measure(model, batch, n_vectors, n_paths, args.seed)
            result["models"].setdefault(name, {})[data_name] = rec
    defaults = [rec for name in models for rec in result["models"][name].values()]
    result["worst"] = {
        "share_smooth": min(r["share_smooth"] for r in defaults),
        "max_path_diff": max(r["max_path_diff"] for r in defaults),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
