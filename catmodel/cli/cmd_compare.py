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
        "selection); prints the group table. Where nested models were fitted (exemplar and "
        "exemplar-decay), likelihood-ratio tests with the mixture-of-chi-square reference "
        "for parameters on their boundary (DIR/lrt.csv); where the data have conditions, "
        "each fitted parameter compared between conditions with statsmodels "
        "(DIR/group_stats.csv). With --cv, also cross-validated NLL that respects trial "
        "order (DIR/crossval.csv).",
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="a `catmodel fit` results folder")
    p.add_argument(
        "--criterion",
        choices=["bic", "aic"],
        default="bic",
        help="log evidence for group selection: -BIC/2 (default) or -AIC/2",
    )
    p.add_argument(
        "--cv",
        choices=["forward", "leave-one-block-out"],
        default=None,
        help="also cross-validate (refits every model once per fold)",
    )
    p.add_argument("--starts", type=int, default=3, help="starts per fold (with --cv)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.atomic import write_csv
    from catmodel.compare.table import write_comparison
    from catmodel.results import read_fit_folder

    folder = read_fit_folder(args.folder)
    _, group = write_comparison(args.folder, folder.fits, criterion=args.criterion)
    print(group.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    tests = nested_tests(folder.fits)
    if tests is not None:
        write_csv(tests, args.folder / "lrt.csv")
        print(tests.groupby(["restricted", "full"])["p_value"].describe().to_string())
    stats = condition_tests(folder)
    if stats is not None:
        write_csv(stats, args.folder / "group_stats.csv")
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


def nested_tests(fits):
    """Likelihood-ratio tests for every nested pair of fitted models, or None."""
    import pandas as pd

    from catmodel.compare.lrt import lrt_from_fits
    from catmodel.models.registry import NESTED

    present = set(fits["model"])
    frames = []
    for restricted, full, boundary in NESTED:
        if {restricted, full} <= present:
            table = lrt_from_fits(fits, restricted, full, boundary=boundary)
            frames.append(table.assign(restricted=restricted, full=full))
    return pd.concat(frames, ignore_index=True) if frames else None


def condition_tests(folder):
    """Each model's fitted parameters compared between conditions (statsmodels), or None."""
    import pandas as pd

    from catmodel.compare.groupstats import compare_parameters
    from catmodel.results import free_parameter_scales

    fits = folder.fits
    if "condition" not in fits or fits["condition"].nunique() < 2:
        return None
    frames = []
    for model in folder.models:
        scales = free_parameter_scales(folder.run, model)
        rows = fits[fits["model"] == model]
        for parameter in scales:
            result = compare_parameters(rows, parameter, by="condition", scales=scales)
            frames.append(result.table.assign(model=model, parameter=parameter))
    return pd.concat(frames, ignore_index=True) if frames else None
