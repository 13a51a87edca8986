"""Decision-bound models of general recognition theory: response strategies that learn nothing.

A decision-bound model (Ashby & Gott, 1988; Maddox & Ashby, 1993) says that a participant
responds by the side of a bound ``h(x) = 0`` on which the percept falls. The percept is the
stimulus plus Gaussian perceptual noise, and the criterion carries criterial noise; for a linear
bound with unit normal both add to one Gaussian of standard deviation σ along the normal, so

    P(second category | x) = Φ(h(x) / σ),   P(first category | x) = Φ(-h(x) / σ),

with ``h`` the signed distance from the bound. ``noise`` (σ) is these models' response scaling
in place of the temperature; the shared lapse mixes in random responses as for every model
(``P = (1 - lapse) P_bound + lapse / 2``). The models (two categories only, see
:class:`DecisionBound`):

``ud_x1``, ``ud_x2``
    Unidimensional rule on one feature: ``h = x_d - criterion`` (setting ``above``: which
    category is responded above the criterion).
``cj``
    Conjunctive rule: one category is responded in a corner region
    ``{s1 (x1 - c1) > 0 and s2 (x2 - c2) > 0}`` (setting ``corner``: the signs ``s1 s2``;
    setting ``inside``: the category responded in the corner). With independent perceptual
    noise of SD σ on each feature, P(inside) = Φ(s1 (x1 - c1) / σ) Φ(s2 (x2 - c2) / σ), exactly.
``glc``
    General linear classifier: ``h = cos(θ) x1 + sin(θ) x2 - offset``: the second category is
    responded on the side the normal at ``angle`` θ (degrees) points to.
``gqc``
    General quadratic classifier: in the coordinates ``u = n·x - offset`` across and
    ``v = t·x - centre`` along a line at ``angle`` (normal ``n``, tangent ``t``), the bound is
    ``h = u + curve_along v² + curve_across u² = 0`` — a line bent into any conic whose axes lie
    along and across it, which with ``angle``, ``offset`` and ``centre`` spans every quadratic
    bound in the plane up to scale. No closed form exists for perceptual noise through a
    quadratic, so σ is criterial noise on ``h`` (as in GRT's quadratic classifiers).

Units. Parameters live in the units the models see: features standardised per data set (the
fitting default; ``catmodel strategies`` and ``catmodel fit`` standardise), so criteria and
offsets are z scores and σ is in SDs of the stimuli.

Boxes (fitting; generating, where recovery studies draw true values). Criteria, offsets, centre:
[-3, 3]; generating [-0.5, 0.5] (bounds through the middle of the stimuli; gqc's offset
excepted, below). ``noise``: log, [10^-2.5, 10^1]; generating [0.05, 0.3] (a simulated
participant agrees with its own bound on at least 83 % of the trials of the rb and ii designs,
as :func:`catmodel.compare.strategy_recovery.expected_accuracies` measures: .84-.99 over the
100 participants per strategy and design of the README's study). ``angle``:
[-180, 180] degrees; glc generating [20, 70] (at least 20° from both axes, else it is a
unidimensional rule; the second category up and to the right, as in the ii design).

gqc's generating box puts the parabola's axis along x1 (``angle`` [-20, 20]: at least 25° from
both diagonals) with its vertex 0.5-1 SD to the second category's side of the middle
(``offset`` [0.5, 1]), so the first category is responded inside a U whose two arms both run
through the stimuli; ``curve_along``: [-3, 3], generating [0.8, 1.5] (the arms 3 to 6 SDs back
at ±2 SDs along the line); ``curve_across``: [-3, 3], generating [-0.1, 0.1]; ``centre``
[-0.5, 0.5]. Why: an axis-aligned corner's axis is a diagonal, so a parabola with its axis on
the diagonal (the earlier box, angles [20, 70] and offsets [-0.5, 0.5]) was followed by a
corner on at least 97 % of the stimuli in most draws and taken for ``cj`` in about half of the
simulated blocks even with well-converged fits; an axis along x1 with the vertex at the middle
still was in a quarter of the ii blocks (a corner covering one arm), which the shifted vertex
removes. :func:`catmodel.compare.strategy_recovery.rule_agreement` measures how closely a line
or a corner follows a bound. The lapse is fixed at 0.01 unless freed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from catmodel.errors import SettingsError
from catmodel.models.base import LAPSE, RESPONSE_ONLY, Model, Param, State

#: the two categories' names in settings: the first and second label in sorted order
SIDES = ("first", "second")
#: corner signs of the conjunctive region, (sign on x1, sign on x2)
CORNERS = {"++": (1.0, 1.0), "+-": (1.0, -1.0), "-+": (-1.0, 1.0), "--": (-1.0, -1.0)}

NOISE = Param(
    "noise",
    default=0.2,
    lower=10**-2.5,
    upper=10.0,
    scale="log",
    generating=(0.05, 0.3),
    doc="σ: SD of the perceptual plus criterial noise (standardised stimulus units)",
)


def _criterion(name: str, doc: str) -> Param:
    return Param(name, 0.0, -3.0, 3.0, "linear", generating=(-0.5, 0.5), doc=doc)


ANGLE = Param(
    "angle",
    default=45.0,
    lower=-180.0,
    upper=180.0,
    scale="linear",
    generating=(20.0, 70.0),
    doc="orientation (degrees) of the bound's normal, which points to the second category",
)
#: gqc's generating angles: the parabola's axis within 20 degrees of the x1 axis, so at least
#: 25 degrees from the diagonals, where a conjunction's corner has its axis (see the module
#: docs; the fitting box is glc's)
GQC_ANGLE = replace(ANGLE, generating=(-20.0, 20.0))
#: gqc's generating offsets: the vertex 0.5-1 SD on the second category's side of the middle,
#: so that both arms of the U run through the stimuli
GQC_OFFSET = (0.5, 1.0)


class BoundState(NamedTuple):
    """No state: a zero tensor per learner (decision-bound models do not learn)."""

    shape: torch.Tensor  #: (L, 2) zeros


def _log_phi(z: torch.Tensor) -> torch.Tensor:
    """log Φ(z), accurate in both tails (and differentiable)."""
    return torch.special.log_ndtr(z)


class DecisionBound(Model):
    """Base class: a fixed bound, probit responses, the shared lapse; two categories only.

    Subclasses set ``name``, ``summary`` and implement :meth:`bound_params` and
    :meth:`log_probs`.
    """

    role = RESPONSE_ONLY
    has_temperature = False
    #: the features a model reads (1-based); the data must have at least this many
    n_features_needed: ClassVar[int] = 2
    #: the fewest local refinements :func:`~catmodel.compare.strategies.fit_strategies`
    #: gives the model, whatever ``starts`` asks for (see :class:`GeneralQuadratic`)
    min_starts: ClassVar[int] = 1

    def bound_params(self) -> list[Param]:
        """Parameters of the bound (σ included)."""
        raise NotImplementedError

    def log_probs(self, x: torch.Tensor, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Log response probabilities (..., 2) before the lapse.

        Parameters
        ----------
        x
            Stimuli (L, ..., D) in model units.
        values
            Parameter values, each (L,); broadcast over the stimuli's middle dimensions.
        """
        raise NotImplementedError

    # --- Model interface ---------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        if n_categories != 2:
            raise SettingsError(
                f"model {self.name!r} needs two categories, the data have {n_categories} "
                "(fit the decision-bound models to two-category data or conditions)"
            )
        if n_features < self.n_features_needed:
            raise SettingsError(
                f"model {self.name!r} needs at least {self.n_features_needed} features, "
                f"the data have {n_features}"
            )
        return self.bound_params()

    def choice_params(self) -> list[Param]:
        # σ scales the responses, so there is no temperature; the lapse is shared
        return [LAPSE]

    def init_state(self, batch, index, values) -> State:
        return BoundState(torch.zeros((len(index), 2), dtype=batch.x.dtype, device=batch.x.device))

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        return state, self.log_probs(x, values)

    def kernel_logits(self, batch, index, values):
        # the same torch expression over all trials at once (no learning: trials are
        # independent), so the "kernel" cannot disagree with the step function
        if batch.x.dtype != torch.float64:
            return None
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        x = batch.x[idx]
        vals = {
            k: torch.as_tensor(np.asarray(v, dtype=np.float64)).expand(len(idx))
            for k, v in values.items()
        }
        with torch.no_grad():
            logits = self.log_probs(x, vals)
        present = torch.arange(batch.max_trials)[None, :] < batch.n_trials[idx][:, None]
        return torch.where(present[..., None], logits, torch.zeros_like(logits)).numpy()

    @staticmethod
    def _per_learner(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """A value (L,) or (L, 1) shaped to broadcast against ``x[..., d]`` (L, ...)."""
        v = torch.as_tensor(v, dtype=x.dtype, device=x.device)
        return v.reshape(v.shape[0], *([1] * (x.dim() - 2))) if v.dim() else v

    def _vals(self, x: torch.Tensor, values, names) -> list[torch.Tensor]:
        return [self._per_learner(values[n], x) for n in names]

    def probit(self, h: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Log probabilities (..., 2) of (first, second) from the signed distance ``h``."""
        z = h / noise
        return torch.stack([_log_phi(-z), _log_phi(z)], -1)

    def bound_function(self, values: Mapping[str, float]):
        """``h(x)`` for one parameter vector, as a function of (N, 2) points in model units
        (for drawing the bound: its zero level set)."""

        def h(points: np.ndarray) -> np.ndarray:
            x = torch.as_tensor(np.asarray(points, dtype=np.float64))[None]
            vals = {k: torch.tensor([float(v)], dtype=torch.float64) for k, v in values.items()}
            lp = self.log_probs(x, vals)[0]
            # the log odds of the second category: zero on the bound, its sign the side
            return (lp[:, 1] - lp[:, 0]).numpy()

        return h


class Unidimensional(DecisionBound):
    """A criterion on one feature: the second (or first) category above it."""

    feature: ClassVar[int] = 1
    default_settings: ClassVar[dict] = {"above": "second"}
    setting_docs: ClassVar[dict] = {
        "above": "category responded above the criterion: first or second (label order)",
    }

    def _check_settings(self) -> None:
        if self.settings["above"] not in SIDES:
            raise SettingsError(f"above must be first or second, got {self.settings['above']!r}")

    @property
    def n_features_needed(self) -> int:  # type: ignore[override]
        return self.feature

    def bound_params(self) -> list[Param]:
        return [_criterion("criterion", f"criterion on x{self.feature} (z units)"), NOISE]

    def log_probs(self, x, values):
        c, noise = self._vals(x, values, ("criterion", "noise"))
        h = x[..., self.feature - 1] - c
        if self.settings["above"] == "first":
            h = -h
        return self.probit(h, noise)


def unidimensional(feature: int) -> type[Unidimensional]:
    """The unidimensional model class on feature ``feature`` (1-based), named ``ud_x<d>``."""
    return type(
        f"UnidimensionalX{feature}",
        (Unidimensional,),
        {
            "name": f"ud_x{feature}",
            "feature": feature,
            "summary": f"decision bound: unidimensional rule on x{feature} (criterion, noise)",
        },
    )


class Conjunctive(DecisionBound):
    """A conjunction of criteria on x1 and x2: one category in a corner, the other outside."""

    name = "cj"
    summary = "decision bound: conjunctive rule on x1 and x2 (two criteria, noise)"
    default_settings: ClassVar[dict] = {"corner": "++", "inside": "second"}
    setting_docs: ClassVar[dict] = {
        "corner": "signs of the corner region on (x1, x2): ++ (both above), +-, -+ or --",
        "inside": "category responded inside the corner: first or second (label order)",
    }

    def _check_settings(self) -> None:
        if self.settings["corner"] not in CORNERS:
            raise SettingsError(
                f"corner must be one of {', '.join(CORNERS)}, got {self.settings['corner']!r}"
            )
        if self.settings["inside"] not in SIDES:
            raise SettingsError(f"inside must be first or second, got {self.settings['inside']!r}")

    def bound_params(self) -> list[Param]:
        return [
            _criterion("criterion_x1", "criterion on x1 (z units)"),
            _criterion("criterion_x2", "criterion on x2 (z units)"),
            NOISE,
        ]

    def log_probs(self, x, values):
        c1, c2, noise = self._vals(x, values, ("criterion_x1", "criterion_x2", "noise"))
        s1, s2 = CORNERS[self.settings["corner"]]
        a1 = s1 * (x[..., 0] - c1) / noise
        a2 = s2 * (x[..., 1] - c2) / noise
        inside = _log_phi(a1) + _log_phi(a2)
        # 1 - Φ(a1) Φ(a2) = Φ(-a1) + Φ(a1) Φ(-a2): a sum of positive terms, exact in the tails
        outside = torch.logaddexp(_log_phi(-a1), _log_phi(a1) + _log_phi(-a2))
        pair = (outside, inside) if self.settings["inside"] == "second" else (inside, outside)
        return torch.stack(pair, -1)


class GeneralLinear(DecisionBound):
    """A linear bound of any orientation through the plane of x1 and x2."""

    name = "glc"
    summary = "decision bound: general linear classifier on x1, x2 (angle, offset, noise)"
    default_settings: ClassVar[dict] = {}
    setting_docs: ClassVar[dict] = {}

    def bound_params(self) -> list[Param]:
        return [ANGLE, _criterion("offset", "signed distance of the bound from the origin"), NOISE]

    def log_probs(self, x, values):
        angle, offset, noise = self._vals(x, values, ("angle", "offset", "noise"))
        theta = angle * (math.pi / 180.0)
        h = torch.cos(theta) * x[..., 0] + torch.sin(theta) * x[..., 1] - offset
        return self.probit(h, noise)


class GeneralQuadratic(DecisionBound):
    """A quadratic bound: a line at ``angle`` bent along and across itself."""

    name = "gqc"
    summary = "decision bound: general quadratic classifier on x1, x2 (6 parameters)"
    default_settings: ClassVar[dict] = {}
    setting_docs: ClassVar[dict] = {}
    # its likelihood has several separated optima, and 3 starts over six parameters miss the
    # best: on 200 simulated 100-trial blocks (100 per design) drawn over the generating box,
    # 3 starts stopped more than 1 nat above the generating parameters' NLL in 22 (up to 9.8
    # nats), 10 starts in 2 (up to 3.6); ud_x1, cj and glc fits reach it with 3 starts (40
    # blocks per design, none above)
    min_starts: ClassVar[int] = 10

    def bound_params(self) -> list[Param]:
        return [
            GQC_ANGLE,
            replace(
                _criterion("offset", "distance of the bound's vertex line from the origin"),
                generating=GQC_OFFSET,
            ),
            _criterion("centre", "position of the bend along the line"),
            Param(
                "curve_along",
                0.3,
                -3.0,
                3.0,
                "linear",
                generating=(0.8, 1.5),
                doc="curvature along the line (the coefficient of v²)",
            ),
            Param(
                "curve_across",
                0.0,
                -3.0,
                3.0,
                "linear",
                generating=(-0.1, 0.1),
                doc="curvature across the line (the coefficient of u²)",
            ),
            NOISE,
        ]

    def log_probs(self, x, values):
        names = ("angle", "offset", "centre", "curve_along", "curve_across", "noise")
        angle, offset, centre, along, across, noise = self._vals(x, values, names)
        theta = angle * (math.pi / 180.0)
        cos, sin = torch.cos(theta), torch.sin(theta)
        u = cos * x[..., 0] + sin * x[..., 1] - offset
        v = -sin * x[..., 0] + cos * x[..., 1] - centre
        return self.probit(u + along * v * v + across * u * u, noise)


#: the decision-bound model classes the registry adds, in the order strategies lists them
MODELS: tuple[type[DecisionBound], ...] = (
    unidimensional(1),
    unidimensional(2),
    Conjunctive,
    GeneralLinear,
    GeneralQuadratic,
)
