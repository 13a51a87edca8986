"""``catmodel strategies``: which decision-bound strategy fits each participant, block by block."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from catmodel.cli.common import (
    check_out_folder,
    clean_stale_outputs,
    outputs_before_run,
    parse_bounds,
    parse_fix,
    set_threads,
)
from catmodel.cli.data_options import add_data_options, column_map_from_args
from catmodel.cli.run_options import add_device_options, check_run_options

TABLE = "strategies.csv"
FIGURE = "strategies"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "strategies",
        help="classify each participant's responses, block by block, by decision-bound models",
        description="Fit every decision-bound strategy (ud_x1, ud_x2, cj, glc, gqc and the "
        "guessing model; each in every orientation: the side of a criterion, the corner of a "
        "conjunction) to every participant's responses in each block, and pick the best by "
        "BIC. A last partial block shorter than half a block joins the one before. Needs two "
        "categories and two features. Writes strategies.csv (per participant and block: "
        "nll_<model>, bic_<model>, best_model, bic_weight, orientation and the best model's "
        "parameters, in standardised units), strategies.png (share of participants per "
        "strategy by block and condition; one participant's last block per condition with "
        "its bound) and run.json into --out.",
    )
    p.add_argument("data", help="a file, a folder or a glob of trial files")
    p.add_argument("--out", type=Path, required=True, help="results folder")
    p.add_argument("--block-size", type=int, default=100, help="trials per block (default 100)")
    p.add_argument(
        "--strategies",
        default=None,
        help="comma-separated strategies (default: ud_x1,ud_x2,cj,glc,gqc,guessing)",
    )
    p.add_argument(
        "--no-standardize",
        action="store_true",
        help="fit on the features as they are (default: standardise over the whole data set)",
    )
    g = p.add_argument_group("fitting")
    g.add_argument(
        "--starts",
        type=int,
        default=3,
        help="local refinements per fit (default 3; gqc gets at least 10)",
    )
    g.add_argument(
        "--candidates", type=int, default=None, help="quasi-random search candidates per fit"
    )
    g.add_argument("--seed", type=int, default=0, help="seed: same seed, same numbers")
    g.add_argument("--fix", action="append", metavar="NAME=VALUE", help="e.g. --fix lapse=0.02")
    g.add_argument("--bounds", action="append", metavar="NAME=LO:HI", help="narrow a box")
    g.add_argument("--free", action="append", default=[], metavar="NAME", help="e.g. --free lapse")
    g.add_argument("--jobs", type=int, default=None, help="CPU threads (default: all cores)")
    add_device_options(p)
    add_data_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.atomic import write_csv
    from catmodel.compare.strategies import STRATEGIES, block_batch, fit_strategies
    from catmodel.data import load_trials
    from catmodel.errors import SettingsError
    from catmodel.fitting.fit import check_starts
    from catmodel.plots.strategies import strategy_figure
    from catmodel.plots.style import paper_style, save_and_close
    from catmodel.results import frame_hash, write_run_record

    check_out_folder(args.out)
    check_starts(args.starts)
    check_run_options(args)
    if args.block_size < 1:
        raise SettingsError(f"--block-size must be a positive integer, got {args.block_size}")
    names = [s.strip() for s in (args.strategies or ",".join(STRATEGIES)).split(",") if s]
    fix, bounds = parse_fix(args.fix), parse_bounds(args.bounds)
    set_threads(args.jobs)
    previous = outputs_before_run(args.out)
    table = load_trials(args.data, column_map_from_args(args))
    for note in table.notes:
        print(note)
    if len(table.features) != 2:
        raise SettingsError(
            f"strategies need two features, the data have {len(table.features)} "
            "(choose them with --features)"
        )
    batch, _ = block_batch(table, args.block_size, standardize=not args.no_standardize)
    print(
        f"fitting {len(names)} strategies to {table.n_learners} participants in "
        f"{batch.n_learners} blocks"
    )
    t0 = time.perf_counter()
    fits = fit_strategies(
        batch,
        names,
        starts=args.starts,
        candidates=args.candidates,
        seed=args.seed,
        fix=fix,
        bounds=bounds,
        free=args.free,
        progress=True,
        device=args.device,
        dtype=args.dtype,
    )
    seconds = time.perf_counter() - t0
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_csv(fits.table, out / TABLE)
    with paper_style():
        figures = save_and_close(strategy_figure(fits), out / FIGURE)
    write_run_record(
        out,
        {
            "kind": "strategies",
            "data": {"source": table.source, "hash": frame_hash(table.frame)},
            "block_size": args.block_size,
            "strategies": names,
            "standardization": {
                "mean": list(batch.standardization.mean),
                "sd": list(batch.standardization.sd),
            },
            "fitting": {
                "starts": args.starts,
                "candidates": args.candidates,
                "seed": args.seed,
                "fix": fix,
                "bounds": bounds,
                "free": list(args.free),
            },
            "seconds": round(seconds, 2),
        },
        outputs=[TABLE, *(f.name for f in figures)],
    )
    clean_stale_outputs(out, previous)
    shares = fits.table["best_model"].value_counts(normalize=True)
    print(
        "best strategy (share of blocks): " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
    )
    print(f"done in {seconds:.1f} s; results in {out}/")
