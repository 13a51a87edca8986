"""How well could any fitter recover the Gaussian learner's parameters? The ceiling on recovery.

The README's recovery study (``catmodel recover --model gaussian --participants 300 --trials
400 --seed 11``, seed 11 + ``--seed``) fitted by maximum likelihood, beside the posterior mean
under the prior the study drew its true values from (uniform on the log10 generating box): the
estimator with the least squared error, whose correlation with the truth no function of the data
exceeds (:mod:`catmodel.compare.recovery_bound`). On the demo's task (``two-gaussian``) and on the
overlapping ``ii`` design.

    python -m analyses.recovery_bound [--quick] [--out results/report]

Writes ``recovery_bound/bound.csv`` and ``bound.md`` (one row per design and parameter).
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from analyses.common import markdown_table, parser

DESIGNS = ("two-gaussian", "ii")


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from catmodel.atomic import atomic_open, write_csv
    from catmodel.compare.recovery import parameter_recovery
    from catmodel.compare.recovery_bound import recovery_bound
    from catmodel.models.registry import get_model

    n, trials = (12, 120) if args.quick else (300, 400)
    frames = []
    for design in DESIGNS[:1] if args.quick else DESIGNS:
        t0 = time.perf_counter()
        study = parameter_recovery(
            get_model("gaussian"),
            design=design,
            n_participants=n,
            n_trials=trials,
            seed=args.seed + 11,
        )
        bound = recovery_bound(study, seed=args.seed)
        frame = bound.summary.assign(
            design=design,
            ess_min=float(bound.ess.min()),
            ess_median=float(pd.Series(bound.ess).median()),
            seconds=round(time.perf_counter() - t0),
        )
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    out = args.out / "recovery_bound"
    write_csv(table, out / "bound.csv")
    with atomic_open(out / "bound.md") as fh:
        fh.write(markdown_table(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
