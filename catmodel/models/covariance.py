"""Covariance parameterisations of Gaussian units, with log densities and closed-form gradients.

Each parameterisation stores its own unconstrained state, computes the log density of the
stimulus under every unit, and maps the loss gradient with respect to the log density back to its
state. Gradients are written in closed form (checked against autograd in the tests) so that one
learner-trial costs a few hundred floating-point operations instead of an autograd graph.

``spectral`` (default)
    Sigma = Q diag(lambda) Q^T. Each eigenvalue is a bounded transform of a free number,
    ``log lambda = log lo + (log hi - log lo) * sigmoid(g * eta)``, ``g = 4 / (log hi - log lo)``,
    so every eigenvalue lies in the band [sd_min^2, sd_max^2] *by construction*: the
    eigenvalues are the parameters, not a consequence of them. The gain ``g`` makes the slope 1
    in the middle of the band, where ``eta`` is the log variance relative to the band's centre,
    so ``lr_cov`` means what it would for a plain log-variance there. Q is a product of
    D(D-1)/2 Givens rotations with free angles, which is orthogonal to rounding error for any
    angle. The log density needs no factorisation:
    log N = -1/2 (sum_i u_i^2 / lambda_i + sum_i log lambda_i + D log 2 pi), u = Q^T (x - mu).
    The condition number of every covariance is at most (sd_max / sd_min)^2 (4e4 by default),
    in floating point, for every learning rate.
``log-cholesky``
    Sigma = A A^T with A lower triangular and log-parameterised diagonal. Positive definite in
    exact arithmetic only: at large learning rates it reaches numerically singular matrices.
``full``
    The raw free matrix of the original model. Only for reproducing it: when a step makes the
    matrix non-positive-definite, the learner stops and records the trial number instead of
    crashing the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from catmodel.errors import SettingsError

LOG_2PI = math.log(2.0 * math.pi)
# The bounded transform saturates beyond |g * eta| = 10 (sigmoid' < 5e-5); clamping there keeps
# the state finite at absurd learning rates while leaving every reachable eigenvalue in the band.
SIGMOID_LIMIT = 10.0

CovState = tuple[torch.Tensor, ...]


def planes(n_features: int) -> list[tuple[int, int]]:
    """The (p, q) coordinate planes of the Givens rotations, in application order."""
    return [(p, q) for p in range(n_features) for q in range(p + 1, n_features)]


@dataclass(frozen=True)
class Spectral:
    """Eigenvalues in a band times a rotation: the bounded default."""

    sd_min: float = 0.01
    sd_max: float = 2.0
    name: str = "spectral"

    def __post_init__(self) -> None:
        if not 0 < self.sd_min < self.sd_max:
            raise SettingsError(f"sd_band must satisfy 0 < min < max, got {self.band}")

    @property
    def band(self) -> tuple[float, float]:
        return (self.sd_min, self.sd_max)

    @property
    def log_var_bounds(self) -> tuple[float, float]:
        return 2.0 * math.log(self.sd_min), 2.0 * math.log(self.sd_max)

    @property
    def gain(self) -> float:
        lo, hi = self.log_var_bounds
        return 4.0 / (hi - lo)

    @property
    def eta_limit(self) -> float:
        return SIGMOID_LIMIT / self.gain

    def eta_for_sd(self, sd: float) -> float:
        """The free value that gives standard deviation ``sd`` (clipped into the band)."""
        lo, hi = self.log_var_bounds
        frac = (2.0 * math.log(sd) - lo) / (hi - lo)
        frac = min(max(frac, 1e-9), 1 - 1e-9)
        eta = math.log(frac / (1.0 - frac)) / self.gain
        return max(-self.eta_limit, min(self.eta_limit, eta))

    def init(self, shape: tuple[int, int], n_features: int, sd0: float, like: torch.Tensor):
        eta = torch.full(
            (*shape, n_features), self.eta_for_sd(sd0), dtype=like.dtype, device=like.device
        )
        theta = torch.zeros((*shape, len(planes(n_features))), dtype=like.dtype, device=like.device)
        return (eta, theta)

    def log_density(self, d: torch.Tensor, cov: CovState):
        """Log N(x; mu, Sigma) for d = x - mu of shape (L, J, D); returns (log_a, ctx)."""
        eta, theta = cov
        lo, hi = self.log_var_bounds
        sig = torch.sigmoid(self.gain * eta)
        log_var = lo + (hi - lo) * sig
        inv_var = torch.exp(-log_var)
        cos, sin = torch.cos(theta), torch.sin(theta)
        cols = list(d.unbind(-1))
        for r, (p, q) in enumerate(planes(d.shape[-1])):
            c, s = cos[..., r], sin[..., r]
            cols[p], cols[q] = c * cols[p] + s * cols[q], -s * cols[p] + c * cols[q]
        u = torch.stack(cols, -1)
        log_a = -0.5 * ((u * u * inv_var).sum(-1) + log_var.sum(-1) + d.shape[-1] * LOG_2PI)
        return log_a, (u, inv_var, sig, cos, sin)

    def backward(self, e: torch.Tensor, ctx):
        """Map e = dLoss/dlog_a (L, J) to (dLoss/dd, (dLoss/deta, dLoss/dtheta))."""
        u, inv_var, sig, cos, sin = ctx
        lo, hi = self.log_var_bounds
        e3 = e[..., None]
        g_eta = -0.5 * e3 * (1.0 - u * u * inv_var) * ((hi - lo) * self.gain * sig * (1.0 - sig))
        g = list((-e3 * u * inv_var).unbind(-1))
        out = list(u.unbind(-1))
        plane_list = planes(u.shape[-1])
        g_theta = [None] * len(plane_list)
        for r in reversed(range(len(plane_list))):
            p, q = plane_list[r]
            c, s = cos[..., r], sin[..., r]
            g_theta[r] = g[p] * out[q] - g[q] * out[p]
            g[p], g[q] = c * g[p] - s * g[q], s * g[p] + c * g[q]
            out[p], out[q] = c * out[p] - s * out[q], s * out[p] + c * out[q]
        if g_theta:
            g_th = torch.stack(g_theta, -1)
        else:
            g_th = torch.zeros_like(u[..., :0])
        return torch.stack(g, -1), (g_eta, g_th)

    def project(self, cov: CovState) -> CovState:
        eta, theta = cov
        # wrapping the angles changes no covariance; it keeps them small in float32
        theta = torch.remainder(theta + math.pi, 2.0 * math.pi) - math.pi
        return (eta.clamp(-self.eta_limit, self.eta_limit), theta)

    def matrices(self, cov: CovState) -> torch.Tensor:
        eta, theta = cov
        lo, hi = self.log_var_bounds
        var = torch.exp(lo + (hi - lo) * torch.sigmoid(self.gain * eta))
        q = rotation(theta, eta.shape[-1])
        return q @ torch.diag_embed(var) @ q.transpose(-1, -2)


def rotation(theta: torch.Tensor, n_features: int) -> torch.Tensor:
    """Q = G_1 G_2 ... G_m for Givens angles ``theta`` (..., m); returns (..., D, D)."""
    eye = torch.eye(n_features, dtype=theta.dtype, device=theta.device)
    q = eye.expand(*theta.shape[:-1], n_features, n_features).clone()
    for r, (p, qq) in enumerate(planes(n_features)):
        c, s = torch.cos(theta[..., r]), torch.sin(theta[..., r])
        g = eye.expand_as(q).clone()
        g[..., p, p], g[..., p, qq], g[..., qq, p], g[..., qq, qq] = c, -s, s, c
        q = q @ g
    return q


@dataclass(frozen=True)
class LogCholesky:
    """Sigma = A A^T, A lower triangular with a log-parameterised diagonal."""

    name: str = "log-cholesky"
    band: tuple[float, float] | None = None

    def init(self, shape: tuple[int, int], n_features: int, sd0: float, like: torch.Tensor):
        a = torch.zeros((*shape, n_features, n_features), dtype=like.dtype, device=like.device)
        idx = torch.arange(n_features)
        a[..., idx, idx] = math.log(sd0)
        return (a,)

    def _factor(self, raw: torch.Tensor) -> torch.Tensor:
        diag = torch.diagonal(raw, dim1=-2, dim2=-1)
        return torch.tril(raw, -1) + torch.diag_embed(torch.exp(diag))

    def log_density(self, d: torch.Tensor, cov: CovState):
        (raw,) = cov
        a = self._factor(raw)
        z = torch.linalg.solve_triangular(a, d[..., None], upper=False)
        w = torch.linalg.solve_triangular(a.transpose(-1, -2), z, upper=True)  # Sigma^-1 d
        log_det_half = torch.diagonal(raw, dim1=-2, dim2=-1).sum(-1)
        log_a = -0.5 * (z[..., 0] ** 2).sum(-1) - log_det_half - 0.5 * d.shape[-1] * LOG_2PI
        return log_a, (a, z[..., 0], w[..., 0])

    def backward(self, e: torch.Tensor, ctx):
        a, z, w = ctx
        e3 = e[..., None]
        # d log N / dA_ij = w_i z_j - delta_ij / A_ii (lower triangle); chain rule for log diag
        g_a = torch.tril(w[..., :, None] * z[..., None, :])
        diag_a = torch.diagonal(a, dim1=-2, dim2=-1)
        g_diag = torch.diagonal(g_a, dim1=-2, dim2=-1) * diag_a - 1.0
        g_a = torch.tril(g_a, -1) + torch.diag_embed(g_diag)
        return -e3 * w, (e[..., None, None] * g_a,)

    def project(self, cov: CovState) -> CovState:
        return cov

    def matrices(self, cov: CovState) -> torch.Tensor:
        a = self._factor(cov[0])
        return a @ a.transpose(-1, -2)


@dataclass(frozen=True)
class FullMatrix:
    """The raw free covariance matrix of the original model (no safeguards)."""

    name: str = "full"
    band: tuple[float, float] | None = None

    def init(self, shape: tuple[int, int], n_features: int, sd0: float, like: torch.Tensor):
        eye = torch.eye(n_features, dtype=like.dtype, device=like.device)
        return ((sd0**2) * eye.expand(*shape, n_features, n_features).clone(),)

    def log_density(self, d: torch.Tensor, cov: CovState):
        (sigma,) = cov
        chol, info = torch.linalg.cholesky_ex(sigma)
        failed = info != 0
        # keep the arithmetic finite for failed units; the caller stops those learners
        eye = torch.eye(d.shape[-1], dtype=d.dtype, device=d.device)
        chol = torch.where(failed[..., None, None], eye, chol)
        z = torch.linalg.solve_triangular(chol, d[..., None], upper=False)
        w = torch.linalg.solve_triangular(chol.transpose(-1, -2), z, upper=True)[..., 0]
        log_diag = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1))
        log_a = -0.5 * (z[..., 0] ** 2).sum(-1) - log_diag.sum(-1) - 0.5 * d.shape[-1] * LOG_2PI
        return log_a, (chol, w, failed)

    def backward(self, e: torch.Tensor, ctx):
        chol, w, _ = ctx
        inv = torch.cholesky_inverse(chol)
        # symmetric gradient of log N with respect to Sigma: (w w^T - Sigma^-1) / 2
        g_sigma = 0.5 * (w[..., :, None] * w[..., None, :] - inv)
        return -e[..., None] * w, (e[..., None, None] * g_sigma,)

    def project(self, cov: CovState) -> CovState:
        return cov

    def matrices(self, cov: CovState) -> torch.Tensor:
        return cov[0]


def make_covariance(name: str, band: tuple[float, float]):
    """The parameterisation called ``name`` ('spectral', 'log-cholesky' or 'full')."""
    if name == "spectral":
        return Spectral(float(band[0]), float(band[1]))
    if name == "log-cholesky":
        return LogCholesky()
    if name == "full":
        return FullMatrix()
    raise SettingsError(
        f"unknown covariance parameterisation {name!r} (choose spectral, log-cholesky or full)"
    )
