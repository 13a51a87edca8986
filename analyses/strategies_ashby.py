"""Real data: decision-bound strategies, block by block, in ashby_rbii_switchvi's single tasks.

The single-task baselines of the data set (no task switching, two categories): ``ud2`` (a
unidimensional rule on ellipse length), ``ii2`` (an information-integration bound) and ``cj2``
(a conjunctive rule), 7 participants each, 560 trials. The condition is coded in the file name
(``ud2sub3.txt.gz``); this script reads it from the participant id, which is the file name.
Every strategy is fitted to each participant's blocks of 100 trials (the last 60 trials are a
sixth block: not shorter than half a block) with ``catmodel.compare.strategies`` — what
``catmodel strategies`` does — and the table and figure are written.

    python -m analyses.strategies_ashby [--quick] [--out results/report]
"""

from __future__ import annotations

import sys

from analyses.common import REPO, parser, shared

CONDITIONS = ("ud2", "ii2", "cj2")


def load(path, quick: bool):
    """The single-task files (quick: the first two participants of each), condition added."""
    from catmodel.data import ColumnMap, TrialTable, load_trials

    folder = path / "data" / "all_data"
    files = []
    for condition in CONDITIONS:
        found = sorted(folder.glob(f"{condition}sub*.txt.gz"))
        files += found[:2] if quick else found
    columns = ColumnMap(category=1, features=(2, 3), response=5, rt=6)
    table = load_trials([str(f) for f in files], columns)
    frame = table.frame.copy()
    frame["condition"] = frame["participant"].str.replace(r"sub\d+$", "", regex=True)
    frame = frame.rename(columns=dict(zip(table.features, ["length", "orientation"], strict=True)))
    keep = ["participant", "trial", "length", "orientation", "category", "response", "condition"]
    return TrialTable.from_frame(frame[keep], ["length", "orientation"])


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    path = shared("ashby_rbii_switchvi")
    if path is None:
        return 0
    from catmodel.atomic import write_csv
    from catmodel.compare.strategies import block_batch, fit_strategies, strategy_shares
    from catmodel.plots.strategies import strategy_figure
    from catmodel.plots.style import paper_style, save_and_close

    table = load(path, args.quick)
    batch, _ = block_batch(table, 100)
    fits = fit_strategies(batch, starts=2 if args.quick else 3, seed=args.seed)
    out = args.out / "strategies_ashby"
    out.mkdir(parents=True, exist_ok=True)
    write_csv(fits.table, out / "strategies.csv")
    with paper_style():
        save_and_close(strategy_figure(fits), out / "strategies")
        if not args.quick:
            save_and_close(
                strategy_figure(fits), REPO / "docs" / "figures" / "strategies_ashby.png"
            )
    shares = strategy_shares(fits.table)
    wide = shares.pivot_table(
        index=["condition", "block"], columns="best_model", values="n", fill_value=0
    )
    print(wide.to_string())
    print(f"wrote {out}/strategies.csv and strategies.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
