"""Which update rule should the Gaussian learner use? Candidates measured side by side.

    python -m analyses.gaussian_candidates [--quick] [--out results/report]

Candidates (all the ``gaussian`` model, differing only in settings or box):

* ``sgd`` — the original model: densities, a linear association layer, raw SGD steps, over its
  full fitting box;
* ``sgd, smooth box`` — the same with the box cut to the region where its likelihood was
  measured smooth (``lr_mu <= 0.1``, ``lr_cov <= 0.3``);
* ``natural, density`` — natural-gradient steps (bounded fractions of the way) with densities
  as activations and the original linear association layer. It has no compiled kernel (its
  PyTorch rollout is about a thousand times slower), so only its learning rows are measured
  here; its smoothness is in ``benchmarks/smoothness.py``;
* ``natural, responsibility`` — the default: natural-gradient steps, responsibilities as
  activations, association weights that are probabilities.

Measured for each (one row of ``candidates.csv`` / ``candidates.md``):

* real data (``crossley_cat_unlearn_2cat``, 80 participants, trials 1-300; skipped without
  ``../shared/datasets``): summed in-sample NLL and BIC, the share of converged fits, the
  summed **held-out** NLL of forward cross-validation (blocks of 75 trials: fit blocks 1..b,
  predict block b + 1, for b = 1, 2, 3), and the share of 500 parameter vectors over the
  fitting box where the likelihood is smooth (:mod:`catmodel.fitting.smoothness`);
* parameter recovery (the ``recover`` default design, two-gaussian, 100 participants x 400
  trials): r and RMSE (log10) of every parameter;
* model recovery on the ``ii`` design (30 participants x 300 trials per generating model,
  fitted with the candidate, prototype, exemplar and ALCOVE): the share of the candidate's own
  simulated participants it wins (hits), and the share of the three rivals' participants it
  wins (false alarms);
* for reference, the real-data rows of the prototype and exemplar models;
* learning at the candidate's own default parameters (200 simulated participants, accuracy of
  the simulated responses in the last training block) on ``ii`` (2-D), ``ii-4`` (four
  categories), ``distortion`` (16-D) and ``5-4`` (binary features).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from analyses.common import fit_and_forward_cv, markdown_table, parser, shared

CANDIDATES = {
    "sgd": ({"update": "sgd"}, {}),
    "sgd, smooth box": ({"update": "sgd"}, {"lr_mu": (None, 0.1), "lr_cov": (None, 0.3)}),
    "natural, density": ({"activation": "density"}, {}),
    "natural, responsibility": ({}, {}),
}
#: candidates without a compiled kernel: fitting them would take hours
LEARNING_ONLY = {"natural, density"}
#: rivals whose real-data rows are printed beside the candidates, for reference
REFERENCES = ("prototype", "exemplar")
DESIGNS = (("ii", {}), ("ii-4", {}), ("distortion", {"dims": 16}), ("5-4", {}))
RIVALS = ("prototype", "exemplar", "alcove")


def candidate(name: str):
    from catmodel.models.registry import get_model

    settings, bounds = CANDIDATES[name]
    return get_model("gaussian", **settings), bounds


def real_data(path, quick: bool):
    from analyses.crossley_2cat import load_trials_of

    return load_trials_of(path, 6 if quick else None, "1-300", 75).to_batch()


def real_data_row(model, bounds, batch, quick: bool, seed: int) -> dict:
    from catmodel.fitting.likelihood import Objective
    from catmodel.fitting.smoothness import box_vectors, check_smoothness

    starts = 2 if quick else 5
    f, cv = fit_and_forward_cv(batch, model, starts=starts, seed=seed, ci="wald", bounds=bounds)
    theta, rows = box_vectors(*f.pset.scale_bounds(), 50 if quick else 500, batch.n_learners, seed)
    smooth = check_smoothness(Objective(model, batch, f.pset).nll_at, rows, theta, seed=seed)
    return {
        "real NLL": float(np.sum(f.nll)),
        "real BIC": float(np.sum(f.bic)),
        "real held-out NLL": float(cv["cv_nll"].sum()),
        "real converged": float(np.mean(f.converged)),
        "real smooth": smooth.share_smooth,
    }


def recovery_row(model, bounds, quick: bool, seed: int) -> dict:
    from catmodel.compare.recovery import parameter_recovery

    study = parameter_recovery(
        model,
        n_participants=10 if quick else 100,
        n_trials=120 if quick else 400,
        seed=seed,
        starts=2 if quick else 5,
        candidates=64 if quick else None,
        bounds=bounds,
    )
    row = {}
    for _, r in study.summary.iterrows():
        row[f"r {r['parameter']}"] = r["r"]
        row[f"RMSE {r['parameter']}"] = r["rmse"]
    return row


def simulated_on(model, design: str, n: int, n_trials: int | None, seed: int, **options):
    from catmodel.compare.recovery import simulate_participants

    _, batch, _ = simulate_participants(model, design, n, n_trials, seed, **options)
    return batch


def model_recovery_row(model, bounds, rival_batches, quick: bool, seed: int) -> dict:
    from catmodel.fitting.fit import fit

    n, trials = (4, 60) if quick else (30, 300)
    starts = 2 if quick else 5
    rivals = list(RIVALS)
    own = simulated_on(model, "ii", n, trials, seed + 7)

    def wins(batch) -> np.ndarray:
        result = fit(batch, [model, *rivals], starts=starts, seed=seed, bounds=bounds, ci="wald")
        bic = np.stack([f.bic for f in result.fits])
        return np.argmin(bic, axis=0) == 0

    hits = float(np.mean(wins(own)))
    false_alarms = float(np.mean(np.concatenate([wins(b) for b in rival_batches])))
    return {"model recovery hits": hits, "model recovery false alarms": false_alarms}


def learning_row(model, quick: bool, seed: int) -> dict:
    from catmodel.simulate.simulate import simulate_responses

    row = {}
    values = {p.name: p.default for p in model.params(2, 2)}
    for design, options in DESIGNS:
        batch = simulated_on(model, design, 20 if quick else 200, None, seed + 3, **options)
        params = {p.name: p.default for p in model.params(batch.n_features, batch.n_categories)}
        values = {**params}
        responses = simulate_responses(model, batch, values, seed=seed + 4)[0]
        learned = (batch.feedback >= 0) & batch.mask
        accuracy = []
        for i in range(batch.n_learners):
            last = batch.block[i][learned[i]].max()
            sel = learned[i] & (batch.block[i] == last)
            accuracy.append(float((responses[i][sel] == batch.category[i][sel]).double().mean()))
        label = design + (f" D={options['dims']}" if "dims" in options else "")
        row[f"learns {label}"] = float(np.mean(accuracy))
    return row


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from catmodel.atomic import atomic_open, write_csv
    from catmodel.models.registry import get_model

    out = args.out / "gaussian_candidates"
    path = shared("crossley_cat_unlearn_2cat")
    batch = real_data(path, args.quick) if path is not None else None
    n, trials = (4, 60) if args.quick else (30, 300)
    rival_batches = [
        simulated_on(get_model(r), "ii", n, trials, args.seed + 11 + i)
        for i, r in enumerate(RIVALS)
    ]
    rows = []
    for name in CANDIDATES:
        t0 = time.perf_counter()
        model, bounds = candidate(name)
        row = {"candidate": name}
        if name not in LEARNING_ONLY:
            if batch is not None:
                row.update(real_data_row(model, bounds, batch, args.quick, args.seed))
            row.update(recovery_row(model, bounds, args.quick, args.seed))
            row.update(model_recovery_row(model, bounds, rival_batches, args.quick, args.seed))
        row.update(learning_row(model, args.quick, args.seed))
        row["seconds"] = round(time.perf_counter() - t0)
        rows.append(row)
        print(row, flush=True)
    if batch is not None:
        for name in REFERENCES:
            row = {"candidate": f"{name} (reference)"}
            row.update(real_data_row(get_model(name), {}, batch, args.quick, args.seed))
            rows.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    write_csv(table, out / "candidates.csv")
    by_measure = table.set_index("candidate").T
    with atomic_open(out / "candidates.md") as fh:
        fh.write(markdown_table(by_measure.rename_axis("measure").reset_index()))
    print(by_measure.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
