"""Copy the figures the README shows into docs/figures, at half resolution.

    python -m analyses.readme_figures [--out results/report]

Run after ``analyses.run_all``; the README's figures of real data are made from
``../shared/datasets`` by the analyses and only their pictures are committed.
"""

from __future__ import annotations

import sys

import numpy as np

from analyses.common import REPO, parser

DOCS = REPO / "docs" / "figures"
FIGURES = {
    "crossley_learning_curves.png": "crossley_2cat/figures/learning_curves.png",
    "crossley_learned_gaussians.png": "crossley_2cat/figures/learned_gaussians_*.png",
    "crossley_learned_niw.png": "crossley_2cat/figures/learned_categories_niw_*.png",
    "crossley_model_comparison.png": "crossley_2cat/figures/model_comparison.png",
    "demo_discriminative.png": "gaussian_learner/demo_lrcov0.001_gen0.png",
    "demo_generative.png": "gaussian_learner/demo_lrcov0.01_gen1.png",
    "parameter_recovery.png": "recovery/parameters/recovery.png",
    "model_recovery_ii.png": "recovery/models_ii/model_recovery.png",
    "shj.png": "shj/shj_curves.png",
    "dataset_crossley_4cat.png": "datasets/crossley_4cat/figures/results.png",
    "dataset_ashby_rbii.png": "datasets/ashby_rbii/figures/results.png",
    "dataset_dots.png": "datasets/dots/figures/results.png",
    "dataset_sixproblems.png": "datasets/sixproblems/figures/results.png",
}


def halve(image: np.ndarray) -> np.ndarray:
    """Average 2 x 2 pixel blocks (a box filter): half the width and height."""
    h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    im = image[:h, :w]
    return (im[0::2, 0::2] + im[1::2, 0::2] + im[0::2, 1::2] + im[1::2, 1::2]) / 4.0


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import matplotlib.pyplot as plt

    from catmodel.atomic import atomic_path

    DOCS.mkdir(parents=True, exist_ok=True)
    for name, pattern in FIGURES.items():
        found = sorted(args.out.glob(pattern))
        if not found:
            print(f"skipped {name}: no {pattern} under {args.out}")
            continue
        image = halve(plt.imread(found[-1]))
        with atomic_path(DOCS / name) as tmp:
            plt.imsave(tmp, np.clip(image, 0, 1), format="png")
        print(DOCS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
