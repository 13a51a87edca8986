"""``catmodel figures``: every figure that applies to a results folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from catmodel.cli.run_options import add_device_options, check_run_options


def add_parser(sub) -> None:
    p = sub.add_parser(
        "figures",
        help="draw the figures of a fit, recover or model-recovery results folder",
        description="Draw every figure that applies to a results folder, as PNG and PDF. "
        "A `catmodel fit` folder gives learning_curves (accuracy by block: the data with "
        "its 95% CI, each model's posterior predictive simulation with its 95% "
        "predictive interval and its expected curve from the predicted probabilities; one "
        "row per condition), learned_gaussians_<participant> (a Gaussian fit of two "
        "features: the learner's units, decision boundary and the block's stimuli and "
        "responses after every block), parameters_<model> (fitted parameters by condition, "
        "log10 for log-scaled ones) and model_comparison (per-participant delta BIC and "
        "protected exceedance probabilities; two models or more). A `catmodel recover` "
        "folder adds parameter_recovery (true vs recovered); a `catmodel model-recovery` "
        "folder gives model_recovery (confusion and inversion heatmaps). Figures that do "
        "not apply are skipped with a message. Figures drawn into a results folder (the "
        "default DIR/figures) are listed in its run.json, so a later fit into DIR removes "
        "them with its other stale outputs.",
    )
    p.add_argument(
        "folder",
        type=Path,
        metavar="DIR",
        help="a results folder of `catmodel fit`, `recover` or `model-recovery`",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FIGDIR",
        help="folder for the figures (default: DIR/figures; created when missing; an "
        "existing file is refused)",
    )
    p.add_argument(
        "--participant",
        default=None,
        metavar="ID",
        help="participant of the learned-Gaussians figure (default: the one "
        "whose Gaussian fit has the median NLL)",
    )
    p.add_argument(
        "--runs",
        type=int,
        default=20,
        metavar="N",
        help="posterior predictive runs per participant for the learning curves "
        "(default 20; 0: only the expected curves)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of the posterior predictive runs (default 0)",
    )
    p.add_argument(
        "--format",
        default="png,pdf",
        metavar="FORMATS",
        help="comma-separated image formats: png, pdf, svg (default png,pdf)",
    )
    add_device_options(p)  # where the posterior predictive runs' models run
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.cli.common import check_out_folder
    from catmodel.figures import check_formats, draw_figures

    check_run_options(args)
    out = check_out_folder(args.out if args.out is not None else args.folder / "figures")
    formats = check_formats(args.format.split(","))
    written = draw_figures(
        args.folder,
        out,
        formats=formats,
        participant=args.participant,
        runs=args.runs,
        seed=args.seed,
        on_skip=lambda message: print(f"skipped {message}"),
        device=args.device,
        dtype=args.dtype,
    )
    for path in written:
        print(path)
    print(f"{len(written)} files in {out}/")
