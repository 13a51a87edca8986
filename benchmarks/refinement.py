"""Which local refinement recovers parameters better per unit time: prints one JSON object.

Simulated participants (the demo's two-category task, parameters from the Gaussian learner's
generating box) are fitted twice from the same quasi-random search: once refined by batched
Nelder-Mead on the compiled forward rollout, once by Adam with gradients through the whole
learning trajectory (PyTorch). For each: wall time, RMSE and r per parameter (log10 scale), and
the share of fits with NLL <= NLL(true) + 1.

Usage::

    python benchmarks/refinement.py [--participants 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from catmodel.compare.recovery import recovery_tables, simulate_participants
from catmodel.fitting.fit import fit
from catmodel.fitting.result import convergence_shares
from catmodel.models.gaussian import Gaussian


def run(refine: str, batch, true, model) -> dict:
    t0 = time.perf_counter()
    result = fit(batch, [model], refine=refine, seed=0)
    seconds = time.perf_counter() - t0
    f = result.fits[0]
    _, summary, _ = recovery_tables(model, batch, f, true)
    params = {
        row.parameter: {"rmse": round(row.rmse, 3), "r": round(row.r, 3)}
        for row in summary.itertuples()
    }
    return {
        "seconds": round(seconds, 1),
        "share_within_1": round(float(summary["share_within_1"].iloc[0]), 3),
        "mean_nll": round(float(np.mean(f.nll)), 2),
        "converged": round(convergence_shares(f.converged)[0], 3),
        "parameters": params,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = Gaussian()
    _, batch, true = simulate_participants(
        model, "two-gaussian", args.participants, args.trials, seed=args.seed
    )
    fit(batch.select(range(1)), [model])  # compile kernels outside the timing
    report = {
        "participants": args.participants,
        "trials": args.trials,
        "nelder_mead": run("nelder-mead", batch, true, model),
        "gradient": run("gradient", batch, true, model),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
