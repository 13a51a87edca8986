"""``catmodel fit``: per-participant fits (maximum likelihood or empirical Bayes) of one or
several models."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from catmodel.cli.common import (
    add_fit_options,
    build_models,
    check_out_folder,
    check_search_options,
    clean_stale_outputs,
    outputs_before_run,
    parse_bounds,
    parse_fix,
    parse_settings,
    set_threads,
)
from catmodel.cli.data_options import add_data_options, column_map_from_args
from catmodel.cli.run_options import (
    add_device_options,
    add_resume_options,
    check_run_options,
    open_checkpoint,
    run_identity,
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit",
        help="fit models to every participant by maximum likelihood or empirical Bayes",
        description="Fit each model to each participant's trial-by-trial responses: a "
        "batched quasi-random search over the parameter box, then local refinement of the "
        "best starts (in separated regions of the box), then standard errors and confidence "
        "intervals (--ci). Writes fits.csv, starts.csv, trials.csv.gz (with each model's "
        "predicted response probabilities) and run.json into --out; with --method eb also "
        "population.csv (each model's population: mean and sd on the search scale, the "
        "natural-scale median, the mean's standard error). Into an existing "
        "results folder: the files that earlier catmodel runs recorded in its run.json and "
        "that this fit does not rewrite (comparison tables, figures of the old fits) are "
        "removed; any other file is kept.",
    )
    p.add_argument("data", help="a file, a folder or a glob of trial files")
    p.add_argument(
        "--models",
        default="gaussian",
        help="model name or comma-separated names (see `catmodel models`)",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="results folder (created when missing; an existing file is refused)",
    )
    p.add_argument(
        "--no-standardize",
        action="store_true",
        help="fit on the features as they are (default: standardise per data set)",
    )
    add_fit_options(p)
    add_resume_options(p)
    add_device_options(p)
    add_data_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.data import load_trials
    from catmodel.fitting.fit import fit
    from catmodel.results import data_hash, write_fit_folder

    # everything that can be checked without the data, before the data are loaded
    check_out_folder(args.out)
    check_search_options(args)
    check_run_options(args)
    fix, bounds = parse_fix(args.fix), parse_bounds(args.bounds)
    set_threads(args.jobs)
    models = build_models(args.models, parse_settings(args.settings))
    previous = outputs_before_run(args.out)
    table = load_trials(args.data, column_map_from_args(args))
    for note in table.notes:
        print(note)
    batch = table.to_batch(standardize=not args.no_standardize)
    identity = run_identity(
        "fit",
        data_hash(table),
        {
            "models": [[m.name, m.settings] for m in models],
            "starts": args.starts,
            "candidates": args.candidates,
            "seed": args.seed,
            "fix": fix,
            "bounds": bounds,
            "free": list(args.free),
            "refine": args.refine,
            "ci": args.ci,
            "ci_level": args.ci_level,
            "standardize": not args.no_standardize,
            "chunk_size": args.chunk_size,  # how units are cut: a checkpoint's unit names
            "dtype": args.dtype,
            "method": args.method,
            "population": args.population,
            "population_by": args.population_by,
        },
    )
    checkpoint = open_checkpoint(args.out, identity, args.resume)
    if checkpoint is None:
        return
    print(
        f"fitting {', '.join(m.name for m in models)} to {table.n_learners} learners "
        f"({table.n_trials} trials)"
    )
    t0 = time.perf_counter()
    result = fit(
        batch,
        models,
        starts=args.starts,
        candidates=args.candidates,
        seed=args.seed,
        fix=fix,
        bounds=bounds,
        free=args.free,
        refine=args.refine,
        progress=True,
        ci=args.ci,
        ci_level=args.ci_level,
        method=args.method,
        population=args.population,
        population_by=args.population_by,
        chunk_size=args.chunk_size,
        checkpoint=checkpoint,
        scheduler=args.scheduler,
        dask_address=args.dask_address,
        device=args.device,
        dtype=args.dtype,
    )
    seconds = time.perf_counter() - t0
    out = write_fit_folder(
        args.out,
        table,
        batch,
        result,
        {
            "seconds": round(seconds, 2),
            "warnings": result.notes,
            "identity": checkpoint.hash,
            # which units an earlier, interrupted run had saved (empty: none resumed)
            "resumed": sorted(checkpoint.resumed),
            "device": args.device,
        },
        fitting={
            "fix": fix,
            "free": list(args.free),
            "bounds": bounds,
            "standardize": not args.no_standardize,
        },
    )
    checkpoint.discard()  # the final files are written: nothing left to resume
    clean_stale_outputs(out, previous)
    # the summary ends with the result's notes (warnings), one line each
    print(result.to_string())
    print(f"done in {seconds:.1f} s; results in {out}/")
