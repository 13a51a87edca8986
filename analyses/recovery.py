"""Simulation studies: parameter recovery of the Gaussian learner and model recovery.

* parameter recovery on the demo's two-category task, 400 trials, 300 simulated participants,
  true parameters from the documented generating box, seed 11 + ``--seed`` (the README's
  ``catmodel recover --model gaussian --participants 300 --trials 400 --seed 11``);
* model recovery (BIC) with 30 participants x 300 trials per model, on the default design of
  ``catmodel model-recovery`` (two overlapping bivariate normal categories, best possible
  accuracy .84) and on the demo's task.

    python -m analyses.recovery [--quick] [--out results/report]
"""

from __future__ import annotations

import sys

from analyses.common import parser


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    from catmodel.compare.model_recovery import model_recovery
    from catmodel.compare.recovery import parameter_recovery
    from catmodel.figures import save_model_recovery, save_parameter_recovery
    from catmodel.models.registry import get_model

    quick = args.quick
    out = args.out / "recovery"
    study = parameter_recovery(
        get_model("gaussian"),
        n_participants=8 if quick else 300,
        n_trials=120 if quick else 400,
        seed=args.seed + 11,
        starts=2 if quick else 5,
        candidates=64 if quick else None,
    )
    save_parameter_recovery(study, out / "parameters", {})
    print(study.summary.to_string(index=False))

    names = ("gaussian", "guessing") if quick else ("gaussian", "prototype", "exemplar", "alcove")
    models = [get_model(n) for n in names]
    for design in ("ii", "two-gaussian"):
        mr = model_recovery(
            models,
            design=design,
            n_participants=3 if quick else 30,
            n_trials=60 if quick else 300,
            seed=args.seed,
            starts=2 if quick else 5,
            candidates=32 if quick else None,
        )
        save_model_recovery(mr, out / f"models_{design}", {"design": design})
        print(design)
        print(mr.confusion.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
