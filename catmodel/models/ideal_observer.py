"""The ideal-observer learner (``niw``): each category's mean and covariance learned exactly by
Bayes' rule under a normal-inverse-Wishart prior.

Representation
    Category k is a Gaussian with unknown mean and covariance, ``(mu_k, Sigma_k) ~ NIW(m, kappa,
    nu, Psi)``. The prior is the same for every category: mean ``m0`` = the stimuli's overall
    mean (all a learner can know before feedback), ``kappa0 = n0`` and ``nu0 = D - 1 + n0``
    (``n0`` = ``prior_strength``, so ``nu0 > D - 1`` by construction and the predictive always
    has ``n0 > 0`` degrees of freedom), and ``Psi0 = nu0 diag((s0 sd_d)^2)`` (``s0`` =
    ``prior_sd`` in units of each feature's standard deviation over the data set): the prior's
    guess of a category's spread is ``Psi0 / nu0``. Each feedback trial with label y updates
    category y exactly (Murphy 2007, "Conjugate Bayesian analysis of the Gaussian distribution",
    eqs. 250-254)::

        kappa' = kappa + 1,  nu' = nu + 1,  m' = (kappa m + x) / (kappa + 1),
        Psi' = Psi + kappa / (kappa + 1) (x - m)(x - m)^T,

    the same as the batch posterior from all of the category's stimuli seen so far.

Forgetting (setting ``forgetting=True``, free rate ``forget``)
    Before each feedback trial every category's evidence decays toward its prior: the natural
    parameters move to ``eta0 + (1 - forget) (eta - eta0)``, i.e. every earlier observation's
    weight is multiplied by ``1 - forget`` (exponential forgetting of the sufficient
    statistics). The posterior stays a valid NIW (a prior plus weighted observations).

Response
    The log posterior-predictive density of x under each category, a multivariate Student-t with
    ``nu - D + 1`` degrees of freedom, location ``m`` and scale ``Psi (kappa + 1) / (kappa (nu -
    D + 1))``, plus the log prior probability of the category from a symmetric Dirichlet with
    pseudo-count ``alpha`` (setting ``category_prior``, default 1, so an unseen category never
    gets log 0) and the (decayed) feedback counts. These logits are the log posterior
    probabilities up to a constant: at temperature 1 the learner responds with the Bayesian
    posterior (probability matching); below 1 it maximises more.

Parameters
    ``prior_strength`` n0 (log, [10^-1, 10^2.5], generating [10^-0.5, 10^1.5]), ``prior_sd``
    s0 (log, [10^-1.5, 10^1], generating [10^-0.75, 10^0.25]), ``forget`` (only with
    ``forgetting=True``; log, [10^-4, 0.5], generating [10^-3, 10^-1]), the temperature (log,
    [10^-2, 10^2], generating [10^-1, 10^0.5]: from near-deterministic to flatter than the
    posterior); the lapse fixed at 0.01 unless freed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from catmodel.errors import SettingsError
from catmodel.models.base import Model, Param, State, make_temperature

LOG_PI = math.log(math.pi)
#: floor of a feature's standard deviation when it sets the prior spread (constant features)
SD_FLOOR = 1e-6


class NiwState(NamedTuple):
    """Every category's normal-inverse-Wishart posterior, in coordinates centred on ``m0``."""

    kappa: torch.Tensor  #: (L, K) pseudo-observations behind each mean
    nu: torch.Tensor  #: (L, K) degrees of freedom
    means: torch.Tensor  #: (L, K, D) posterior means minus the prior mean
    scatter: torch.Tensor  #: (L, K, D, D) Psi
    counts: torch.Tensor  #: (L, K) (decayed) feedback trials per category
    prior: tuple  #: (m0 (L, D), kappa0 (L,), nu0 (L,), Psi0 (L, D, D))


