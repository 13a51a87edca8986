"""Benchmark: the Shepard-Hovland-Jenkins difficulty ordering (Nosofsky et al., 1994).

ALCOVE and the exemplar model (GCM, trial by trial) predict the mean error per 16-trial block
for the six types, averaged over 16 random item orders per type, at parameters found by a
search against the group curves of ``catlearn_cirp_grouplevel/nosof94`` (the search itself is
rerun, coarsely, by ``tests/models/test_models_shj.py``). The figure overlays model and data;
the table gives the mean error per type.

    python -m analyses.shj [--out results/report]
"""

from __future__ import annotations

import sys

import numpy as np

from analyses.common import markdown_table, parser, shared

# parameters at the optimum of the searches in tests/models/test_models_shj.py (log10)
ALCOVE = {"specificity": 0.45, "lr_w": -1.12, "lr_attn": -0.17, "temperature": -0.29}
EXEMPLAR = {"sensitivity": 0.875, "temperature": -1.25}
# the GCM's attention is fitted per type ("optimal attention"): log(w1/w3), log(w2/w3)
EXEMPLAR_ATTENTION = [
    (1.125, 3.875),
    (1.125, 5.0),
    (-3.875, -0.125),
    (-4.0, -0.25),
    (3.375, 4.25),
    (3.625, 0.75),
]
ORDERS = 16


def model_curves() -> dict[str, np.ndarray]:
    from catmodel.models.alcove import Alcove
    from catmodel.models.exemplar import Exemplar
    from catmodel.models.rollout import rollout_logits
    from catmodel.simulate.shj import block_errors, shj_batch, type_curves

    batch = shj_batch(ORDERS)
    rows = np.arange(batch.n_learners)
    alcove = rollout_logits(
        Alcove(), batch, rows, {k: 10**v for k, v in ALCOVE.items() if k != "temperature"}
    )
    curves = {
        "alcove": type_curves(
            block_errors(alcove, batch, rows, 10 ** ALCOVE["temperature"]), ORDERS
        )
    }
    attention = np.repeat(np.array(EXEMPLAR_ATTENTION), ORDERS, axis=0)
    exemplar = rollout_logits(
        Exemplar(),
        batch,
        rows,
        {
            "sensitivity": np.full(len(rows), 10 ** EXEMPLAR["sensitivity"]),
            "attention_1": attention[:, 0],
            "attention_2": attention[:, 1],
        },
    )
    curves["exemplar"] = type_curves(
        block_errors(exemplar, batch, rows, 10 ** EXEMPLAR["temperature"]), ORDERS
    )
    return curves


def observed(path) -> np.ndarray:
    import pyreadr

    frame = next(iter(pyreadr.read_r(str(path / "data" / "nosof94.RData")).values()))
    table = frame.pivot(index="type", columns="block", values="error")
    return table.loc[range(1, 7), range(1, 17)].to_numpy(dtype=float)


def plot(curves: dict[str, np.ndarray], data: np.ndarray, path) -> None:
    import matplotlib.pyplot as plt

    from catmodel.plots.style import PALETTE, paper_style, save_figure

    types = ["I", "II", "III", "IV", "V", "VI"]
    with paper_style():
        fig, axes = plt.subplots(1, len(curves), figsize=(3.6 * len(curves), 3.0), sharey=True)
        for ax, (name, curve) in zip(np.atleast_1d(axes), curves.items(), strict=True):
            for t in range(6):
                ax.plot(range(1, 17), data[t], color=PALETTE[t], linestyle="--", linewidth=1)
                ax.plot(range(1, 17), curve[t], color=PALETTE[t], label=f"type {types[t]}")
            rmse = float(np.sqrt(np.mean((curve - data) ** 2)))
            ax.set_title(f"{name}: RMSE {rmse:.3f}")
            ax.set_xlabel("block (16 trials)")
        np.atleast_1d(axes)[0].set_ylabel("P(error)")
        np.atleast_1d(axes)[-1].legend(frameon=False, ncol=2)
        fig.suptitle(
            "Shepard-Hovland-Jenkins types: model (solid) and people (dashed, "
            "Nosofsky et al. 1994)",
            fontsize=9,
        )
        fig.tight_layout()
        save_figure(fig, path, ("png", "pdf"))
        plt.close(fig)


def main(argv=None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    path = shared("catlearn_cirp_grouplevel")
    if path is None:
        return 0
    import pandas as pd

    from catmodel.atomic import atomic_open

    data = observed(path)
    curves = model_curves()
    out = args.out / "shj"
    out.mkdir(parents=True, exist_ok=True)
    plot(curves, data, out / "shj_curves")
    table = pd.DataFrame(
        {
            "type": ["I", "II", "III", "IV", "V", "VI"],
            "people": data.mean(1),
            **{name: c.mean(1) for name, c in curves.items()},
        }
    )
    with atomic_open(out / "shj_mean_error.md") as fh:
        fh.write(markdown_table(table) + "\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
