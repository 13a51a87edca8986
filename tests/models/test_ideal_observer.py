"""The ideal observer (``niw``) against the textbook closed forms: the batch normal-inverse-Wishart
posterior (Murphy 2007), scipy's multivariate Student-t, and a weighted batch posterior for the
forgetting variant."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from catmodel.errors import SettingsError
from catmodel.models.ideal_observer import IdealObserver
from catmodel.models.rollout import rollout_logits, torch_rollout

D, K = 3, 3


def _values(n: int, forget: float | None = None) -> dict[str, np.ndarray]:
    values = {
        "prior_strength": np.full(n, 1.7),
        "prior_sd": np.full(n, 0.6),
        "temperature": np.ones(n),
        "lapse": np.full(n, 0.01),
    }
    if forget is not None:
        values["forget"] = np.full(n, forget)
    return values


def _prior(batch, values, row: int = 0):
    d = batch.n_features
    n0 = float(values["prior_strength"][row])
    sd = np.asarray(batch.stim_sd) * float(values["prior_sd"][row])
    nu0 = d - 1.0 + n0
    return np.asarray(batch.stim_mean), n0, nu0, nu0 * np.diag(sd**2)


def _batch_posterior(x, weights, m0, kappa0, nu0, psi0):
    """The NIW posterior from observations ``x`` (n, D) with weights (Murphy 2007, eqs.
    250-254, with every sum weighted): the closed form, not the trial-by-trial recursion."""
    n = weights.sum()
    kappa, nu = kappa0 + n, nu0 + n
    if n == 0:
        return kappa, nu, m0.copy(), psi0.copy()
    xbar = (weights[:, None] * x).sum(0) / n
    centred = x - xbar
    scatter = (weights[:, None, None] * centred[:, :, None] * centred[:, None, :]).sum(0)
    gap = xbar - m0
    mean = (kappa0 * m0 + n * xbar) / kappa
    psi = psi0 + scatter + kappa0 * n / kappa * np.outer(gap, gap)
    return kappa, nu, mean, psi


def _predictive_logpdf(x, kappa, nu, mean, psi):
    """log p(x | data) with scipy's multivariate t (Murphy 2007, eq. 258)."""
    d = len(x)
    dof = nu - d + 1.0
    shape = psi * (kappa + 1.0) / (kappa * dof)
    return stats.multivariate_t(loc=mean, shape=shape, df=dof).logpdf(x)


def _reference_logits(batch, row, values, forget=0.0, alpha=1.0):
    """Every trial's logits from the batch posterior of the trials before it."""
    n = int(batch.n_trials[row])
    x = batch.x[row, :n].numpy()
    fb = batch.feedback[row, :n].numpy()
    m0, kappa0, nu0, psi0 = _prior(batch, values, row)
    out = np.zeros((n, batch.n_categories))
    for t in range(n):
        seen = np.flatnonzero(fb[:t] >= 0)
        # weights of earlier observations: (1 - forget) per later feedback trial, this one incl.
        later = np.array([np.sum(fb[s + 1 : t] >= 0) for s in seen], dtype=float)
        weight = (1.0 - forget) ** later
        counts = np.zeros(batch.n_categories)
        for k in range(batch.n_categories):
            mine = fb[seen] == k
            post = _batch_posterior(x[seen][mine], weight[mine], m0, kappa0, nu0, psi0)
            out[t, k] = _predictive_logpdf(x[t], *post)
            counts[k] = weight[mine].sum()
        out[t] += np.log((counts + alpha) / (counts + alpha).sum())
    return out


@pytest.mark.parametrize("backend", ["torch", "kernel"])
@pytest.mark.parametrize("forget", [None, 0.07])
def test_logits_match_batch_posterior_and_scipy_student_t(make_batch, forget, backend):
    batch = make_batch(n_features=D, n_categories=K, lengths=(30, 17), seed=5)
    model = IdealObserver(forgetting=forget is not None)
    values = _values(2, forget)
    logits = rollout_logits(model, batch, [0, 1], values, backend=backend).numpy()
    for row in range(2):
        n = int(batch.n_trials[row])
        ref = _reference_logits(batch, row, values, forget=forget or 0.0)
        np.testing.assert_allclose(logits[row, :n], ref, rtol=0, atol=1e-9)


def test_final_posterior_equals_the_closed_form(make_batch):
    batch = make_batch(n_features=2, n_categories=2, lengths=(60,), seed=9)
    model = IdealObserver()
    values = _values(1)
    vals = {k: torch.as_tensor(v, dtype=batch.x.dtype) for k, v in values.items()}
    n = int(batch.n_trials[0])
    _, states = torch_rollout(model, batch, torch.tensor([0]), vals, keep_states=[n - 1])
    described = model.describe_state(states[n - 1], 0)
    x = batch.x[0, :n].numpy()
    fb = batch.feedback[0, :n].numpy()
    m0, kappa0, nu0, psi0 = _prior(batch, values)
    for k in range(2):
        mine = x[fb == k]
        _, nu, mean, psi = _batch_posterior(mine, np.ones(len(mine)), m0, kappa0, nu0, psi0)
        np.testing.assert_allclose(described["means"][k], mean, atol=1e-12)
        # expected covariance Psi / (nu - D - 1) once it exists
        assert nu > 2 + 1
        np.testing.assert_allclose(described["covariances"][k], psi / (nu - 3.0), atol=1e-12)


def test_probability_matching_at_temperature_one_learns_separated_categories():
    # two well-separated categories: after 40 trials the posterior is near certain
    rng = np.random.default_rng(3)
    import pandas as pd

    from catmodel.data.batch import batch_from_frame

    category = rng.integers(0, 2, 80)
    x = rng.normal(size=(80, 2)) * 0.3 + np.where(category[:, None] == 0, -1.5, 1.5)
    frame = pd.DataFrame(
        {
            "learner": "L",
            "participant": "P",
            "category": category,
            "feedback": category,
            "response": category,
            "block": 1,
            "x1": x[:, 0],
            "x2": x[:, 1],
        }
    )
    batch = batch_from_frame(frame, ["x1", "x2"], categories=[0, 1])
    logits = rollout_logits(IdealObserver(), batch, [0], _values(1), backend="torch")
    p = torch.softmax(logits[0], -1).numpy()
    correct = p[np.arange(80), category]
    assert correct[:2].mean() < 0.8  # it starts knowing nothing
    assert correct[40:].min() > 0.99


def test_bad_category_prior_is_a_settings_error():
    with pytest.raises(SettingsError, match="category_prior"):
        IdealObserver(category_prior=0)
