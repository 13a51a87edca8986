"""Which parameters are free, their boxes, and the maps between natural and search coordinates.

Three coordinate systems:

* **natural**: the value the model uses and users read (e.g. ``lr_mu = 0.003``);
* **scale**: log10 for log-scaled parameters, logit for probabilities, identity otherwise —
  quasi-random search is uniform here, and standard errors, r, bias and RMSE are reported here;
* **unconstrained**: ``logit((scale - lower) / (upper - lower))`` — optimisers move freely here
  and never leave the box.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from catmodel.errors import SettingsError
from catmodel.models.base import Model, Param

# keep unit coordinates off the exact box edges so the logit stays finite
_EDGE = 1e-12


@dataclass
class ParameterSet:
    """The parameters of one model on one data set, with the user's fixes and bounds applied.

    Parameters
    ----------
    params
        All parameters of the model for the data's numbers of features and categories.
    fixed
        Natural values of the parameters that are not fitted.
    """

    params: list[Param]
    fixed: dict[str, float] = field(default_factory=dict)

    @classmethod
    def for_model(
        cls,
        model: Model,
        n_features: int,
        n_categories: int,
        fix: Mapping[str, float] | None = None,
        bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
        free: Iterable[str] = (),
    ) -> ParameterSet:
        """Build the set from the model's declarations and the user's overrides.

        Parameters
        ----------
        fix
            ``{name: natural value}`` to hold fixed (``--fix lr_cov=0.01``).
        bounds
            ``{name: (lower, upper)}`` to narrow (either may be ``None``).
        free
            Names of parameters that are fixed by default but should be fitted
            (``--free lapse``).
        """
        fix = dict(fix or {})
        bounds = dict(bounds or {})
        free = set(free)
        params = model.params(n_features, n_categories)
        names = [p.name for p in params]
        for name in [*fix, *bounds, *free]:
            if name not in names:
                raise SettingsError(
                    f"model {model.name!r} has no parameter {name!r} "
                    f"(parameters: {', '.join(names)})"
                )
        both = set(fix) & free
        if both:
            raise SettingsError(f"parameter {sorted(both)[0]!r} is both fixed and freed")
        out: list[Param] = []
        fixed: dict[str, float] = {}
        for p in params:
            if p.name in bounds:
                lo, hi = bounds[p.name]
                p = p.with_bounds(lo, hi)
            is_free = (p.free or p.name in free) and p.name not in fix
            if p.name in fix:
                fixed[p.name] = float(fix[p.name])
            elif not is_free:
                fixed[p.name] = p.default
            out.append(p)
        return cls(out, fixed)

    # --- views ------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def free(self) -> list[Param]:
        return [p for p in self.params if p.name not in self.fixed]

    @property
    def free_names(self) -> list[str]:
        return [p.name for p in self.free]

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    # --- maps -------------------------------------------------------------------------
    def scale_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper box edges of the free parameters in scale coordinates."""
        b = np.array([p.scale_bounds for p in self.free], dtype=float).reshape(-1, 2)
        return b[:, 0], b[:, 1]

    def unit_to_scale(self, unit: np.ndarray) -> np.ndarray:
        lo, hi = self.scale_bounds()
        return lo + (hi - lo) * np.asarray(unit, dtype=float)

    def scale_to_unit(self, scale: np.ndarray) -> np.ndarray:
        lo, hi = self.scale_bounds()
        return (np.asarray(scale, dtype=float) - lo) / (hi - lo)

    def unconstrained_to_scale(self, z: np.ndarray) -> np.ndarray:
        # beyond |z| = 700 the logistic is 0 or 1 to double precision; clipping keeps exp finite
        z = np.clip(np.asarray(z, dtype=float), -700.0, 700.0)
        return self.unit_to_scale(1.0 / (1.0 + np.exp(-z)))

    def scale_to_unconstrained(self, scale: np.ndarray) -> np.ndarray:
        u = np.clip(self.scale_to_unit(scale), _EDGE, 1 - _EDGE)
        return np.log(u) - np.log1p(-u)

    def scale_to_natural(self, scale: np.ndarray) -> dict[str, np.ndarray]:
        """Natural values of all parameters (fixed ones broadcast) from free scale coords (n, F)."""
        scale = np.atleast_2d(np.asarray(scale, dtype=float))
        n = scale.shape[0]
        out: dict[str, np.ndarray] = {}
        free = {p.name: i for i, p in enumerate(self.free)}
        for p in self.params:
            if p.name in free:
                out[p.name] = np.asarray(p.from_scale(scale[:, free[p.name]]), dtype=float)
            else:
                out[p.name] = np.full(n, self.fixed[p.name], dtype=float)
        return out

    def natural_to_scale(self, natural: Mapping[str, np.ndarray]) -> np.ndarray:
        """Free scale coordinates (n, F) from natural values of (at least) the free parameters."""
        cols = [np.asarray(p.to_scale(natural[p.name]), dtype=float) for p in self.free]
        return np.stack(cols, -1) if cols else np.zeros((len(next(iter(natural.values()))), 0))

    def at_bound(self, scale: np.ndarray, tolerance: float = 1e-3) -> list[str]:
        """Names of free parameters within ``tolerance`` (share of the box width) of an edge."""
        unit = self.scale_to_unit(scale)
        return [
            p.name
            for p, u in zip(self.free, np.atleast_1d(unit), strict=True)
            if u < tolerance or u > 1 - tolerance
        ]

    def generating_scale_box(self) -> tuple[np.ndarray, np.ndarray]:
        """The generating box of the free parameters in scale coordinates."""
        lo = [float(p.to_scale(p.generating_box[0])) for p in self.free]
        hi = [float(p.to_scale(p.generating_box[1])) for p in self.free]
        return np.array(lo), np.array(hi)

    def describe(self) -> dict:
        """A JSON-able record of the boxes and fixed values (for run records)."""
        return {
            "free": {
                p.name: {"lower": p.lower, "upper": p.upper, "scale": p.scale} for p in self.free
            },
            "fixed": dict(self.fixed),
        }
