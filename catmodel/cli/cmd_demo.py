"""``catmodel demo``: the original two-category task, learned by the bounded Gaussian learner."""

from __future__ import annotations

import argparse
from pathlib import Path

from catmodel.errors import SettingsError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the original model's two-category task and draw what it learned",
        description="Two bivariate normal categories, 200 points each, five epochs in fresh "
        "shuffled orders; the learner starts and learns as the original model did (lr_mu "
        ".002, lr_w .1, momentum .3). Writes one PNG with the data and true distributions "
        "beside the learned distributions, and prints last-epoch accuracy and KL(true || "
        "learned) per category.",
    )
    p.add_argument(
        "--lr-cov", type=float, default=1e-3, help="covariance learning rate (default 1e-3)"
    )
    p.add_argument(
        "--generative",
        type=float,
        default=0.0,
        help="weight of the generative term -log p(x | own category) (default 0, "
        "the original model; try 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the orders")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help="folder for the figure (default: the current folder; created when missing; "
        "an existing file is refused)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.cli.common import check_out_folder
    from catmodel.demo import plot_demo, run_demo

    if args.lr_cov < 0 or args.generative < 0:
        raise SettingsError("--lr-cov and --generative must be non-negative")
    check_out_folder(args.out)
    result = run_demo(lr_cov=args.lr_cov, generative=args.generative, seeds=(args.seed,))
    name = f"demo_lrcov{args.lr_cov:g}" + (f"_gen{args.generative:g}" if args.generative else "")
    written = plot_demo(
        result,
        args.out / name,
        title=f"lr_cov = {args.lr_cov:g}, generative weight = {args.generative:g}",
    )
    print(f"last-epoch accuracy: {result.accuracy[0]:.3f}")
    for k, label in enumerate("AB"):
        print(
            f"KL(true || learned) category {label}: {result.kl_end[0, k]:.4f} "
            f"(at the start: {result.kl_start[0, k]:.4f})"
        )
    for path in written:
        print(f"figure: {path}")
