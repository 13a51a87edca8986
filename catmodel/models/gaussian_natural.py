"""The default update rule of the Gaussian learner (``update="natural"``): steps taken in each
unit's own metric, each a bounded fraction of the way toward (or away from) the stimulus.

Activations (``activation="responsibility"``, the default). Each unit's log density
``log a_j = log N(x; mu_j, Sigma_j)`` is normalised across units into responsibilities
``r_j = a_j / sum_i a_i``, which do not vanish in many dimensions the way densities do. The
association weights of unit j are a probability distribution over the categories (column
``w_.j``, starting uniform), and the learner's category probabilities are
``p_k = sum_j r_j w_kj``, each in [0, 1]. These probabilities are the logits the choice rule
receives, so the temperature reads on its own: a learner certain of category k (p_k = 1) chooses
it with probability e^{1/T} / (e^{1/T} + K - 1) (0.73 at T = 1, 0.95 at T = 0.34 with two
categories; less the lapse), and the learning rates say how fast it gets there.

Error signal. With feedback y, ``q_j = r_j w_yj / p_y`` (the unit's responsibility given the
label too) and ``rho_j`` the responsibility of unit j among the units of category y (0 for the
others); each unit's error is

    e_j = ((r_j - q_j) - g rho_j) / (1 + g),   -1 <= e_j <= 1,

where ``r_j - q_j`` is the derivative of the cross-entropy -log p_y with respect to log a_j and
``-rho_j`` that of the generative term -log p(x | units of y) (weight ``g``, setting
``generative``, default 1). Negative e pulls a unit toward the stimulus, positive pushes it away.

Updates, every one a natural-gradient step (the gradient in the unit's own Fisher metric) whose
size is a fraction of the way:

* mean: ``mu_j <- mu_j - lr_mu e_j (x - mu_j)``;
* covariance (s = lr_cov e_j, d = x - mu_j): toward (s < 0),
  ``Sigma_j <- (1 - |s|) Sigma_j + |s| d d^T``, a convex combination; away (s > 0), the precision
  moves the fraction s toward its rank-one part along d, ``Sigma_j <- (Sigma_j - c d d^T) /
  (1 - s)`` with ``c = s / (1 - s + s m)`` and m the squared Mahalanobis distance; both are
  positive definite for every step; then the eigenvalues are clamped into the band ``sd_band``
  (squared), in standardised stimulus units;
* weights: a forgetful running average of the feedback each unit is responsible for. Each unit
  keeps a count ``n_j`` (starting at 1: the uniform start counts as one observation),
  ``n_j <- (1 - lr_w q_j) n_j + q_j``, and ``w_.j <- w_.j + (q_j / n_j) (t - w_.j)`` (t the
  one-hot feedback): a convex combination, so every column stays a probability distribution.
  Early on (``n_j`` well below ``1 / lr_w``) the weights are the plain average of the feedback,
  whatever ``lr_w``; later each step tends to the fraction ``lr_w q_j``, so ``lr_w`` is a
  forgetting rate: at ``lr_w = 1`` a unit that takes a whole stimulus keeps only its last
  feedback. This fixes the scale of the weights, which the temperature would otherwise share
  with ``lr_w`` (with steps of ``lr_w q_j`` from the start, small weight rates and small
  temperatures trade off along a ridge: in a recovery study 10 % of fits ran to the
  temperature's bound).

Stability condition: a step is a fraction ``rate * |e_j|`` of the way, and ``|e_j| <= 1``, so
every rate in (0, 1] keeps each step inside the segment between the unit and the stimulus (mean
and covariance); the weight step ``q_j / n_j`` is at most 1 because ``n_j >= q_j``; the fitting
box of every rate is [1e-3, 1]. A mean
never overshoots the stimulus, and one step moves a covariance's eigenvalues by a bounded factor,
so the learner's trajectory is a smooth function of its rates (``benchmarks/smoothness.py``).

Starting state (uses only where the stimuli lie in the data set as a whole): the m-th unit of
every category (m = 0 .. M-1) starts at ``mean + 0.5 sd (2 h_m - 1)`` (h_m the m-th Halton
point; the first unit, m = 0, at the mean itself), so every category's units start alike; every
unit starts isotropic with standard deviation ``mean(sd)`` (1 on standardised features: the
spread of all the stimuli); weights start uniform (1/K), so the first predictions are uniform.
The generative term is what tells the categories' units apart at first.

``activation="density"`` (a candidate measured in the README, not the default) feeds the
densities themselves into a linear association layer (weights from zero, softmax, cross-entropy
as in the original model) and takes the same natural steps, with fractions clipped to [-1, 0.99];
its error signal is not bounded, and it learns nothing in many dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import torch

from catmodel.models.base import Param, State, make_temperature
from catmodel.models.gaussian_units import halton, mean_box, start_override, unit_category

LOG_2PI = math.log(2.0 * math.pi)
#: floor of a probability before its log (see :mod:`catmodel.kernels.gaussian_natural`)
TINY = 1e-300
#: relative slack of the band check (see :mod:`catmodel.kernels.gaussian_natural`)
BAND_SLACK = 1e-12
#: largest away step of a covariance
MAX_AWAY = 0.99
#: the uniform starting weights count as this many observations (the running average's prior)
PRIOR_COUNT = 1.0


class NaturalState(NamedTuple):
    """The learners' units and association weights."""

    means: torch.Tensor  #: (L, J, D) unit means
    covariances: torch.Tensor  #: (L, J, D, D) unit covariances
    weights: torch.Tensor  #: (L, K, J) association weights (columns: distributions over k)
    counts: torch.Tensor  #: (L, J) the forgetful count of each unit's weight average
    mean_box: torch.Tensor  #: (2, D) the box the means are clamped to


