"""The original update rule of the Gaussian learner (``update="sgd"``): densities as
activations, a linear association layer, and one SGD(+momentum) step per feedback trial.

This is the model as it was first written: the raw gradient of the cross-entropy of the
feedback label with respect to every unit's mean and covariance parameters and the association
weights, with separate learning rates and optional momentum. Its steps are unbounded in the
stimulus space (a mean's step scales with the inverse covariance), which makes its likelihood
chaotic at the learning rates real participants are fitted to (see the README); it is kept for
reproducing the original model (``catmodel demo``, ``benchmarks/robustness.py``) and for
comparison. The covariance parameterisation (``spectral``, ``log-cholesky`` or ``full``) is
chosen by name (:mod:`catmodel.models.covariance`).

Starting state: unit j (0-based; units ``k*M .. k*M+M-1`` belong to category k) starts at
``mean + sd * (2 h_{j+1} - 1)``, where ``mean`` and ``sd`` are the per-feature mean and standard
deviation of all stimuli and ``h_i`` is the i-th point of the Halton sequence in bases 2, 3, 5,
...; every unit starts isotropic with standard deviation ``0.3 * mean(sd)`` (0.3 on standardised
features); association weights and momentum buffers start at zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import torch

from catmodel.models.base import Param, State, make_temperature
from catmodel.models.covariance import FullMatrix, Spectral, make_covariance, planes
from catmodel.models.gaussian_units import halton, mean_box, start_override, unit_category


class SgdState(NamedTuple):
    """The learners' units, association weights and SGD momentum buffers."""

    means: torch.Tensor  #: (L, J, D) unit means
    weights: torch.Tensor  #: (L, K, J) association weights
    means_velocity: torch.Tensor  #: (L, J, D) momentum buffer of the means
    weights_velocity: torch.Tensor  #: (L, K, J) momentum buffer of the weights
    failed_at: torch.Tensor  #: (L,) long: trial at which a ``full`` covariance failed, or -1
    mean_box: torch.Tensor  #: (2, D) the box the means are clamped to
    cov: tuple[torch.Tensor, ...]  #: the covariance parameterisation's own state
    cov_velocity: tuple[torch.Tensor, ...]  #: momentum buffers of ``cov``


