"""The original model's two-category task, run by the bounded Gaussian learner.

Two bivariate normal categories (200 points each) are shown for five epochs, each in a fresh
shuffled order, trial by trial, in the task's original units. The learner starts where the
original model started (means (-.25, .05) and (-.15, -.25), covariance .02 I) and learns with
the original settings (lr_mu .002, lr_w .1, momentum .3; lr_cov 1e-3 by default). The benchmark
``benchmarks/robustness.py`` runs the same task over learning rates from 1e-6 to 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from catmodel.data.batch import TrialBatch, batch_from_frame
from catmodel.models.gaussian import Gaussian
from catmodel.models.kl import kl_gaussian
from catmodel.models.rollout import torch_rollout
from catmodel.simulate.designs import TWO_GAUSSIAN_COVS, TWO_GAUSSIAN_MEANS

POINTS_PER_CATEGORY = 200
EPOCHS = 5
START_MEANS = [[-0.25, 0.05], [-0.15, -0.25]]
START_SD = math.sqrt(0.02)
RATES = {"lr_mu": 0.002, "lr_cov": 1e-3, "lr_w": 0.1}
MOMENTUM = 0.3
LABELS = ("A", "B")


def demo_model(generative: float = 0.0, momentum: float = MOMENTUM, **settings) -> Gaussian:
    """The original Gaussian learner (``update="sgd"``) with the original model's starting
    state."""
    return Gaussian(
        update="sgd",
        momentum=momentum,
        generative=generative,
        init_means=START_MEANS,
        init_sd=START_SD,
        **settings,
    )


def demo_trials(seeds, epochs: int = EPOCHS, dtype=torch.float64) -> tuple[TrialBatch, list]:
    """One learner per seed: its own 2 x 200 points, shown ``epochs`` times in fresh orders.

    Returns the batch (original units, no standardisation) and, per learner, the sampled
    points and labels of one epoch.
    """
    frames, samples = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        x = np.concatenate(
            [
                rng.multivariate_normal(
                    TWO_GAUSSIAN_MEANS[k], TWO_GAUSSIAN_COVS[k], POINTS_PER_CATEGORY
                )
                for k in range(2)
            ]
        )
        y = np.repeat([0, 1], POINTS_PER_CATEGORY)
        order = np.concatenate([rng.permutation(len(y)) for _ in range(epochs)])
        frames.append(
            pd.DataFrame(
                {
                    "learner": str(seed),
                    "participant": str(seed),
                    "x1": x[order, 0],
                    "x2": x[order, 1],
                    "category": np.array(LABELS)[y[order]],
                    "block": np.repeat(np.arange(1, epochs + 1), len(y)),
                }
            )
        )
        samples.append((x, y))
    batch = batch_from_frame(
        pd.concat(frames, ignore_index=True),
        ["x1", "x2"],
        categories=list(LABELS),
        standardization=False,
        dtype=dtype,
    )
    return batch, samples


@dataclass
class DemoRun:
    """What one demo run learned."""

    accuracy: np.ndarray  # (L,) last-epoch accuracy of the learner's own choices
    kl_start: np.ndarray  # (L, K) KL(true || learned) before learning
    kl_end: np.ndarray  # (L, K) after learning
    means: np.ndarray  # (L, K, D) learned means
    covariances: np.ndarray  # (L, K, D, D) learned covariances
    logits: torch.Tensor  # (L, T, K)
    samples: list


def run_demo(
    lr_cov: float = RATES["lr_cov"],
    generative: float = 0.0,
    seeds=(0,),
    momentum: float = MOMENTUM,
    rates: dict | None = None,
    dtype=torch.float64,
    **settings,
) -> DemoRun:
    """Run the demo task for each seed (one learner per seed, all in one batched rollout)."""
    batch, samples = demo_trials(list(seeds), dtype=dtype)
    model = demo_model(generative=generative, momentum=momentum, **settings)
    rate_values = {**RATES, "lr_cov": lr_cov, **(rates or {})}
    n = batch.n_learners
    values = {k: torch.full((n,), float(v), dtype=dtype) for k, v in rate_values.items()}
    index = torch.arange(n)
    state0 = model.init_state(batch, index, values)
    with torch.no_grad():
        logits, kept = torch_rollout(
            model, batch, index, values, keep_states=[batch.max_trials - 1]
        )
    state = kept[batch.max_trials - 1]
    epoch = len(samples[0][1])
    last = slice(batch.max_trials - epoch, batch.max_trials)
    correct = logits[:, last].argmax(-1) == batch.category[:, last]
    accuracy = correct.double().mean(1).numpy()
    start = _gaussians(model, state0)
    end = _gaussians(model, state)
    true = [(TWO_GAUSSIAN_MEANS[k], TWO_GAUSSIAN_COVS[k]) for k in range(2)]
    kl_start = np.array([[kl_gaussian(*true[k], *start[i][k]) for k in range(2)] for i in range(n)])
    kl_end = np.array([[kl_gaussian(*true[k], *end[i][k]) for k in range(2)] for i in range(n)])
    return DemoRun(
        accuracy=accuracy,
        kl_start=kl_start,
        kl_end=kl_end,
        means=np.array([[g[0] for g in e] for e in end]),
        covariances=np.array([[g[1] for g in e] for e in end]),
        logits=logits,
        samples=samples,
    )


def _gaussians(model: Gaussian, state) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per learner, per category: (mean, covariance) of its (first) unit, as float64."""
    m = model.units_per_category
    out = []
    for i in range(state.means.shape[0]):
        d = model.describe_state(state, i)
        out.append(
            [
                (d["means"][k * m].astype(float), d["covariances"][k * m].astype(float))
                for k in range(2)
            ]
        )
    return out


