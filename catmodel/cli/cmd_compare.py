"""``catmodel compare``: per-participant and group model comparison of a fit folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare the models of a fit folder (AIC/BIC, group Bayesian model selection)",
        description="Read DIR/fits.csv and write DIR/comparison.csv (per participant: AIC, "
        "BIC, differences to the best, Akaike and BIC weights, the best model) and "
        "DIR/group.csv (per model: summed BIC, participants best fit, expected frequency, "
        "exceedance and protected exceedance probability from random-effects Bayesian model "
        "selection); prints the group table. With --cv, also cross-validated NLL that "
        "respects trial order (DIR/crossval.csv).",
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="a `catmodel fit` results folder")
    p.add_argument("--criterion", choices=["bic", "aic"], default="bic",
                   help="log evidence for group selection: -BIC/2 (default) or -AIC/2")
    p.add_argument("--cv", choices=["forward", "leave-one-block-out"], default=None,
                   help="also cross-validate (refits every model once per fold)")
    p.add_argument("--starts", type=int, default=3, help="starts per fold (with --cv)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.atomic import write_csv
    from catmodel.compare.table import compare_fits
    from catmodel.results import read_fit_folder

    folder = read_fit_folder(args.folder)
    comparison, group = compare_fits(folder.fits, criterion=args.criterion)
    write_csv(comparison, args.folder / "comparison.csv")
    write_csv(group, args.folder / "group.csv")
    print(group.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.cv:
        from catmodel.compare.crossval import cross_validate
        from catmodel.simulate.predictive import fitted_table

        table = fitted_table(folder)
        batch = table.to_batch(standardize=folder.standardization or True)
        models = [folder.model(name) for name in folder.models]
        cv = cross_validate(batch, models, scheme=args.cv, starts=args.starts, seed=args.seed)
        write_csv(cv, args.folder / "crossval.csv")
        print(cv.groupby("model")["cv_nll"].sum().sort_values().to_string())
    print(f"results in {args.folder}/")
