"""Real data: two-category information-integration learning (crossley_cat_unlearn_2cat).

80 participants learned two categories of Gabor-like stimuli (an information-integration
structure, optimal boundary y = x) with veridical feedback on the first 300 trials. This script
loads those trials with mapping options only, fits every model to every participant, compares
the models, and draws the learning curves (data vs posterior predictive) and the learned
Gaussians of one participant block by block.

Responses logged as raw key codes (see the data set's SCHEMA.md) are not category labels; the
trials are kept for learning but such a response cannot be scored, so they are dropped
(--drop-invalid-responses) and the count is reported, as the authors' own loader does.

    python -m analyses.crossley_2cat [--quick] [--out results/report]
"""

from __future__ import annotations

import sys

from analyses.common import MODELS, fit_into, parser, shared


def load(path, quick: bool):
    """The analysis's data: every participant, trials 1-300 (quick: 4 participants, 1-100)."""
    return load_trials_of(path, 4 if quick else None, "1-100" if quick else "1-300", 25)


def load_trials_of(path, n_files: int | None, trials: str, block_size: int):
    """The first ``n_files`` participants' ``trials`` with the README's mapping (responses
    logged as key codes dropped), in blocks of ``block_size`` trials (the files have none)."""
    from catmodel.data import ColumnMap, load_trials

    files = sorted((path / "cat_unlearn_2_cat" / "data").glob("sub_*_data.csv.gz"))
    columns = ColumnMap(
        participant="subject",
        category="cat",
        response="resp",
        features="x,y",
        condition="condition",
        trials=trials,
        drop_invalid_responses=True,
    )
    table = load_trials([str(f) for f in files[:n_files]], columns)
    table.frame["block"] = (table.frame["trial"] - 1) // block_size + 1
    return table


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    path = shared("crossley_cat_unlearn_2cat")
    if path is None:
        return 0
    from catmodel.compare.table import write_comparison
    from catmodel.figures import draw_figures
    from catmodel.results import read_fit_folder

    out = args.out / "crossley_2cat"
    table = load(path, args.quick)
    for note in table.notes:
        print(note)
    models = ("gaussian", "guessing") if args.quick else MODELS
    fit_into(
        out,
        table,
        models,
        starts=2 if args.quick else 5,
        candidates=64 if args.quick else None,
        seed=args.seed,
    )
    _, group = write_comparison(out, read_fit_folder(out).fits)
    print(group.to_string(index=False))
    written = draw_figures(out, out / "figures", runs=5 if args.quick else 20, seed=args.seed)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
