"""The best recovery any estimator could reach: the posterior mean under the generating prior.

A recovery study draws each participant's true parameters θ uniformly (in scale coordinates)
over the generating box and simulates data X from them. For that joint distribution the
posterior mean ``E[θ | X]`` (the posterior under the very prior the study drew from) has the
least mean squared error of every function of the data, and no function of the data correlates
more with θ: for any f, ``cov(θ, f(X)) = cov(E[θ | X], f(X))``, so by Cauchy-Schwarz
``corr(θ, f(X)) <= corr(θ, E[θ | X])``. Its r and RMSE are therefore a ceiling on what maximum
likelihood, empirical Bayes or any other fitter can reach on the design: when the ceiling lies
below a target, no fitter meets the target, and only a more informative design (or a model
whose parameter shows more in the choices) can.

The posterior means are computed by importance sampling
(:func:`catmodel.fitting.posterior_sampling.sample_posterior`) in two stages: broad proposals
around each participant's estimate, then proposals shaped on the first stage's posterior
moments. The Monte Carlo error of a posterior mean adds noise that is uncorrelated with θ, so
it tends to lower the computed r a little: the ceiling is, if anything, underestimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel.compare.recovery import ParameterRecovery
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.posterior_sampling import sample_posterior

#: draws per participant in the first (broad) and the second (shaped) stage
FIRST_DRAWS = 1024
SECOND_DRAWS = 2048
#: adaptive rounds of each stage for participants with few effective draws
ADAPT_ROUNDS = 2


@dataclass
class RecoveryBound:
    """Outcome of :func:`recovery_bound`.

    Attributes
    ----------
    summary
        Per free parameter: ``r_bound`` and ``rmse_bound`` (the posterior mean under the
        generating prior against the truth, scale coordinates) beside ``r_fit`` and
        ``rmse_fit`` (the study's own ``r`` and ``rmse``).
    posterior_mean
        (P, F) posterior means in scale coordinates.
    ess
        (P,) effective number of importance draws behind each participant's posterior mean.
    """

    summary: pd.DataFrame
    posterior_mean: np.ndarray
    ess: np.ndarray


def generating_prior_target(objective: Objective, low: np.ndarray, high: np.ndarray):
    """``f(rows, scale)``: the log posterior under a uniform prior on the box [low, high]
    (scale coordinates): ``-NLL`` inside it, ``-inf`` outside."""

    def f(rows: np.ndarray, scale: np.ndarray) -> np.ndarray:
        inside = np.all((scale >= low) & (scale <= high), axis=1)
        out = np.full(len(rows), -np.inf)
        if inside.any():
            out[inside] = -objective.nll_at(rows[inside], scale[inside])
        return out

    return f


def posterior_means_in_box(
    log_target, centre: np.ndarray, low: np.ndarray, high: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means (P, F) and effective draws (P,) of ``log_target``, whose support is the
    box [low, high]: a broad first stage (sd a quarter of the box) around ``centre``, then a
    second stage shaped on the first one's moments."""
    width = high - low
    n_p, n_f = centre.shape
    # a centre on the box's edge would waste half of the draws
    centre = np.clip(centre, low + 0.05 * width, high - 0.05 * width)
    broad = np.broadcast_to(np.diag((width / 4.0) ** 2), (n_p, n_f, n_f)).copy()
    first = sample_posterior(
        log_target, centre, broad, n_draws=FIRST_DRAWS, seed=seed, adapt_rounds=ADAPT_ROUNDS
    )
    # a floor on the shape: a first stage resting on few draws can be too narrow
    shape = first.cov + np.diag((0.02 * width) ** 2)
    second = sample_posterior(
        log_target,
        first.mean,
        shape,
        n_draws=SECOND_DRAWS,
        seed=seed + 1,
        adapt_rounds=ADAPT_ROUNDS,
    )
    return second.mean, second.ess


def recovery_bound(study: ParameterRecovery, seed: int = 0) -> RecoveryBound:
    """The ceiling on recovery for the participants of a recovery study (module docstring).

    Parameters
    ----------
    study
        The study (:func:`~catmodel.compare.recovery.parameter_recovery`): its simulated
        trials, true values and fit, whose estimates centre the first proposals and whose
        parameter set gives the generating box.
    seed
        Seed of the importance draws.
    """
    fit = study.fit.fits[0]
    pset = fit.pset
    low, high = pset.generating_scale_box()
    target = generating_prior_target(Objective(fit.model, study.batch, pset), low, high)
    mean, ess = posterior_means_in_box(target, fit.scale, low, high, seed)
    truth = (
        study.recovery.pivot(index="participant", columns="parameter", values="true_scale")
        .loc[list(study.batch.learners), pset.free_names]
        .to_numpy()
    )
    error = mean - truth
    summary = pd.DataFrame(
        {
            "parameter": pset.free_names,
            "r_bound": [np.corrcoef(truth[:, i], mean[:, i])[0, 1] for i in range(len(low))],
            "rmse_bound": np.sqrt(np.mean(error**2, axis=0)),
        }
    ).merge(
        study.summary[["parameter", "r", "rmse"]].rename(
            columns={"r": "r_fit", "rmse": "rmse_fit"}
        ),
        on="parameter",
    )
    return RecoveryBound(summary, mean, ess)
