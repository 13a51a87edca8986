"""Shipped simulated data: fit every model to every file of ``data/`` and compare.

Each file holds participants simulated from one model (see data/README.md). Fitting all models
and comparing them by BIC and random-effects Bayesian model selection shows, on the shipped
data, whether the generating model is recognised.

    python -m analyses.simulated [--quick] [--out results/report]
"""

from __future__ import annotations

import sys

import pandas as pd

from analyses.common import MODELS, REPO, fit_into, markdown_table, parser


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from catmodel.atomic import atomic_open, write_csv
    from catmodel.compare.table import write_comparison
    from catmodel.data import ColumnMap, load_trials
    from catmodel.results import read_fit_folder

    files = sorted((REPO / "data" / "simulated").glob("*.csv.gz"))
    if args.quick:
        files = files[:1]
    rows = []
    for path in files:
        name = path.name.split(".")[0]
        generating, design = name.split("_", 1)
        columns = ColumnMap(trials="1-60") if args.quick else ColumnMap()
        table = load_trials(str(path), columns)
        if args.quick:
            keep = table.learners[:3]
            table.frame = table.frame[table.frame["learner"].isin(keep)].reset_index(drop=True)
            table.learners = keep
        models = ("gaussian", "guessing") if args.quick else MODELS
        folder = args.out / "simulated" / name
        fit_into(
            folder,
            table,
            models,
            starts=2 if args.quick else 5,
            candidates=32 if args.quick else None,
            seed=args.seed,
        )
        _, group = write_comparison(folder, read_fit_folder(folder).fits)
        best = group.sort_values("sum_bic").iloc[0]
        pxp = group.set_index("model")["protected_exceedance"]
        rows.append(
            {
                "file": path.name,
                "generating": generating,
                "design": design,
                "best by summed BIC": best["model"],
                "participants best fit by the generating model": int(
                    group.set_index("model").loc[generating, "n_best"]
                )
                if generating in set(group["model"])
                else 0,
                "participants": table.n_learners,
                "pxp of the generating model": float(pxp.get(generating, float("nan"))),
            }
        )
    summary = pd.DataFrame(rows)
    out = args.out / "simulated"
    write_csv(summary, out / "summary.csv")
    with atomic_open(out / "summary.md") as fh:
        fh.write(markdown_table(summary, ".2f") + "\n")
    print(summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