class IdealObserver(Model):
    """Bayesian learner of each category's Gaussian (normal-inverse-Wishart prior)."""

    name = "niw"
    summary = (
        "ideal observer: each category's mean and covariance learned exactly by Bayes' rule "
        "(normal-inverse-Wishart prior); logits are log posterior-predictive (Student-t) "
        "densities plus log category probabilities"
    )
    temperature_param = make_temperature(10**-2, 10**2, 1.0, (10**-1, 10**0.5))
    default_settings: ClassVar[dict] = {"forgetting": False, "category_prior": 1.0}
    setting_docs: ClassVar[dict] = {
        "forgetting": "decay every category's evidence toward the prior by a free rate forget "
        "on each feedback trial",
        "category_prior": "symmetric Dirichlet pseudo-count of the category probabilities (> 0)",
    }

    def _check_settings(self) -> None:
        self.forgetting = self._flag("forgetting")
        alpha = self.settings["category_prior"]
        if not isinstance(alpha, (int, float)) or not alpha > 0:
            raise SettingsError(f"category_prior must be a number above 0, got {alpha!r}")
        self.alpha = float(alpha)

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        params = [
            Param(
                "prior_strength",
                1.0,
                10**-1,
                10**2.5,
                "log",
                generating=(10**-0.5, 10**1.5),
                doc="prior pseudo-observations of each category's mean and covariance "
                "(kappa0 = n0, nu0 = D - 1 + n0)",
            ),
            Param(
                "prior_sd",
                0.5,
                10**-1.5,
                10**1,
                "log",
                generating=(10**-0.75, 10**0.25),
                doc="the prior's guess of a category's standard deviation, in units of each "
                "feature's standard deviation over the data set",
            ),
        ]
        if self.forgetting:
            params.append(
                Param(
                    "forget",
                    0.01,
                    10**-4,
                    0.5,
                    "log",
                    generating=(10**-3, 10**-1),
                    doc="share of every category's evidence forgotten on each feedback trial",
                )
            )
        return params

    # --- the learner ------------------------------------------------------------------
    def init_state(self, batch, index, values) -> State:
        n, k, d = len(index), batch.n_categories, batch.n_features
        x = batch.x
        opts = {"dtype": x.dtype, "device": x.device}
        m0 = torch.as_tensor(np.asarray(batch.stim_mean, dtype=float), **opts).expand(n, d).clone()
        sd = np.maximum(np.asarray(batch.stim_sd, dtype=float), SD_FLOOR)
        n0 = values["prior_strength"].to(**opts).expand(n)
        kappa0, nu0 = n0, (d - 1.0) + n0
        spread = values["prior_sd"].to(**opts).expand(n)[:, None] * torch.as_tensor(sd, **opts)
        psi0 = nu0[:, None, None] * torch.diag_embed(spread**2)
        return NiwState(
            kappa=kappa0[:, None].expand(n, k).clone(),
            nu=nu0[:, None].expand(n, k).clone(),
            means=torch.zeros((n, k, d), **opts),
            scatter=psi0[:, None].expand(n, k, d, d).clone(),
            counts=torch.zeros((n, k), **opts),
            prior=(m0, kappa0, nu0, psi0),
        )

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        kappa, nu, means, scatter, counts, prior = state
        m0, kappa0, nu0, psi0 = prior
        k = means.shape[1]
        centred = (x - m0)[:, None, :]  # (L, 1, D)
        logits = student_t_logpdf(centred, kappa, nu, means, scatter) + torch.log(
            (counts + self.alpha) / (counts + self.alpha).sum(-1, keepdim=True)
        )

        learn = feedback >= 0
        if self.forgetting:  # only feedback trials forget (the others leave the state as is)
            posterior = (kappa, nu, means, scatter, counts)
            decayed = decay(posterior, (kappa0, nu0, psi0), 1.0 - values["forget"])
            kappa, nu, means, scatter, counts = (
                torch.where(learn.reshape((-1,) + (1,) * (a.dim() - 1)), b, a)
                for a, b in zip(posterior, decayed, strict=True)
            )
        hit = (torch.arange(k, device=x.device)[None, :] == feedback[:, None]) & learn[:, None]
        diff = centred - means  # (L, K, D)
        gain = (kappa / (kappa + 1.0))[..., None, None]
        moved = (
            kappa + 1.0,
            nu + 1.0,
            (kappa[..., None] * means + centred) / (kappa + 1.0)[..., None],
            scatter + gain * diff[..., :, None] * diff[..., None, :],
            counts + 1.0,
        )
        old = (kappa, nu, means, scatter, counts)
        new = [
            torch.where(hit.reshape(hit.shape + (1,) * (a.dim() - 2)), b, a)
            for a, b in zip(old, moved, strict=True)
        ]
        return NiwState(*new, prior), logits

    # --- kernel -----------------------------------------------------------------------
    def kernel_logits(self, batch, index, values):
        if batch.x.dtype != torch.float64:
            return None
        from catmodel.kernels.ideal_observer import ideal_observer_logits

        n, d = len(index), batch.n_features
        n0 = np.broadcast_to(np.asarray(values["prior_strength"], dtype=float), (n,))
        spread = np.broadcast_to(np.asarray(values["prior_sd"], dtype=float), (n,))[:, None]
        spread = spread * np.maximum(np.asarray(batch.stim_sd, dtype=float), SD_FLOOR)
        nu0 = (d - 1.0) + n0
        forget = values["forget"] if self.forgetting else 0.0
        keep = 1.0 - np.broadcast_to(np.asarray(forget, dtype=float), (n,))
        return ideal_observer_logits(
            batch,
            index,
            prior_mean=np.asarray(batch.stim_mean, dtype=float),
            kappa0=n0,
            nu0=nu0,
            psi0=nu0[:, None, None] * (spread[:, :, None] * np.eye(d) * spread[:, None, :]),
            keep=keep,
            alpha=self.alpha,
        )

    # --- description ------------------------------------------------------------------
    def unit_category(self, n_categories: int, device=None) -> torch.Tensor:
        """One 'unit' per category (for the learned-Gaussians figure)."""
        return torch.arange(n_categories, device=device)

    def describe_state(self, state: State, index: int) -> dict:
        """Each category's posterior mean and expected covariance (the predictive scale where
        the expectation does not exist yet), and one-to-one 'weights'."""
        kappa, nu, means, scatter, _, prior = state
        m0 = prior[0][index]
        d = means.shape[-1]
        dof = nu[index] - d + 1.0
        expected = torch.where(
            (nu[index] > d + 1.0)[:, None, None],
            scatter[index] / (nu[index] - d - 1.0).clamp_min(1e-12)[:, None, None],
            scatter[index] * ((kappa[index] + 1.0) / (kappa[index] * dof))[:, None, None],
        )
        k = means.shape[1]
        return {
            "means": (means[index] + m0).detach().cpu().numpy(),
            "covariances": expected.detach().cpu().numpy(),
            "weights": np.eye(k),
        }