class NaturalRule:
    """Bounded natural-gradient steps; see the module docstring."""

    temperature = make_temperature(10**-2, 10**1, 0.3, (10**-1.5, 10**-0.25))

    def __init__(self, settings: Mapping) -> None:
        self.settings = settings
        self.generative = float(settings["generative"])
        self.units_per_category = int(settings["units_per_category"])
        self.responsibility = settings["activation"] == "responsibility"
        lo, hi = settings["sd_band"]
        self.band = (float(lo) ** 2, float(hi) ** 2)

    def learning_params(self) -> list[Param]:
        # Rates are fractions of the way per unit of error (|e| <= 1): 1 is the largest step
        # that never overshoots.
        return [
            Param(
                "lr_mu",
                0.1,
                1e-3,
                1.0,
                "log",
                generating=(10**-2.5, 10**-0.5),
                doc="share of the way a unit's mean moves toward (or away from) a stimulus",
            ),
            Param(
                "lr_cov",
                0.1,
                1e-3,
                1.0,
                "log",
                # from 10^-2.25: below it the covariances barely move in 400 trials and the rate
                # cannot be told from 1e-3 (recovery fits piled up at the bottom of the box)
                generating=(10**-2.25, 10**-0.25),
                doc="share of the way a unit's covariance moves toward the stimulus's outer "
                "product (or its precision away from it)",
            ),
            Param(
                "lr_w",
                0.3,
                1e-3,
                1.0,
                "log",
                # where real participants are fitted (crossley_cat_unlearn_2cat: median 0.53,
                # IQR 0.10-1); far below it a unit's count (each of two units takes about 200
                # of 400 trials) never nears 1 / lr_w, forgetting does not show, and the rate
                # cannot be told from 1e-3
                generating=(10**-1.75, 10**-0.25),
                doc="forgetting rate of a unit's association weights (a running average of the "
                "feedback; the share of the way each late step moves)",
            ),
        ]

    def start(self, batch) -> tuple[np.ndarray, float]:
        """Starting means (J, D) and standard deviation, by the documented rule or settings."""
        d, k = batch.n_features, batch.n_categories
        m = self.units_per_category
        centre, spread = np.asarray(batch.stim_mean), np.asarray(batch.stim_sd)
        offsets = np.zeros((m, d))
        if m > 1:
            offsets[1:] = 0.5 * spread * (2.0 * halton(m - 1, d) - 1.0)
        means = np.tile(centre + offsets, (k, 1))
        return start_override(self.settings, means, float(np.mean(spread)))

    def init_state(self, batch, index, values) -> State:
        n = len(index)
        x = batch.x
        means, sd0 = self.start(batch)
        j, d = means.shape
        mu = torch.as_tensor(means, dtype=x.dtype, device=x.device).expand(n, j, d).clone()
        eye = torch.eye(d, dtype=x.dtype, device=x.device)
        sigma = (sd0**2 * eye).expand(n, j, d, d).clone()
        k = batch.n_categories
        if self.responsibility:
            w = torch.full((n, k, j), 1.0 / k, dtype=x.dtype, device=x.device)
        else:
            w = torch.zeros((n, k, j), dtype=x.dtype, device=x.device)
        counts = torch.full((n, j), PRIOR_COUNT, dtype=x.dtype, device=x.device)
        lo, hi = mean_box(batch)
        box = torch.as_tensor(np.stack([lo, hi]), dtype=x.dtype, device=x.device)
        return NaturalState(mu, sigma, w, counts, box)

    # --- one trial --------------------------------------------------------------------
    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        mu, sigma, w, counts, box = state
        k = w.shape[1]
        d = x[:, None, :] - mu  # (L, J, D)
        log_a, m = _log_densities(d, sigma)
        target = torch.nn.functional.one_hot(feedback.clamp(min=0), k).to(x.dtype)
        if self.responsibility:
            r = torch.softmax(log_a, -1)
            p = (w * r[:, None, :]).sum(-1)  # (L, K)
            logits = p
            q = (
                r
                * (w * target[:, :, None]).sum(1)
                / (p * target).sum(-1, keepdim=True).clamp_min(TINY)
            )
            e = r - q
            # clamp: a rate above 1 (outside the stability condition) forgets everything
            counts_new = (1.0 - values["lr_w"][:, None] * q).clamp_min(0.0) * counts + q
            w_new = w + (q / counts_new.clamp_min(TINY))[:, None, :] * (target[:, :, None] - w)
        else:
            a = torch.exp(log_a)
            logits = (w * a[:, None, :]).sum(-1)
            delta = torch.softmax(logits, -1) - target
            e = (w * delta[:, :, None]).sum(1) * a
            w_new = w - values["lr_w"][:, None, None] * delta[:, :, None] * a[:, None, :]
            counts_new = counts
        if self.generative > 0:
            own = (
                unit_category(k, self.units_per_category, x.device)[None, :]
                == feedback.clamp(min=0)[:, None]
            )
            rho = torch.softmax(log_a.masked_fill(~own, -math.inf), -1)
            e = (e - self.generative * rho) / (1.0 + self.generative)

        step_mu = values["lr_mu"][:, None] * e
        step_cov = values["lr_cov"][:, None] * e
        if not self.responsibility:  # unbounded errors: keep each step a fraction of the way
            step_mu = step_mu.clamp(-1.0, 1.0)
            step_cov = step_cov.clamp(-1.0, MAX_AWAY)
        mu_new = torch.maximum(torch.minimum(mu - step_mu[..., None] * d, box[1]), box[0])
        sigma_new = project_band(
            step_covariance(sigma, d, m, step_cov.clamp(max=MAX_AWAY)), *self.band
        )
        learn = feedback >= 0
        new = NaturalState(
            torch.where(learn[:, None, None], mu_new, mu),
            torch.where(learn[:, None, None, None], sigma_new, sigma),
            torch.where(learn[:, None, None], w_new, w),
            torch.where(learn[:, None], counts_new, counts),
            box,
        )
        return new, logits

    # --- kernel -----------------------------------------------------------------------
    def kernel_logits(self, batch, index, values):
        if not self.responsibility or batch.x.dtype != torch.float64:
            return None
        from catmodel.kernels.gaussian_natural import gaussian_natural_logits

        means, sd0 = self.start(batch)
        return gaussian_natural_logits(
            batch,
            index,
            values,
            means=means,
            variance=sd0**2,
            band=self.band,
            mean_box=mean_box(batch),
            generative=self.generative,
            units_per_category=self.units_per_category,
        )

    def describe_state(self, state: State, index: int) -> dict:
        return {
            "means": state.means[index].detach().cpu().numpy(),
            "covariances": state.covariances[index].detach().cpu().numpy(),
            "weights": state.weights[index].detach().cpu().numpy(),
        }


