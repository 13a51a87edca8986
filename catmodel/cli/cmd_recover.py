"""``catmodel recover``: parameter recovery on simulated participants."""

from __future__ import annotations

import argparse
from pathlib import Path

from catmodel.cli.common import (
    add_design_options,
    add_search_options,
    build_models,
    check_out_folder,
    check_search_options,
    clean_stale_outputs,
    outputs_before_run,
    parse_design_options,
    parse_settings,
    set_threads,
)
from catmodel.cli.run_options import (
    add_device_options,
    add_resume_options,
    check_run_options,
    open_checkpoint,
    options_identity,
    run_identity,
)
from catmodel.errors import SettingsError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "recover",
        help="simulate participants with known parameters, fit them, report recovery",
        description="Draw true parameters over the model's generating box (log10-uniform "
        "for rates and temperature), simulate participants with the same step function the "
        "likelihood uses, fit them with the same defaults as `catmodel fit`, and write "
        "recovery.csv, recovery_summary.csv (r, bias, RMSE on the log10 scale for "
        "log-scaled parameters; share of fits with NLL <= NLL(true) + 1), "
        "recovery_correlations.csv and a true-vs-recovered figure.",
    )
    p.add_argument("--model", default="gaussian", help="model name (default gaussian)")
    p.add_argument("--participants", type=int, default=100, help="simulated participants")
    p.add_argument("--trials", type=int, default=400, help="trials per participant")
    p.add_argument(
        "--design",
        default="two-gaussian",
        help="task design (default two-gaussian, the demo's task)",
    )
    add_design_options(p)
    add_search_options(p)
    add_device_options(p)
    add_resume_options(p)
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="results folder (created when missing; an existing file is refused; outputs of "
        "earlier catmodel runs recorded in its run.json that this run does not rewrite are "
        "removed, other files kept)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.compare.recovery import parameter_recovery
    from catmodel.figures import save_parameter_recovery

    check_out_folder(args.out)
    check_search_options(args)
    if args.population_by is not None:
        raise SettingsError("--population-by: simulated participants have no conditions")
    check_run_options(args)
    set_threads(args.jobs)
    (model,) = build_models(args.model, parse_settings(args.settings))
    design_options = parse_design_options(args.design_option)
    previous = outputs_before_run(args.out)
    # the simulated data follow from the options (seed included): they are the identity
    identity = run_identity("recover", "simulated", options_identity(args))
    checkpoint = open_checkpoint(args.out, identity, args.resume)
    if checkpoint is None:
        return
    study = parameter_recovery(
        model,
        design=args.design,
        n_participants=args.participants,
        n_trials=args.trials,
        seed=args.seed,
        starts=args.starts,
        candidates=args.candidates,
        progress=True,
        method=args.method,
        population=args.population,
        device=args.device,
        dtype=args.dtype,
        chunk_size=args.chunk_size,
        checkpoint=checkpoint,
        scheduler=args.scheduler,
        dask_address=args.dask_address,
        **design_options,
    )
    out = save_parameter_recovery(
        study,
        args.out,
        {
            "design": args.design,
            "participants": args.participants,
            "trials_per_participant": args.trials,
            "method": args.method,
            "identity": checkpoint.hash,
            # which units an earlier, interrupted run had saved (empty: none resumed)
            "resumed": sorted(checkpoint.resumed),
        },
    )
    checkpoint.discard()  # the final files are written: nothing left to resume
    clean_stale_outputs(out, previous)
    cols = ["parameter", "r", "bias", "rmse", "share_within_1", "generating_low", "generating_high"]
    print(study.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results in {out}/")
