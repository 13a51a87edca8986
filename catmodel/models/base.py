"""What every model declares: its parameters, its settings, and a pure batched step function.

A model is a short subclass of :class:`Model`. It states its learning parameters (with bounds,
scale and defaults), its fixed settings, how a learner's state starts, and one trial's update::

    state, logits = model.step(state, t, x_t, feedback_t, values)

``logits`` are the model's response strengths *before* trial ``t``'s feedback; the shared choice
rule (:mod:`catmodel.models.choice`) turns them into response probabilities with the choice
temperature and lapse, which never enter the learner's own update. The same step function is used
for the likelihood, for gradients through the trajectory, and for simulation, so these can never
disagree. A model may also provide a compiled CPU kernel of the same rollout (``kernel_logits``);
the contract tests check it against the step function to 1e-10.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch

from catmodel.errors import SettingsError

#: a learner state: a NamedTuple of tensors (or of tuples of tensors), one per model
State = tuple


def map_state(fn, state):
    """``state`` with ``fn`` applied to every tensor in it (nested tuples keep their types)."""
    if isinstance(state, torch.Tensor):
        return fn(state)
    items = [map_state(fn, s) for s in state]
    return type(state)(*items) if hasattr(state, "_fields") else tuple(items)


def state_tensors(state) -> list[torch.Tensor]:
    """Every tensor of a state, depth first (for comparisons and checks)."""
    if isinstance(state, torch.Tensor):
        return [state]
    return [t for s in state for t in state_tensors(s)]


#: model roles: learning models join the default lists of studies that compare learners;
#: response-only models (fitted to responses, learning nothing) are used only when named
LEARNING = "learning"
RESPONSE_ONLY = "response-only"
ROLES = (LEARNING, RESPONSE_ONLY)


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes
    ----------
    name
        Name used on the command line, in result tables and in ``values`` dictionaries.
    default
        Natural-scale value used when the parameter is fixed and for simulation defaults.
    lower, upper
        Natural-scale bounds of the fitting box.
    scale
        ``"log"`` (rates, temperatures, sensitivities: searched, reported and summarised on the
        log10 scale), ``"linear"`` or ``"logit"`` (probabilities).
    free
        Whether the parameter is fitted by default (``lapse``, for example, is not).
    generating
        Natural-scale box that recovery studies draw true values from: a box where learning
        curves are neither instant nor flat. ``None`` means the fitting box.
    doc
        One line for ``catmodel models`` and the docs.
    """

    name: str
    default: float
    lower: float
    upper: float
    scale: str = "log"
    free: bool = True
    generating: tuple[float, float] | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.scale not in ("log", "linear", "logit"):
            raise ValueError(f"unknown scale {self.scale!r} for parameter {self.name}")
        if not self.lower <= self.default <= self.upper:
            raise ValueError(f"default of {self.name} lies outside its bounds")

    def to_scale(self, value):
        """Natural value -> the scale coordinate (log10, identity or logit)."""
        v = np.asarray(value, dtype=float)
        if self.scale == "log":
            return np.log10(v)
        if self.scale == "logit":
            return np.log(v) - np.log1p(-v)
        return v

    def from_scale(self, coord):
        """The scale coordinate -> natural value."""
        c = np.asarray(coord, dtype=float)
        # far ends (e.g. of a Wald interval with a huge standard error) map to inf or 0
        with np.errstate(over="ignore"):
            if self.scale == "log":
                return 10.0**c
            if self.scale == "logit":
                return 1.0 / (1.0 + np.exp(-c))
        return c

    @property
    def scale_bounds(self) -> tuple[float, float]:
        return float(self.to_scale(self.lower)), float(self.to_scale(self.upper))

    @property
    def generating_box(self) -> tuple[float, float]:
        return self.generating if self.generating is not None else (self.lower, self.upper)

    def with_bounds(self, lower: float | None = None, upper: float | None = None) -> Param:
        lo = self.lower if lower is None else float(lower)
        hi = self.upper if upper is None else float(upper)
        if not lo < hi:
            raise SettingsError(f"bounds of {self.name}: lower {lo} must be below upper {hi}")
        default = min(max(self.default, lo), hi)
        generating = self.generating
        if generating is not None:  # a narrower box narrows where recovery studies draw from
            generating = (min(max(generating[0], lo), hi), max(min(generating[1], hi), lo))
        return replace(self, lower=lo, upper=hi, default=default, generating=generating)


TEMPERATURE = Param(
    "temperature",
    default=0.3,
    lower=1e-2,
    upper=10.0,
    scale="log",
    doc="choice temperature: P(k) = softmax(logits / temperature)",
)
LAPSE = Param(
    "lapse",
    default=0.01,
    lower=1e-4,
    upper=0.5,
    scale="logit",
    free=False,
    doc="share of responses made at random (fixed unless freed with --free lapse)",
)


