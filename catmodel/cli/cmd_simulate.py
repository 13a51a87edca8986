"""``catmodel simulate``: simulated participants in the trial schema the loader reads."""

from __future__ import annotations

import argparse
from pathlib import Path

from catmodel.cli.common import (
    add_design_options,
    build_models,
    check_out_file,
    parse_assignments,
    parse_design_options,
    parse_settings,
    to_number,
)
from catmodel.cli.run_options import add_device_options, check_run_options
from catmodel.errors import SettingsError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate participants of a model on a design, or posterior predictive data",
        description="Simulate participants on a task design with given parameters (each "
        "model's defaults when none are given), or, with --from-fits, simulate each fitted "
        "participant on their own stimulus sequence and feedback (posterior predictive "
        "data; --runs for several runs per participant). Writes a CSV in the standard trial "
        "schema, so the file fits back with `catmodel fit` (use --learner participant,run "
        "when it holds several runs).",
    )
    p.add_argument("--model", required=True, help="model name")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--params",
        metavar="NAME=VALUE,...",
        help="parameter values (natural scale); missing ones take the defaults",
    )
    src.add_argument(
        "--from-fits",
        type=Path,
        metavar="DIR",
        help="a `catmodel fit` results folder: use each participant's fit",
    )
    p.add_argument(
        "--design",
        default=None,
        help="two-gaussian, ii, ii-4, rb, distortion, shj-1..shj-6, 5-4 or file:PATH (default: "
        "two-gaussian; with --from-fits: each participant's own trials, or their "
        "fitted parameters on a fresh sequence of the design given)",
    )
    p.add_argument("--participants", type=int, default=20, help="participants (default 20)")
    p.add_argument("--blocks", type=int, default=None, help="blocks per participant")
    p.add_argument(
        "--trials", type=int, default=None, help="trials per participant (alternative to --blocks)"
    )
    p.add_argument(
        "--draw-params",
        action="store_true",
        help="draw each participant's parameters over the model's generating box "
        "(as recovery studies do); true values go to OUT's .params.csv",
    )
    p.add_argument(
        "--runs",
        type=int,
        default=1,
        help="simulated runs per fitted participant (with --from-fits)",
    )
    p.add_argument(
        "--set",
        action="append",
        dest="settings",
        metavar="NAME=VALUE",
        help="model settings, e.g. --set update=sgd",
    )
    add_design_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same file)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="CSV file to write (an existing file is replaced, an existing folder refused)",
    )
    add_device_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.atomic import write_csv
    from catmodel.results import read_fit_folder
    from catmodel.simulate.predictive import (
        fitted_on_design,
        posterior_predictive,
        simulate_design,
    )

    if args.runs < 1 or args.participants < 1:
        raise SettingsError("--runs and --participants must be at least 1")
    check_out_file(args.out)
    check_run_options(args)
    device = {"device": args.device, "dtype": args.dtype}
    params_out = params_file(args.out)
    if args.draw_params:
        check_out_file(params_out, "--out (its true parameters)")
    if args.from_fits is not None:
        folder = read_fit_folder(args.from_fits)
        if args.model not in folder.models:
            raise SettingsError(
                f"{args.from_fits}/fits.csv has no model {args.model!r} "
                f"(it has {', '.join(folder.models)})"
            )
        if args.design is None:
            frame = posterior_predictive(
                folder, args.model, runs=args.runs, seed=args.seed, **device
            )
        else:
            frame = fitted_on_design(
                folder,
                args.model,
                args.design,
                seed=args.seed,
                n_trials=args.trials,
                n_blocks=args.blocks,
                runs=args.runs,
                **device,
                **parse_design_options(args.design_option),
            )
    else:
        (model,) = build_models(args.model, parse_settings(args.settings))
        values = {
            k: to_number(v, "--params", k)
            for k, v in parse_assignments(args.params, "--params").items()
        }
        frame, params = simulate_design(
            model,
            args.design or "two-gaussian",
            args.participants,
            seed=args.seed,
            values=values,
            n_trials=args.trials,
            n_blocks=args.blocks,
            draw=args.draw_params,
            **device,
            **parse_design_options(args.design_option),
        )
        if args.draw_params:
            params_path = write_csv(params, params_out)
            print(f"true parameters in {params_path}")
    path = write_csv(frame, args.out)
    n = frame["participant"].nunique()
    print(f"wrote {len(frame)} trials of {n} participants to {path}")


def params_file(out: Path) -> Path:
    """Where ``--draw-params`` writes the true parameters: ``OUT``'s name up to its first
    dot, plus ``.params.csv``."""
    return out.with_name(f"{out.name.split('.')[0]}.params.csv")
