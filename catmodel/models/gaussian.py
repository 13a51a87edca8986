"""The Gaussian category learner.

Each category is represented by one (or several) Gaussian units with a learnable mean and full
covariance matrix; a stimulus's activations of the units feed a one-layer association network;
the shared choice rule (:mod:`catmodel.models.choice`) turns its outputs into response
probabilities; after each trial's feedback one step updates means, covariances and weights, with
separate learning rates ``lr_mu``, ``lr_cov`` and ``lr_w``.

Two update rules, chosen with the setting ``update``:

``natural`` (default; :mod:`catmodel.models.gaussian_natural`)
    Responsibilities (densities normalised across units) as activations, association weights
    that are forgetful running averages of the feedback (probabilities; ``lr_w`` the forgetting
    rate), and natural-gradient steps that move each unit a bounded fraction of the way toward
    (or away from) the stimulus: every rate in (0, 1] is stable, the
    likelihood is a smooth function of the parameters, and the learner learns in any number of
    dimensions and on binary features.
``sgd`` (the original model; :mod:`catmodel.models.gaussian_sgd`)
    Densities as activations, a linear association layer, and one raw SGD(+momentum) step on
    the cross-entropy. Kept for reproducing the original model (``catmodel demo``,
    ``benchmarks/robustness.py``) and for comparison; its likelihood is chaotic at large rates.

The README compares the two (and other candidates) on simulated and real data. The settings
that only one rule reads (``momentum`` and ``covariance``, for ``sgd``) must keep their defaults
under ``natural``.

Safeguards: every covariance's eigenvalues stay in the band ``sd_band`` (squared, standardised
stimulus units; default (0.1, 3) for ``natural``, (0.01, 2) for ``sgd``), and means stay inside
the stimulus box widened by one box width on each side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch

from catmodel.errors import SettingsError
from catmodel.models.base import Model, Param, State
from catmodel.models.gaussian_natural import NaturalRule, NaturalState
from catmodel.models.gaussian_sgd import SgdRule, SgdState
from catmodel.models.gaussian_units import halton, mean_box, unit_category

__all__ = ["Gaussian", "NaturalState", "SgdState", "halton"]

#: settings whose default depends on the update rule
RULE_DEFAULTS = {
    "natural": {"activation": "responsibility", "generative": 1.0, "sd_band": (0.1, 3.0)},
    "sgd": {"activation": "density", "generative": 0.0, "sd_band": (0.01, 2.0)},
}


class Gaussian(Model):
    """Gaussian units -> association weights -> choice rule, one bounded step per trial."""

    name = "gaussian"
    summary = (
        "Gaussian units with learnable means and full covariances feed an association "
        "network; one step per feedback trial (natural: bounded natural-gradient steps; sgd: "
        "the original SGD)"
    )
    default_settings: ClassVar[dict] = {
        "update": "natural",
        "activation": None,
        "units_per_category": 1,
        "generative": None,
        "sd_band": None,
        "momentum": 0.0,
        "covariance": "spectral",
        "init_means": None,
        "init_sd": None,
    }
    setting_docs: ClassVar[dict] = {
        "update": "natural (default: bounded steps in each unit's own metric) or sgd (the "
        "original model's raw SGD steps)",
        "activation": "responsibility (default of natural: densities normalised across units) "
        "or density (the only activation of sgd)",
        "units_per_category": "Gaussian units per category (M)",
        "generative": "weight of the generative term -log p(x | own category's units) "
        "(default 1 for natural, 0 for sgd)",
        "sd_band": "band of the units' standard deviations along every principal axis, in "
        "(standardised) stimulus units; eigenvalues lie in [min^2, max^2] (default (0.1, 3) "
        "for natural, (0.01, 2) for sgd)",
        "momentum": "SGD momentum (update=sgd only; the original model used 0.3)",
        "covariance": "spectral (bounded default), log-cholesky, or full (original, can fail); "
        "update=sgd only",
        "init_means": "explicit starting means (J x D), overriding the documented rule",
        "init_sd": "explicit starting standard deviation, overriding the documented rule",
    }

    def _check_settings(self) -> None:
        s = self.settings
        update = s["update"]
        if update not in RULE_DEFAULTS:
            raise SettingsError(f"update must be natural or sgd, got {update!r}")
        for key, value in RULE_DEFAULTS[update].items():
            if s[key] is None:
                s[key] = value
        if int(s["units_per_category"]) < 1:
            raise SettingsError("units_per_category must be at least 1")
        if float(s["generative"]) < 0:
            raise SettingsError(f"generative weight must be >= 0, got {s['generative']}")
        band = tuple(float(v) for v in s["sd_band"])
        if len(band) != 2 or not 0 < band[0] < band[1]:
            raise SettingsError(f"sd_band takes two numbers 0 < min < max, got {s['sd_band']}")
        s["sd_band"] = band
        if s["activation"] not in ("responsibility", "density"):
            raise SettingsError(
                f"activation must be responsibility or density, got {s['activation']!r}"
            )
        if update == "natural":
            self._only_default("momentum", "covariance", update=update)
            self.rule = NaturalRule(s)
        else:
            if not 0.0 <= float(s["momentum"]) < 1.0:
                raise SettingsError(f"momentum must be in [0, 1), got {s['momentum']}")
            if s["activation"] != "density":
                raise SettingsError("update=sgd has density activations only")
            self.rule = SgdRule(s)
        # the temperature's box depends on the scale of the rule's logits
        self.temperature_param = self.rule.temperature

    def _only_default(self, *names: str, update: str) -> None:
        for name in names:
            if self.settings[name] != self.default_settings[name]:
                raise SettingsError(
                    f"{name} is not a setting of update={update} (see `catmodel models`)"
                )

    @property
    def cov(self):
        """The covariance parameterisation of the ``sgd`` rule."""
        return self.rule.cov

    @property
    def units_per_category(self) -> int:
        return int(self.settings["units_per_category"])

    def unit_category(self, n_categories: int, device=None) -> torch.Tensor:
        return unit_category(n_categories, self.units_per_category, device)

    def start_means_and_sd(self, batch):
        """Starting means (J, D) and standard deviation of the units (the rule's own rule)."""
        return self.rule.start(batch)

    def mean_box(self, batch):
        return mean_box(batch)

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        return self.rule.learning_params()

    # --- the learner ------------------------------------------------------------------
    def init_state(self, batch, index, values) -> State:
        return self.rule.init_state(batch, index, values)

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        return self.rule.step(state, t, x, feedback, values)

    def kernel_logits(self, batch, index, values):
        return self.rule.kernel_logits(batch, index, values)

    def describe_state(self, state: State, index: int) -> dict:
        return self.rule.describe_state(state, index)

    def own_probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        # the natural rule's outputs with responsibilities are the probabilities p_k themselves
        if isinstance(self.rule, NaturalRule) and self.rule.responsibility:
            return logits
        return torch.softmax(logits, -1)
