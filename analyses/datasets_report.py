"""Real-data results for the trial-level data sets the README had none for.

    python -m analyses.datasets_report [--quick] [--out results/report] [--only KEYS]

For each data set below: the data as ``catmodel datasets get NAME --from ../shared/datasets``
writes them (:func:`catmodel.data.datasets.get_dataset`), a documented subset of
participants and trials, fits of the Gaussian learner, the prototype and exemplar models and
ALCOVE (``catmodel fit``), the model comparison (``catmodel compare``: summed BIC, random-
effects Bayesian model selection) and one figure: the learning curves — data with 95% CIs
across participants, each model's posterior predictive band (``catmodel simulate
--from-fits``: simulated runs per participant with their fitted parameters, on their own
stimuli and feedback) and expected accuracy — above the model comparison. Everything goes into
``OUT/datasets/KEY/``: the fit folder (``fits.csv``, ``trials.csv.gz``, ``comparison.csv``,
``group.csv``), ``curves.csv`` (the group curves the figure shows), ``summary.json`` (what the
README's paragraph quotes) and ``figures/``: ``results.png`` (the combined figure) from
``learning_curves.png`` and ``model_comparison.png``, and ``parameters_<model>.png``, drawn by
the same code as ``catmodel figures``.

The subsets (the full data sets are too slow to fit on a 2-core machine in one report run):

``crossley_4cat`` — ``crossley_unlearning_4cat`` (``nc_40``): all 48 participants (both
    conditions, ``relearn`` and ``new_learn``, named for what follows the acquisition), the
    acquisition phase (trials 1-300: four bivariate normal categories, veridical feedback).
``ashby_rbii`` — ``ashby_rbii_switchvi``, the single-task, two-category baselines: rule-based
    ``ud2`` (unidimensional) and ``cj2`` (conjunctive), information-integration ``ii2``: all
    seven participants of each, all 560 trials.
``dots`` — ``hu_nosofsky_dots`` (``mc_2024``): the first six participants of each training
    condition (low, medium, high, mixed distortion), all 354 trials: 270 training trials with
    feedback, then 84 transfer trials without (predicted, not learned from; their responses
    count in the likelihood).
``sixproblems`` — ``sixproblems`` (``nosof94``): the first 20 learners of each of the six
    Shepard-Hovland-Jenkins types, every trial shown (each learner stopped at the authors'
    criterion, so learners differ in length).

``--quick`` (what CI runs): one participant per condition, the first trials only, one start
and few candidates, two predictive runs. Data sets absent from ``../shared/datasets`` are
skipped with a line saying so; nothing of the data is written outside ``OUT``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analyses.common import SHARED, fit_into, parser, shared

MODELS = ("gaussian", "prototype", "exemplar", "alcove")


@dataclass(frozen=True)
class Subset:
    """Which part of a data set a run fits, and how hard it searches."""

    per_condition: int  # the first participants of each condition, in the files' order
    trials: int | None  # the first trials of each participant (None: all)
    starts: int
    candidates: int | None
    runs: int  # posterior predictive runs per participant and model


@dataclass(frozen=True)
class DataSet:
    """One data set of the report: where it comes from and the subsets of each run."""

    key: str  # output folder under OUT/datasets
    name: str  # the folder under ../shared/datasets (``catmodel datasets get NAME``)
    experiment: str | None
    conditions: tuple[str, ...] | None  # None: every condition
    full: Subset
    quick: Subset
    title: str


DATASETS = (
    DataSet(
        "crossley_4cat",
        "crossley_unlearning_4cat",
        "nc_40",
        None,
        full=Subset(48, 300, 3, 128, 20),  # all 48, the acquisition phase (trials 1-300)
        quick=Subset(1, 60, 1, 16, 2),
        title="Four-category information integration (crossley_unlearning_4cat, nc_40)",
    ),
    DataSet(
        "ashby_rbii",
        "ashby_rbii_switchvi",
        None,
        ("ud2", "cj2", "ii2"),
        full=Subset(7, None, 3, 128, 20),  # every single-task participant (7 per condition)
        quick=Subset(1, 60, 1, 16, 2),
        title="Rule-based vs information-integration (ashby_rbii_switchvi)",
    ),
    DataSet(
        "dots",
        "hu_nosofsky_dots",
        "mc_2024",
        None,
        full=Subset(6, None, 3, 128, 20),
        quick=Subset(1, 40, 1, 16, 2),
        title="Dot patterns (hu_nosofsky_dots, mc_2024)",
    ),
    DataSet(
        "sixproblems",
        "sixproblems",
        "nosof94",
        None,
        full=Subset(20, None, 3, 128, 20),
        quick=Subset(1, 32, 1, 16, 2),
        title="Six problems (sixproblems, nosof94)",
    ),
)


def load(spec: DataSet, subset: Subset) -> pd.DataFrame:
    """The subset of ``spec``'s data set, in the standard trial schema.

    Participants are taken in the files' order (the first ``per_condition`` of each
    condition), so that a run is reproducible without a seed.
    """
    from analyses.phenomena import pick
    from catmodel.data.datasets import get_dataset

    frame = get_dataset(spec.name, spec.experiment, source=SHARED)
    frame = pick(frame, "condition", subset.per_condition, spec.conditions)
    if subset.trials is not None:
        # ``trial`` runs 1.. per participant in the order shown
        frame = frame[frame["trial"] <= subset.trials].reset_index(drop=True)
    return frame


def combine(top: Path, bottom: Path, path: Path) -> None:
    """One picture: ``top`` above ``bottom``, centred on a white background.

    The two figures are drawn by catmodel's own plotting code; this only stacks the images,
    so that each data set has one figure in the README.
    """
    import matplotlib.pyplot as plt

    from catmodel.atomic import atomic_path

    images = [plt.imread(p)[..., :3] for p in (top, bottom)]
    width = max(im.shape[1] for im in images)
    rows = []
    for im in images:
        pad = width - im.shape[1]
        left = np.ones((im.shape[0], pad // 2, 3), dtype=im.dtype)
        right = np.ones((im.shape[0], pad - pad // 2, 3), dtype=im.dtype)
        rows.append(np.concatenate([left, im, right], axis=1))
    with atomic_path(path) as tmp:
        plt.imsave(tmp, np.clip(np.concatenate(rows, axis=0), 0, 1), format="png")


def curve_summary(curves: pd.DataFrame) -> dict:
    """Root-mean-square distance of each model's predictive curve from people's.

    Over every block (x condition) point of the learning curves: a model whose simulated
    learners learn as fast as people and reach the same level scores near 0.
    """
    keys = [c for c in ("condition", "block") if c in curves.columns]
    data = curves[curves["kind"] == "data"].set_index(keys)["mean"]
    out = {"people": round(float(data.mean()), 4)}
    for name, sim in curves[curves["kind"] == "simulated"].groupby("source", sort=False):
        sim = sim.set_index(keys)["mean"].reindex(data.index)
        out[name] = {
            "mean": round(float(sim.mean()), 4),
            "rmse_vs_people": round(float(np.sqrt(np.nanmean((sim - data) ** 2))), 4),
        }
    return out


def run_one(spec: DataSet, quick: bool, seed: int, out: Path) -> dict | None:
    """Fit, compare and draw one data set; returns its summary (None when skipped)."""
    import matplotlib.pyplot as plt

    from catmodel.atomic import atomic_open, write_csv
    from catmodel.compare.table import write_comparison
    from catmodel.data import TrialTable
    from catmodel.figures import parameter_figures
    from catmodel.plots.comparison import plot_model_comparison
    from catmodel.plots.curves import learning_curves, plot_learning_curves
    from catmodel.plots.style import paper_style, save_and_close, save_figure
    from catmodel.results import read_fit_folder

    if shared(spec.name) is None:
        return None
    subset = spec.quick if quick else spec.full
    t0 = time.perf_counter()
    frame = load(spec, subset)
    folder = out / spec.key
    table = TrialTable.from_frame(frame)
    fit_into(
        folder,
        table,
        MODELS,
        starts=subset.starts,
        candidates=subset.candidates,
        seed=seed,
        ci=None,  # the report quotes no intervals; profiles would cost more than the fit
    )
    fit = read_fit_folder(folder)
    comparison, group = write_comparison(folder, fit.fits)
    print(group.to_string(index=False))
    figures = folder / "figures"
    curves = learning_curves(fit, runs=subset.runs, seed=seed)
    write_csv(curves, folder / "curves.csv")
    chance = 1.0 / len(fit.trials["category"].dropna().unique())

    def save(fig, name: str) -> None:
        save_and_close(fig, figures / name, ("png",))

    with paper_style():
        axes = plot_learning_curves(curves, chance=chance)
        fig = axes.flat[0].figure
        fig.suptitle(spec.title, fontsize=10)
        # room for the title above the panels' own (save_and_close's layout would leave none)
        fig.tight_layout(rect=(0, 0, 1, 0.98))
        save_figure(fig, figures / "learning_curves", ("png",))
        plt.close(fig)
        save(plot_model_comparison(comparison, group), "model_comparison")
        parameter_figures(fit, save, print)  # the fitted parameters' distributions
    combine(
        figures / "learning_curves.png",
        figures / "model_comparison.png",
        figures / "results.png",
    )
    n_trials = frame.groupby("participant").size()
    summary = {
        "data_set": spec.name,
        "experiment": spec.experiment,
        "subset": {
            "conditions": sorted(frame["condition"].dropna().unique().tolist()),
            "participants": int(frame["participant"].nunique()),
            "per_condition": subset.per_condition,
            "trials_per_participant": [int(n_trials.min()), int(n_trials.max())],
            "rows": len(frame),
        },
        "search": {"starts": subset.starts, "candidates": subset.candidates, "runs": subset.runs},
        "group": [
            {
                "model": r["model"],
                "sum_bic": round(float(r["sum_bic"]), 1),
                "sum_nll": round(float(r["sum_nll"]), 1),
                "n_best": int(r["n_best"]),
                "exceedance": round(float(r["exceedance"]), 4),
                "protected_exceedance": round(float(r["protected_exceedance"]), 4),
            }
            for _, r in group.iterrows()
        ],
        # share of fits whose second start agreed (undefined with one start: quick runs)
        "converged": {
            m: round(float(g["converged"].dropna().astype(bool).mean()), 3)
            for m, g in fit.fits.groupby("model", sort=False)
            if g["converged"].notna().any()
        },
        "curves": curve_summary(curves),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    with atomic_open(folder / "summary.json") as fh:
        json.dump(summary, fh, indent=1)
    print(json.dumps(summary["curves"]))
    print(f"{spec.key}: {summary['seconds']:.0f} s")
    return summary


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    keys = [d.key for d in DATASETS]
    p.add_argument(
        "--only", default=",".join(keys), help="comma-separated data sets (default: all)"
    )
    args = p.parse_args(argv)
    unknown = sorted(set(args.only.split(",")) - set(keys))
    if unknown:
        p.error(f"unknown data set {unknown[0]!r} (data sets: {', '.join(keys)})")
    if not SHARED.exists():
        print(f"skipped: {SHARED} is absent (the shared data sets are not in this checkout)")
        return 0
    out = args.out / "datasets"
    chosen = set(args.only.split(","))
    for spec in DATASETS:
        if spec.key in chosen:
            print(f"--- {spec.key}")
            run_one(spec, args.quick, args.seed, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
