"""``catmodel model-recovery``: confusion and inversion matrices of the model comparison."""

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
        "model-recovery",
        help="simulate from each model, fit all, and tabulate which model wins",
        description="Simulate participants from each model (parameters drawn over each "
        "model's documented generating box), fit every model to every simulated participant, "
        "and write confusion.csv p(best fit | generating model), inversion.csv p(generating "
        "model | best fit) (rows: generating model; columns: best-fitting model), the "
        "per-participant comparison and heatmaps.",
    )
    p.add_argument(
        "--models",
        default=None,
        help="comma-separated models (default: every learning model in the registry, "
        "see `catmodel models`)",
    )
    p.add_argument("--participants", type=int, default=30, help="participants per model")
    p.add_argument("--trials", type=int, default=300, help="trials per participant")
    p.add_argument(
        "--design",
        default="ii",
        help="task design (default ii: two overlapping bivariate normal categories, "
        "best possible accuracy between .8 and .9)",
    )
    p.add_argument("--criterion", choices=["bic", "aic"], default="bic")
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
    from catmodel.compare.model_recovery import model_recovery
    from catmodel.figures import save_model_recovery
    from catmodel.models.registry import default_models

    check_out_folder(args.out)
    check_search_options(args)
    if args.population_by is not None:
        raise SettingsError("--population-by: simulated participants have no conditions")
    check_run_options(args)
    set_threads(args.jobs)
    names = args.models if args.models is not None else ",".join(default_models())
    models = build_models(names, parse_settings(args.settings))
    design_options = parse_design_options(args.design_option)
    previous = outputs_before_run(args.out)
    # the simulated data follow from the options (seed included): they are the identity
    identity = run_identity("model-recovery", "simulated", options_identity(args))
    checkpoint = open_checkpoint(args.out, identity, args.resume)
    if checkpoint is None:
        return
    study = model_recovery(
        models,
        design=args.design,
        n_participants=args.participants,
        n_trials=args.trials,
        criterion=args.criterion,
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
    out = save_model_recovery(
        study,
        args.out,
        {
            "design": args.design,
            "participants": args.participants,
            "trials": args.trials,
            "seed": args.seed,
            "method": args.method,
            "identity": checkpoint.hash,
            # which units an earlier, interrupted run had saved (empty: none resumed)
            "resumed": sorted(checkpoint.resumed),
            "models": {m.name: {"settings": m.settings} for m in models},
        },
    )
    checkpoint.discard()  # the final files are written: nothing left to resume
    clean_stale_outputs(out, previous)
    print("p(best fit | generating model):")
    print(study.confusion.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"results in {out}/")