def make_temperature(
    lower: float, upper: float, default: float, generating: tuple[float, float]
) -> Param:
    """The shared temperature with a model's own box (its logits have their own scale)."""
    return replace(TEMPERATURE.with_bounds(lower, upper), default=default, generating=generating)


class Model:
    """Base class of all learning models.

    Constructors only store settings (as in scikit-learn), so a model can be cloned and
    re-configured for cross-validation and recovery loops: ``model.with_settings(momentum=.3)``.

    Subclasses set ``name``, ``summary``, ``default_settings`` and implement
    :meth:`learning_params`, :meth:`init_state` and :meth:`step`.
    """

    name: str = ""
    summary: ClassVar[str] = ""
    #: :data:`LEARNING` or :data:`RESPONSE_ONLY` (see :mod:`catmodel.models.registry`)
    role: ClassVar[str] = LEARNING
    default_settings: ClassVar[dict[str, Any]] = {}
    #: documented per setting, shown by ``catmodel models``
    setting_docs: ClassVar[dict[str, str]] = {}
    #: models whose responses are scaled by the shared temperature (all but guessing)
    has_temperature: ClassVar[bool] = True
    #: the temperature's box, default and generating box for this model's logits, whose scale
    #: differs between models (see :func:`make_temperature`)
    temperature_param: ClassVar[Param] = TEMPERATURE

    def __init__(self, **settings: Any) -> None:
        unknown = sorted(set(settings) - set(self.default_settings))
        if unknown:
            known = ", ".join(sorted(self.default_settings)) or "none"
            raise SettingsError(
                f"model {self.name!r} has no setting {unknown[0]!r} (settings: {known})"
            )
        merged = copy.deepcopy(self.default_settings)
        merged.update(settings)
        self.settings: dict[str, Any] = merged
        self._check_settings()

    def _check_settings(self) -> None:
        """Validate ``self.settings``; raise :class:`SettingsError` on a bad value."""

    def _flag(self, name: str) -> bool:
        """The on/off setting ``name``; raise :class:`SettingsError` unless it is a bool."""
        value = self.settings[name]
        if not isinstance(value, (bool, np.bool_)):
            raise SettingsError(f"{name} must be true or false, got {value!r}")
        return bool(value)

    def with_settings(self, **settings: Any) -> Model:
        """A new model of the same kind (and name) with some settings changed."""
        merged = {**self.settings, **settings}
        clone = type(self)(**merged)
        clone.name = self.name
        return clone

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.settings.items() if self.default_settings.get(k) != v}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        """Parameters of the learner itself (everything but the choice rule)."""
        raise NotImplementedError

    def choice_params(self) -> list[Param]:
        """Parameters of the shared choice rule: temperature (free) and lapse (fixed)."""
        return [self.temperature_param, LAPSE] if self.has_temperature else []

    def params(self, n_features: int, n_categories: int) -> list[Param]:
        """All parameters, learning first, then the choice rule's."""
        return self.learning_params(n_features, n_categories) + self.choice_params()

    # --- the learner ------------------------------------------------------------------
    def init_state(self, batch, index: torch.Tensor, values: Mapping[str, torch.Tensor]) -> State:
        """Starting state of every learner.

        Parameters
        ----------
        batch
            The :class:`~catmodel.data.TrialBatch` being run.
        index
            Long tensor (L,): the batch row whose trials learner ``l`` sees. Many learners can
            share a row (one participant under many candidate parameter vectors).
        values
            Natural-scale parameter values, each a tensor (L,).
        """
        raise NotImplementedError

    def step(
        self,
        state: State,
        t: int,
        x: torch.Tensor,
        feedback: torch.Tensor,
        values: Mapping[str, torch.Tensor],
    ) -> tuple[State, torch.Tensor]:
        """One trial: logits before feedback, then learning from the feedback.

        Parameters
        ----------
        state
            The learners' state before trial ``t``.
        t
            Trial position (0-based), for models that keep a memory indexed by trial.
        x
            Stimuli (L, D) of trial ``t``.
        feedback
            Long (L,): feedback label index, or ``-1`` where there is nothing to learn (no
            feedback, or a padded trial). Such trials leave the state unchanged.
        values
            Natural-scale parameter values, each (L,).

        Returns
        -------
        state, logits
            The state after trial ``t`` and the logits (L, K) computed before the update.
        """
        raise NotImplementedError

    def kernel_logits(self, batch, index: np.ndarray, values: Mapping[str, np.ndarray]):
        """Logits (L, T, K) of the whole rollout from a compiled CPU kernel, or ``None``.

        ``None`` (the default) means "no kernel for these settings": the rollout then runs the
        step function. A kernel must agree with :meth:`step` to 1e-10.
        """
        return None

    def describe_state(self, state: State, index: int) -> dict:
        """Human-readable pieces of one learner's state (for plots); models may override."""
        return {}

    def own_probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """The learner's own category probabilities from its outputs (for plots): the softmax,
        unless a model's outputs are probabilities already."""
        return torch.softmax(logits, -1)


def natural_log_2pi() -> float:
    return math.log(2.0 * math.pi)
