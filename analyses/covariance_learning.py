"""Do people learn the categories' covariances? The Gaussian learner with and without it.

The default Gaussian learner moves each unit's covariance toward the stimuli's outer products at
the rate ``lr_cov``. On the real two-category data most fits put that rate near the bottom of
its box, so this script asks whether the data need covariance learning at all. It fits the
learner three ways: ``lr_cov`` free (the default), fixed at the bottom of its fitting box
(1e-3), and fixed at 1e-6. At 1e-6 the covariances stay where they start, isotropic with the
stimuli's spread, since 560 steps of at most 1e-6 of the way move them by less than 0.06%. The
fixed variants have one free parameter fewer. Three data sets:

* ``crossley_cat_unlearn_2cat``: 80 participants, two categories, trials 1-300 (as in
  ``analyses.gaussian_candidates``);
* ``crossley_unlearning_4cat`` (``nc_40``): 48 participants, four categories, trials 1-300
  (as in ``analyses.datasets_report``);
* ``ashby_rbii_switchvi``: the single-task baselines, each condition on its own (``ud2`` and
  ``cj2``: unidimensional and conjunctive rules; ``ii2``: information integration; 7
  participants each), all 560 trials (as in ``analyses.datasets_report``).

Each variant is judged in sample (summed NLL and BIC) and on held-out trials (forward
cross-validation: fit blocks 1..b, predict block b + 1; 75-trial blocks, 80 for
``ashby_rbii_switchvi``), with the share of participants whose fit converged. It also counts,
per participant, how often a fixed variant beats the free one on BIC and on the held-out NLL.

    python -m analyses.covariance_learning [--quick] [--out results/report]

Writes ``covariance_learning/variants.csv`` and ``variants.md`` (one row per data set or
condition, and variant).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from analyses.common import fit_and_forward_cv, markdown_table, parser, shared
from analyses.gaussian_candidates import real_data

#: variant name -> the fixed value of lr_cov (None: free)
VARIANTS = {"lr_cov free (default)": None, "lr_cov = 1e-3": 1e-3, "lr_cov = 1e-6": 1e-6}


def measure(batch, lr_cov: float | None, starts: int, seed: int) -> tuple[dict, pd.DataFrame]:
    """Summed in-sample and held-out figures of one variant, and its per-participant ones."""
    from catmodel.models.registry import get_model

    fix = None if lr_cov is None else {"lr_cov": lr_cov}
    t0 = time.perf_counter()
    f, cv = fit_and_forward_cv(batch, get_model("gaussian"), starts=starts, seed=seed, fix=fix)
    held_out = cv.groupby("participant")["cv_nll"].sum().reindex(f.participants)
    per = pd.DataFrame(
        {"bic": np.asarray(f.bic), "held_out": held_out.to_numpy()}, index=f.participants
    )
    converged = np.asarray(f.converged, dtype=float)  # NA (one start) counts as NaN
    row = {
        "free parameters": f.n_params,
        "NLL": round(float(np.sum(f.nll)), 1),
        "BIC": round(float(np.sum(f.bic)), 1),
        "held-out NLL": round(float(held_out.sum()), 1),
        "converged": round(float(np.nanmean(converged)), 3),
        "seconds": round(time.perf_counter() - t0),
    }
    return row, per


def two_categories(path, quick: bool) -> dict:
    """``crossley_cat_unlearn_2cat``, trials 1-300 in 75-trial blocks (quick: 6 participants)."""
    return {path.name: real_data(path, quick)}


def four_categories(path, quick: bool) -> dict:
    """``crossley_unlearning_4cat`` (``nc_40``), trials 1-300 in 75-trial blocks (quick: the
    first participant of each condition, trials 1-150)."""
    frame = _report_subset(path, 1 if quick else 48, 150 if quick else 300)
    frame["block"] = (frame["trial"] - 1) // 75 + 1
    return {path.name: _batch(frame)}


def rule_based(path, quick: bool) -> dict:
    """``ashby_rbii_switchvi``, the single-task baselines one condition at a time (``ud2``
    unidimensional and ``cj2`` conjunctive rules, ``ii2`` information integration; 7
    participants each), all 560 trials in 80-trial blocks (quick: 1 participant, trials
    1-160)."""
    frame = _report_subset(path, 1 if quick else 7, 160 if quick else None)
    frame["block"] = (frame["trial"] - 1) // 80 + 1
    return {
        f"{path.name} {condition}": _batch(frame[frame["condition"] == condition])
        for condition in frame["condition"].unique()
    }


def _report_subset(path, per_condition: int, trials: int | None):
    """The data set's trials as ``analyses.datasets_report`` picks them (the same conditions,
    participants in the files' order)."""
    from analyses.datasets_report import DATASETS, Subset, load

    spec = next(d for d in DATASETS if d.name == path.name)
    return load(spec, Subset(per_condition, trials, 0, None, 0))


def _batch(frame):
    from catmodel.data import TrialTable

    return TrialTable.from_frame(frame.reset_index(drop=True)).to_batch()


#: the shared data set folder -> its loader ({label: batch})
DATA_SETS = {
    "crossley_cat_unlearn_2cat": two_categories,
    "crossley_unlearning_4cat": four_categories,
    "ashby_rbii_switchvi": rule_based,
}


def compare_variants(label: str, batch, starts: int, seed: int) -> list[dict]:
    """One row per variant, counting the participants each fixed variant predicts better
    than the free one."""
    rows, free = [], None
    for variant, lr_cov in VARIANTS.items():
        row, per = measure(batch, lr_cov, starts, seed)
        if free is None:
            free = per
        row["better BIC than free"] = int((per["bic"] < free["bic"]).sum())
        row["better held-out than free"] = int((per["held_out"] < free["held_out"]).sum())
        rows.append(
            {"data set": label, "variant": variant, "participants": batch.n_learners, **row}
        )
        print(rows[-1], flush=True)
    return rows


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from catmodel.atomic import atomic_open, write_csv

    starts = 2 if args.quick else 5
    rows = []
    for name, loader in DATA_SETS.items():
        path = shared(name)
        if path is None:
            continue
        for label, batch in loader(path, args.quick).items():
            rows += compare_variants(label, batch, starts, args.seed)
    if not rows:
        return 0
    table = pd.DataFrame(rows)
    out = args.out / "covariance_learning"
    write_csv(table, out / "variants.csv")
    with atomic_open(out / "variants.md") as fh:
        fh.write(markdown_table(table, "g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