class SgdRule:
    """The original SGD(+momentum) update; see the module docstring."""

    temperature = make_temperature(10**-3, 10**1, 0.03, (10**-2.5, 10**-0.25))

    def __init__(self, settings: Mapping) -> None:
        self.settings = settings
        self.momentum = float(settings["momentum"])
        self.generative = float(settings["generative"])
        self.units_per_category = int(settings["units_per_category"])
        self.cov = make_covariance(str(settings["covariance"]), settings["sd_band"])

    def learning_params(self) -> list[Param]:
        # Boxes are for standardised features (the fitting default): activations are densities,
        # so the speed of learning scales with the units' spread in the stimulus space.
        return [
            Param(
                "lr_mu",
                0.01,
                10**-3.5,
                10**0.5,
                "log",
                generating=(1e-3, 1e-1),
                doc="learning rate of the units' means",
            ),
            Param(
                "lr_cov",
                0.1,
                10**-3.5,
                10**1,
                "log",
                generating=(1e-2, 1.0),
                doc="learning rate of the units' covariance parameters",
            ),
            Param(
                "lr_w",
                1.0,
                10**-1.5,
                10**2,
                "log",
                generating=(10**-0.5, 10**1.25),
                doc="learning rate of the association weights",
            ),
        ]

    def start(self, batch) -> tuple[np.ndarray, float]:
        """Starting means (J, D) and standard deviation, by the documented rule or settings."""
        d, k = batch.n_features, batch.n_categories
        j = k * self.units_per_category
        centre, spread = np.asarray(batch.stim_mean), np.asarray(batch.stim_sd)
        means = centre + spread * (2.0 * halton(j, d) - 1.0)
        return start_override(self.settings, means, 0.3 * float(np.mean(spread)))

    def init_state(self, batch, index, values) -> State:
        n = len(index)
        x = batch.x
        means, sd0 = self.start(batch)
        j = len(means)
        mu = torch.as_tensor(means, dtype=x.dtype, device=x.device).expand(n, j, -1).clone()
        cov = self.cov.init((n, j), batch.n_features, sd0, x)
        w = torch.zeros((n, batch.n_categories, j), dtype=x.dtype, device=x.device)
        failed_at = torch.full((n,), -1, dtype=torch.long, device=x.device)
        lo, hi = mean_box(batch)
        box = torch.as_tensor(np.stack([lo, hi]), dtype=x.dtype, device=x.device)
        zeros = tuple(torch.zeros_like(c) for c in cov)
        return SgdState(
            mu, w, torch.zeros_like(mu), torch.zeros_like(w), failed_at, box, tuple(cov), zeros
        )

    # --- one trial --------------------------------------------------------------------
    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        mu, w, b_mu, b_w, failed_at, box, cov, b_cov = state
        k = w.shape[1]
        d = x[:, None, :] - mu
        log_a, ctx = self.cov.log_density(d, cov)
        a = torch.exp(log_a)
        logits = (w * a[:, None, :]).sum(-1)

        learn = feedback >= 0
        if isinstance(self.cov, FullMatrix):
            broken = ctx[2].any(-1) & (failed_at < 0)
            failed_at = torch.where(broken, torch.full_like(failed_at, t), failed_at)
            alive = failed_at < 0
            logits = torch.where(alive[:, None], logits, torch.full_like(logits, math.nan))
            learn = learn & alive

        target = torch.nn.functional.one_hot(feedback.clamp(min=0), k).to(a.dtype)
        delta = torch.softmax(logits.nan_to_num(0.0), -1) - target
        g_w = delta[:, :, None] * a[:, None, :]
        e = (w * delta[:, :, None]).sum(1) * a  # dLoss / dlog a_j
        generative = float(self.generative)
        if generative > 0:
            own = unit_category(k, self.units_per_category, a.device)[None, :] == feedback[:, None]
            resp = torch.softmax(log_a.masked_fill(~own, -math.inf), -1).nan_to_num(0.0)
            e = e - generative * resp
        g_d, g_cov = self.cov.backward(e, ctx)

        lr_mu, lr_cov, lr_w = values["lr_mu"], values["lr_cov"], values["lr_w"]
        beta = float(self.momentum)
        b_mu_new = beta * b_mu - g_d
        mu_new = torch.clamp(mu - lr_mu[:, None, None] * b_mu_new, box[0], box[1])
        b_w_new = beta * b_w + g_w
        w_new = w - lr_w[:, None, None] * b_w_new
        b_cov_new = tuple(beta * b + g for b, g in zip(b_cov, g_cov, strict=True))
        cov_new = self.cov.project(
            tuple(_sub_lr(c, lr_cov, b) for c, b in zip(cov, b_cov_new, strict=True))
        )

        keep = learn
        new = SgdState(
            _where(keep, mu_new, mu),
            _where(keep, w_new, w),
            _where(keep, b_mu_new, b_mu),
            _where(keep, b_w_new, b_w),
            failed_at,
            box,
            tuple(_where(keep, n_, o) for n_, o in zip(cov_new, cov, strict=True)),
            tuple(_where(keep, n_, o) for n_, o in zip(b_cov_new, b_cov, strict=True)),
        )
        return new, logits

    # --- kernel -----------------------------------------------------------------------
    def kernel_logits(self, batch, index, values):
        if not isinstance(self.cov, Spectral) or batch.x.dtype != torch.float64:
            return None
        from catmodel.kernels.gaussian import gaussian_logits

        means, sd0 = self.start(batch)
        lo, hi = mean_box(batch)
        return gaussian_logits(
            batch,
            index,
            values,
            means=means,
            eta0=self.cov.eta_for_sd(sd0),
            log_var_bounds=self.cov.log_var_bounds,
            gain=self.cov.gain,
            eta_limit=self.cov.eta_limit,
            mean_box=(lo, hi),
            momentum=self.momentum,
            generative=self.generative,
            planes=planes(batch.n_features),
        )

    def describe_state(self, state: State, index: int) -> dict:
        sigma = self.cov.matrices(tuple(c[index : index + 1] for c in state.cov))[0]
        return {
            "means": state.means[index].detach().cpu().numpy(),
            "covariances": sigma.detach().cpu().numpy(),
            "weights": state.weights[index].detach().cpu().numpy(),
        }


def _sub_lr(param: torch.Tensor, lr: torch.Tensor, buf: torch.Tensor) -> torch.Tensor:
    shape = (-1,) + (1,) * (param.dim() - 1)
    return param - lr.reshape(shape) * buf


def _where(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    shape = (-1,) + (1,) * (new.dim() - 1)
    return torch.where(mask.reshape(shape), new, old)
