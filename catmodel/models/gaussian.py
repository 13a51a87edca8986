"""The Gaussian category learner.

Each category is represented by one (or several) Gaussian units with a learnable mean and full
covariance matrix. A stimulus's densities under the units feed a one-layer association network
(weights start at zero); a softmax over its outputs gives the learner's own category
probabilities. After each trial's feedback, one step of SGD with momentum on the cross-entropy of
the feedback label updates means, covariances and weights, with separate learning rates. An
optional generative term (weight >= 0) adds the negative log density of the stimulus under its
own category's units to the loss, which pulls the units towards the category distributions.

Starting state (a documented rule that uses only where the stimuli lie in the data set as a
whole, never the category statistics, which a learner cannot know):

* unit j (0-based; units ``k*M .. k*M+M-1`` belong to category k) starts at
  ``mean + sd * (2 h_{j+1} - 1)``, where ``mean`` and ``sd`` are the per-feature mean and
  standard deviation of all stimuli and ``h_i`` is the i-th point of the Halton sequence in
  bases 2, 3, 5, ... — distinct, deterministic points within one standard deviation of the
  centre of the stimuli on every feature;
* every unit starts isotropic with standard deviation ``0.3 * mean(sd)`` (0.3 on
  standardised features);
* association weights and momentum buffers start at zero.

The settings ``init_means`` (J x D) and ``init_sd`` override the rule (the demo uses them).

Safeguards that make every learning rate safe (with the default ``spectral`` covariance):
eigenvalues stay in the band ``sd_band`` (see :mod:`catmodel.models.covariance`), and means stay
inside the stimulus box widened by one box width on each side. Neither binds at sensible
learning rates; both keep the state finite at absurd ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from catmodel.errors import SettingsError
from catmodel.models.base import Model, Param, State, make_temperature
from catmodel.models.covariance import FullMatrix, Spectral, make_covariance, planes


def halton(n_points: int, n_dims: int) -> np.ndarray:
    """The first ``n_points`` points (starting at index 1) of the Halton sequence in [0, 1]^D."""
    primes = _primes(n_dims)
    out = np.empty((n_points, n_dims))
    for j, base in enumerate(primes):
        for i in range(n_points):
            f, r, k = 1.0, 0.0, i + 1
            while k > 0:
                f /= base
                r += f * (k % base)
                k //= base
            out[i, j] = r
    return out


def _primes(n: int) -> list[int]:
    found: list[int] = []
    candidate = 2
    while len(found) < n:
        if all(candidate % p for p in found):
            found.append(candidate)
        candidate += 1
    return found


class GaussianState(NamedTuple):
    """The learners' units, association weights and SGD momentum buffers."""

    means: torch.Tensor  #: (L, J, D) unit means
    weights: torch.Tensor  #: (L, K, J) association weights
    means_velocity: torch.Tensor  #: (L, J, D) momentum buffer of the means
    weights_velocity: torch.Tensor  #: (L, K, J) momentum buffer of the weights
    failed_at: torch.Tensor  #: (L,) long: trial at which a ``full`` covariance failed, or -1
    mean_box: torch.Tensor  #: (2, D) the box the means are clamped to
    cov: tuple[torch.Tensor, ...]  #: the covariance parameterisation's own state
    cov_velocity: tuple[torch.Tensor, ...]  #: momentum buffers of ``cov``


