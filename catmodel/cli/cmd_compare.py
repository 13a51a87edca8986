"""``catmodel compare``: per-participant and group model comparison of a fit folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from catmodel.cli.run_options import add_device_options, check_run_options
from catmodel.errors import SettingsError


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
        "(DIR/group_stats.csv; log-scaled parameters as log10, probabilities such as a freed "
        "lapse as logits, as its response column says). With --cv, also cross-validated NLL "
        "that respects trial order (DIR/crossval.csv): every model is refitted per fold "
        "exactly as the fit was (its --fix, --free, --bounds, --set settings, feature "
        "standardisation and search settings, from DIR/run.json; the fitted, filtered trials "
        "from DIR/trials.csv.gz); data without blocks need --cv-blocks. Everything is "
        "checked (the cross-validation's blocks and settings included) before any file is "
        "written; the cross-validation runs after the other tables are written. The files "
        "written are listed, and recorded in DIR/run.json (a later fit into DIR removes "
        "them as stale).",
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="a `catmodel fit` results folder")
    p.add_argument(
        "--criterion",
        choices=["bic", "aic"],
        default="bic",
        help="log evidence for group selection: -BIC/2 (default) or -AIC/2",
    )
    p.add_argument(
        "--bms-prior",
        default="1",
        metavar="{1,1/K}",
        help="Dirichlet prior count of every model in the random-effects BMS: 1 (default, "
        "SPM's spm_BMS) or 1/K with K models (the VBA toolbox's VBA_groupBMC); written to "
        "group.csv (bms_prior) and the summary. The BMS uses each participant's Laplace log "
        "evidence when every model in DIR was fitted with --method eb, -BIC/2 (or -AIC/2) "
        "otherwise (group.csv's bms_evidence says which); group.csv's integrated_bic holds "
        "the group-level integrated BIC of the empirical-Bayes models (Huys et al. 2011)",
    )
    p.add_argument(
        "--cv",
        choices=["forward", "leave-one-block-out"],
        default=None,
        help="also cross-validate (refits every model once per fold, over the data's blocks)",
    )
    p.add_argument(
        "--cv-blocks",
        type=int,
        default=None,
        metavar="N",
        help="with --cv: split each participant's trials into N consecutive blocks of equal "
        "size (differing by at most one trial) and cross-validate over those instead of the "
        "data's blocks; needed when the data have no block column",
    )
    p.add_argument(
        "--starts",
        type=int,
        default=None,
        help="starts per fold (with --cv; default: as many as the fit used)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of each fold's search (with --cv; default: the fit's)",
    )
    add_device_options(p)  # where the --cv refits run
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.results import read_fit_folder

    check_options(args)
    folder = read_fit_folder(args.folder)
    crossval = prepare_cross_validation(folder, args) if args.cv else None
    tables, group = comparison_tables(folder, args.criterion, args.bms_prior)
    print(group.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(group.attrs["message"])
    if "lrt.csv" in tables:
        lrt = tables["lrt.csv"]
        print(lrt.groupby(["restricted", "full"])["p_value"].describe().to_string())
    written = write_tables(args.folder, tables)
    if crossval is not None:
        cv = run_cross_validation(crossval)
        print(cv_summary_text(cv))
        written += write_tables(args.folder, {"crossval.csv": cv})
    print(f"results in {args.folder}/")


def check_options(args: argparse.Namespace) -> None:
    """Option errors that need no data: raised before the folder is read."""
    if args.cv_blocks is not None and not args.cv:
        raise SettingsError("--cv-blocks needs --cv")
    if args.cv_blocks is not None and args.cv_blocks < 2:
        raise SettingsError(f"--cv-blocks must be at least 2, not {args.cv_blocks}")
    if args.starts is not None and args.starts < 1:
        raise SettingsError(f"--starts must be at least 1, not {args.starts}")
    from catmodel.compare.bms import bms_prior

    bms_prior(args.bms_prior, 1)  # an unknown prior stops before the folder is read
    check_run_options(args)


def comparison_tables(folder, criterion: str, prior: str = "1"):
    """Every table of the comparison, computed before any is written (``prior``: the BMS's
    Dirichlet prior, ``"1"`` or ``"1/K"``).

    Returns
    -------
    tables : dict
        ``{file name: DataFrame}``: comparison.csv, group.csv and, where they apply,
        lrt.csv and group_stats.csv.
    group : pandas.DataFrame
        The group table (with its ``attrs``).
    """
    from catmodel.compare.table import COMPARISON, GROUP, compare_fits

    recorded = folder.run.get("models", {})
    integrated = {
        name: entry["integrated_bic"]
        for name, entry in recorded.items()
        if isinstance(entry, dict) and entry.get("integrated_bic") is not None
    }
    comparison, group = compare_fits(
        folder.fits, criterion=criterion, prior=prior, integrated_bic=integrated
    )
    tables = {COMPARISON: comparison, GROUP: group}
    tests = nested_tests(folder.fits)
    if tests is not None:
        tables["lrt.csv"] = tests
    stats = condition_tests(folder)
    if stats is not None:
        tables["group_stats.csv"] = stats
    return tables, group


def write_tables(folder: Path, tables: dict) -> list[Path]:
    """Write each table into ``folder``, say so, and record them in its run.json."""
    from catmodel.atomic import write_csv
    from catmodel.results import record_outputs

    written = [write_csv(frame, folder / name) for name, frame in tables.items()]
    record_outputs(folder, written)
    for path in written:
        print(f"wrote {path}")
    return written


def prepare_cross_validation(folder, args: argparse.Namespace) -> dict:
    """Everything the cross-validation needs, checked before anything is written: the
    fitted trials, the blocks, each model with the settings, parameter boxes and fixed
    values of the fit, and the fit's search settings."""
    from catmodel.compare.crossval import check_blocks, data_blocks
    from catmodel.fitting.device import on_device
    from catmodel.simulate.predictive import fitted_table

    if folder.trials is None:
        raise SettingsError(f"--cv needs the fitted trials, and {folder.path} has no trials.csv.gz")
    batch = fitted_table(folder).to_batch(standardize=folder.standardization or True)
    if args.cv_blocks is None and len(data_blocks(batch)) < 2:
        raise SettingsError(
            f"--cv needs trials in at least two blocks, and the trials of {folder.path} have "
            "one (no block column?); give --cv-blocks N to split each participant's trials "
            "into N consecutive blocks"
        )
    check_blocks(batch, args.cv_blocks)
    batch = on_device(batch, args.device, args.dtype)
    models = [folder.model(name) for name in folder.models]
    search = folder.run.get("fitting", {})
    return {
        "batch": batch,
        "models": models,
        "scheme": args.cv,
        "n_blocks": args.cv_blocks,
        "parameter_sets": {
            m.name: folder.parameter_set(m.name, batch.n_features, batch.n_categories)
            for m in models
        },
        "starts": args.starts if args.starts is not None else int(search.get("starts", 3)),
        "seed": args.seed if args.seed is not None else int(search.get("seed", 0)),
        "candidates": search.get("candidates"),
        "refine": str(search.get("refine", "nelder-mead")),
    }


def run_cross_validation(prepared: dict):
    """:func:`catmodel.compare.crossval.cross_validate` with the prepared settings."""
    from catmodel.compare.crossval import cross_validate

    return cross_validate(**prepared)


def cv_summary_text(cv) -> str:
    """The per-model cross-validation table, labelled, for the terminal."""
    from catmodel.compare.crossval import crossval_summary

    summary = crossval_summary(cv).rename(
        columns={
            "heldout_nll": "held-out NLL (sum)",
            "heldout_trials": "held-out trials",
            "nll_per_trial": "NLL per trial",
        }
    )
    scheme = f"{cv['scheme'].iloc[0]}, {int(cv['folds'].iloc[0])} folds" if len(cv) else ""
    table = summary.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    return f"cross-validation ({scheme}; lower is better):\n{table}"


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
    """Each model's fitted parameters compared between conditions (statsmodels), or None.

    Each parameter is compared on the scale it was fitted on (log10, logit or natural; see
    :func:`catmodel.compare.groupstats.analysis_scale`); the table's ``response`` column
    names it.
    """
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