def _log_densities(d: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log N(x; mu_j, Sigma_j) (L, J) for d = x - mu, and the squared Mahalanobis distances."""
    chol, info = torch.linalg.cholesky_ex(sigma)
    z = torch.linalg.solve_triangular(chol, d[..., None], upper=False)[..., 0]
    m = (z * z).sum(-1)
    log_det = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    log_a = -0.5 * (m + log_det + d.shape[-1] * LOG_2PI)
    # a covariance that is not positive definite cannot arise; if it did, say so with NaN
    return torch.where(info == 0, log_a, torch.full_like(log_a, math.nan)), m


def step_covariance(
    sigma: torch.Tensor, d: torch.Tensor, m: torch.Tensor, s: torch.Tensor
) -> torch.Tensor:
    """The bounded covariance step of fraction ``s`` (L, J): toward d d^T for s < 0 (a convex
    combination), the precision toward its rank-one part along d for s > 0 (module docstring)."""
    outer = d[..., :, None] * d[..., None, :]
    toward = -s.clamp(max=0.0)
    away = s.clamp(min=0.0)
    sig_toward = (1.0 - toward)[..., None, None] * sigma + toward[..., None, None] * outer
    c = away / (1.0 - away + away * m)
    sig_away = (sigma - c[..., None, None] * outer) / (1.0 - away)[..., None, None]
    return torch.where((s < 0)[..., None, None], sig_toward, sig_away)


def project_band(sigma: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """``sigma`` (..., D, D) with its eigenvalues clamped into [lo, hi] where one lies outside.

    Matrices inside the band pass through unchanged (and so do their gradients); the others
    are decomposed (``eigh``) and rebuilt. Matrices that need no projection are replaced by a
    matrix with distinct eigenvalues before ``eigh``, whose gradient is undefined at repeated
    eigenvalues (an isotropic unit).
    """
    dim = sigma.shape[-1]
    eye = torch.eye(dim, dtype=sigma.dtype, device=sigma.device)
    _, below = torch.linalg.cholesky_ex(sigma - lo * (1.0 - BAND_SLACK) * eye)
    _, above = torch.linalg.cholesky_ex(hi * (1.0 + BAND_SLACK) * eye - sigma)
    need = (below != 0) | (above != 0)
    if not bool(need.any()):
        return sigma
    distinct = torch.diag(torch.arange(1, dim + 1, dtype=sigma.dtype, device=sigma.device))
    safe = torch.where(need[..., None, None], 0.5 * (sigma + sigma.transpose(-1, -2)), distinct)
    values, vectors = torch.linalg.eigh(safe)
    rebuilt = vectors @ torch.diag_embed(values.clamp(lo, hi)) @ vectors.transpose(-1, -2)
    return torch.where(need[..., None, None], rebuilt, sigma)
