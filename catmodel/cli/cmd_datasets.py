"""``catmodel datasets``: list the real data sets, and write one in the standard schema."""

from __future__ import annotations

import argparse
from pathlib import Path

#: Columns of ``datasets list`` (the citation last: it is the long one).
LIST_COLUMNS = (
    "name",
    "experiment",
    "participants",
    "trials",
    "D",
    "K",
    "phases",
    "licence",
    "citation",
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "datasets",
        help="list the real data sets, or write one in the standard trial schema",
        description="Real category-learning data sets from public repositories, converted "
        "to the standard trial schema following each study's own phases, feedback and "
        "exclusions (see the README's 'Real data sets').",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="the data sets: size, D, K, phases, licence")
    listing.set_defaults(run=run_list)
    get = actions.add_parser(
        "get",
        help="write a data set as a trial file that `catmodel fit` reads without options",
        description="Write data set NAME in the standard schema. Without --from the "
        "original files are downloaded from the original repository at a pinned commit, "
        "checked against their recorded SHA-256, and cached in the user's cache folder "
        "($CATMODEL_DATA_DIR overrides it; $CATMODEL_DATASETS_URL the server).",
    )
    get.add_argument("name", help="the data set's name (`catmodel datasets list`)")
    get.add_argument(
        "--experiment",
        default=None,
        help="one experiment of a data set that has several (default: all, with an "
        "'experiment' column)",
    )
    get.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        metavar="DIR",
        help="read a local copy laid out as ../shared/datasets (DIR/NAME/...) instead of "
        "downloading",
    )
    get.add_argument("--out", type=Path, required=True, help="file to write (.csv or .csv.gz)")
    get.set_defaults(run=run_get)
    p.set_defaults(run=lambda args: p.print_help())


def run_list(args: argparse.Namespace) -> None:
    from catmodel.data.datasets import dataset_table

    table = dataset_table()[list(LIST_COLUMNS)]
    numbers = {"participants", "trials", "D", "K"}  # right-aligned; text left-aligned
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}

    def cell(column: str, value) -> str:
        text = str(value)
        return text.rjust(widths[column]) if column in numbers else text.ljust(widths[column])

    print("  ".join(cell(c, c) for c in table.columns).rstrip())
    for _, row in table.iterrows():
        print("  ".join(cell(c, row[c]) for c in table.columns).rstrip())


def run_get(args: argparse.Namespace) -> None:
    from catmodel.data.datasets import find, write_dataset
    from catmodel.errors import SettingsError

    # refuse unknown names and a folder for --out before any download
    find(args.name, args.experiment)
    if args.out.is_dir():
        raise SettingsError(f"--out {args.out} is a folder; give a file name (.csv.gz)")
    path, frame = write_dataset(args.name, args.out, args.experiment, source=args.source)
    excluded = frame.groupby("participant", sort=False)["excluded_by_authors"].first()
    print(
        f"wrote {len(frame):,} trials of {frame['participant'].nunique():,} participants "
        f"to {path} ({int(excluded.sum())} excluded by the authors: fit them out with "
        "--authors-exclusions)"
    )