def student_t_logpdf(centred, kappa, nu, means, scatter) -> torch.Tensor:
    """Log posterior-predictive density (L, K) of the stimulus under every category's NIW.

    A multivariate Student-t with ``nu - D + 1`` degrees of freedom, location ``means`` and
    scale ``scatter (kappa + 1) / (kappa (nu - D + 1))`` (Murphy 2007, eq. 258).
    """
    d = means.shape[-1]
    dof = nu - d + 1.0
    factor = (kappa + 1.0) / (kappa * dof)
    chol = torch.linalg.cholesky(scatter)
    z = torch.linalg.solve_triangular(chol, (centred - means)[..., None], upper=False)[..., 0]
    maha = (z * z).sum(-1) / factor
    log_det = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1) + d * torch.log(
        factor
    )
    return (
        torch.lgamma(0.5 * (dof + d))
        - torch.lgamma(0.5 * dof)
        - 0.5 * d * (torch.log(dof) + LOG_PI)
        - 0.5 * log_det
        - 0.5 * (dof + d) * torch.log1p(maha / dof)
    )


def decay(posterior, prior, keep: torch.Tensor):
    """Every category's evidence weighted by ``keep`` (L,): natural parameters ``eta0 + keep
    (eta - eta0)``. In coordinates centred on the prior mean, ``kappa m`` and ``Psi + kappa m
    m^T`` are linear in the observations' weights, which gives the form below."""
    kappa, nu, means, scatter, counts = posterior
    kappa0, nu0, psi0 = prior
    a = keep[:, None]
    k0, v0 = kappa0[:, None], nu0[:, None]
    kappa_new = k0 + a * (kappa - k0)
    weighted = a[..., None] * kappa[..., None] * means  # kappa_new * means_new
    means_new = weighted / kappa_new[..., None]
    outer = means[..., :, None] * means[..., None, :]
    outer_new = means_new[..., :, None] * means_new[..., None, :]
    p0 = psi0[:, None]
    scatter_new = (
        p0
        + a[..., None, None] * (scatter - p0 + kappa[..., None, None] * outer)
        - kappa_new[..., None, None] * outer_new
    )
    return kappa_new, v0 + a * (nu - v0), means_new, scatter_new, a * counts