class Gaussian(Model):
    """Gaussian units -> association weights -> softmax, trained by one SGD step per trial."""

    name = "gaussian"
    summary = (
        "Gaussian units with learnable means and full covariances feed an association "
        "network; one SGD(+momentum) step per feedback trial"
    )
    temperature_param = make_temperature(10**-3, 10**1, 0.03, (10**-2.5, 10**-0.25))
    default_settings: ClassVar[dict] = {
        "units_per_category": 1,
        "momentum": 0.0,
        "covariance": "spectral",
        "sd_band": (0.01, 2.0),
        "generative": 0.0,
        "init_means": None,
        "init_sd": None,
    }
    setting_docs: ClassVar[dict] = {
        "units_per_category": "Gaussian units per category (M)",
        "momentum": "SGD momentum of the learner's own update (the original model used 0.3)",
        "covariance": "spectral (bounded default), log-cholesky, or full (original, can fail)",
        "sd_band": "band of the units' standard deviations along every principal axis, in "
        "(standardised) stimulus units; eigenvalues lie in [min^2, max^2]",
        "generative": "weight of the generative term -log p(x | own category's units)",
        "init_means": "explicit starting means (J x D), overriding the documented rule",
        "init_sd": "explicit starting standard deviation, overriding the documented rule",
    }

    def _check_settings(self) -> None:
        s = self.settings
        if int(s["units_per_category"]) < 1:
            raise SettingsError("units_per_category must be at least 1")
        if not 0.0 <= float(s["momentum"]) < 1.0:
            raise SettingsError(f"momentum must be in [0, 1), got {s['momentum']}")
        if float(s["generative"]) < 0:
            raise SettingsError(f"generative weight must be >= 0, got {s['generative']}")
        band = tuple(float(v) for v in s["sd_band"])
        if len(band) != 2:
            raise SettingsError("sd_band takes two numbers: min,max")
        s["sd_band"] = band
        self.cov = make_covariance(str(s["covariance"]), band)

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
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

    # --- state ------------------------------------------------------------------------
    @property
    def units_per_category(self) -> int:
        return int(self.settings["units_per_category"])

    def unit_category(self, n_categories: int, device=None) -> torch.Tensor:
        m = self.units_per_category
        return torch.arange(n_categories * m, device=device) // m

    def start_means_and_sd(self, batch) -> tuple[np.ndarray, float]:
        """Starting means (J, D) and standard deviation, by the documented rule or settings."""
        d, k = batch.n_features, batch.n_categories
        j = k * self.units_per_category
        if self.settings["init_means"] is not None:
            means = np.asarray(self.settings["init_means"], dtype=float)
            if means.shape != (j, d):
                raise SettingsError(
                    f"init_means must be {j} x {d} (units x features), got {means.shape}"
                )
        else:
            centre, spread = np.asarray(batch.stim_mean), np.asarray(batch.stim_sd)
            means = centre + spread * (2.0 * halton(j, d) - 1.0)
        if self.settings["init_sd"] is not None:
            sd0 = float(self.settings["init_sd"])
        else:
            sd0 = 0.3 * float(np.mean(batch.stim_sd))
        return means, sd0

    def mean_box(self, batch) -> tuple[np.ndarray, np.ndarray]:
        low, high = np.asarray(batch.box_low), np.asarray(batch.box_high)
        width = np.maximum(high - low, 1e-12)
        return low - width, high + width

    def init_state(self, batch, index, values) -> State:
        n = len(index)
        x = batch.x
        means, sd0 = self.start_means_and_sd(batch)
        j = len(means)
        mu = torch.as_tensor(means, dtype=x.dtype, device=x.device).expand(n, j, -1).clone()
        cov = self.cov.init((n, j), batch.n_features, sd0, x)
        w = torch.zeros((n, batch.n_categories, j), dtype=x.dtype, device=x.device)
        failed_at = torch.full((n,), -1, dtype=torch.long, device=x.device)
        lo, hi = self.mean_box(batch)
        box = torch.as_tensor(np.stack([lo, hi]), dtype=x.dtype, device=x.device)
        zeros = tuple(torch.zeros_like(c) for c in cov)
        return GaussianState(
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
        generative = float(self.settings["generative"])
        if generative > 0:
            own = self.unit_category(k, a.device)[None, :] == feedback[:, None]
            resp = torch.softmax(log_a.masked_fill(~own, -math.inf), -1).nan_to_num(0.0)
            e = e - generative * resp
        g_d, g_cov = self.cov.backward(e, ctx)

        lr_mu, lr_cov, lr_w = values["lr_mu"], values["lr_cov"], values["lr_w"]
        beta = float(self.settings["momentum"])
        b_mu_new = beta * b_mu - g_d
        mu_new = torch.clamp(mu - lr_mu[:, None, None] * b_mu_new, box[0], box[1])
        b_w_new = beta * b_w + g_w
        w_new = w - lr_w[:, None, None] * b_w_new
        b_cov_new = tuple(beta * b + g for b, g in zip(b_cov, g_cov, strict=True))
        cov_new = self.cov.project(
            tuple(_sub_lr(c, lr_cov, b) for c, b in zip(cov, b_cov_new, strict=True))
        )

        keep = learn
        new = GaussianState(
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

        means, sd0 = self.start_means_and_sd(batch)
        lo, hi = self.mean_box(batch)
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
            momentum=float(self.settings["momentum"]),
            generative=float(self.settings["generative"]),
            planes=planes(batch.n_features),
        )

    # --- inspection -------------------------------------------------------------------
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