def plot_demo(run: DemoRun, path: str | Path, title: str = "") -> list[Path]:
    """Two panels on the same axes: data with the true contours, and the learned contours."""
    import matplotlib.pyplot as plt

    from catmodel.plots.ellipses import draw_gaussian
    from catmodel.plots.style import PALETTE, paper_style, save_and_close

    x, y = run.samples[0]
    with paper_style():
        fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), sharex=True, sharey=True)
        for ax in axes:
            for k in range(2):
                ax.scatter(
                    *x[y == k].T,
                    s=6,
                    alpha=0.35 if ax is axes[0] else 0.12,
                    color=PALETTE[k],
                    label=f"category {LABELS[k]}" if ax is axes[0] else None,
                    linewidths=0,
                )
        for k in range(2):
            draw_gaussian(axes[0], TWO_GAUSSIAN_MEANS[k], TWO_GAUSSIAN_COVS[k], PALETTE[k])
            draw_gaussian(
                axes[1],
                run.means[0, k],
                run.covariances[0, k],
                PALETTE[k],
                label=f"learned {LABELS[k]}",
            )
        axes[0].set_title("data and true distributions")
        axes[1].set_title(f"learned distributions (last-epoch accuracy {run.accuracy[0]:.3f})")
        for ax in axes:
            ax.set_xlabel("x1")
        axes[0].set_ylabel("x2")
        axes[0].legend(loc="lower left", frameon=False)
        axes[1].legend(loc="lower left", frameon=False)
        # identical limits on both panels, covering data and every contour
        lo = np.minimum(x.min(0), (run.means[0] - 2.5 * _sd(run)).min(0))
        hi = np.maximum(x.max(0), (run.means[0] + 2.5 * _sd(run)).max(0))
        pad = 0.05 * (hi - lo)
        axes[0].set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        axes[0].set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        if title:
            fig.suptitle(title)
        return save_and_close(fig, path)


def _sd(run: DemoRun) -> np.ndarray:
    return np.sqrt(np.stack([np.diag(c) for c in run.covariances[0]]))
