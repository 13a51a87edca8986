"""How often the confidence intervals contain the true parameters: prints one JSON object.

For each model, participants are simulated on a design (default ``ii``: two overlapping
bivariate normal categories, best possible accuracy .84, where behaviour stays probabilistic
as in information-integration experiments) with true parameters drawn uniformly over the
model's generating box (scale coordinates: log10 for rates and temperatures), with a fixed
seed. They are fitted once with the defaults of ``catmodel fit``; the Wald intervals come from
that fit's standard errors, the profile-likelihood intervals (``fit``'s default) are computed
from the same fit (and timed on their own). Per method, model and parameter it reports

* ``coverage``: the share of participants whose interval contains the true value, on the
  scale the parameter is searched on; an interval left empty (the estimate at a bound of the
  box, or, for Wald, a Hessian that is not positive definite) counts as a miss;
* ``empty``: the share of empty intervals;
* ``median_width``: the median width of the intervals that are not empty (scale coordinates).

``coverage`` holds the default (profile) method's shares, ``coverage_by_method`` both methods'.
Without ``--quick`` the same study also runs on the demo's task (``two-gaussian``, best
possible accuracy .999), reported under ``other_designs``: there behaviour saturates, many
likelihoods are flat around their optimum, and the intervals say more about saturation than
about calibration.
A well-calibrated 95% interval covers about 95% of participants (the binomial standard error
of a share near .95 over 300 participants is about .013).

Usage::

    python benchmarks/coverage.py            # 300 participants per model, ii and two-gaussian
    python benchmarks/coverage.py --quick    # the same 300 participants, ii only
    python benchmarks/coverage.py --design two-gaussian --quick   # another design only
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from catmodel.compare.recovery import simulate_participants
from catmodel.fitting.fit import bound_mask, fit, intervals_at
from catmodel.fitting.intervals import Intervals
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.result import ModelFit
from catmodel.models.registry import get_model

MODELS = ("gaussian", "prototype", "exemplar")
#: the default design (``--design`` picks another) and the one the full run adds
DESIGN = "ii"
OTHER_DESIGN = "two-gaussian"
METHODS = ("wald", "profile")
#: ``catmodel fit``'s default interval
DEFAULT_METHOD = "profile"


def interval_summary(intervals: Intervals, true_scale: np.ndarray, names: list[str]) -> dict:
    """Per parameter: coverage, share of empty intervals and median width.

    Parameters
    ----------
    intervals
        Interval ends (P, F) in scale coordinates; NaN where an interval is empty.
    true_scale
        (P, F) the true values in the same coordinates.
    names
        The F parameter names.
    """
    empty = np.isnan(intervals.low) | np.isnan(intervals.high)
    # NaN compares False: an empty interval is a miss
    covered = (intervals.low <= true_scale) & (true_scale <= intervals.high)
    width = np.where(empty, np.nan, intervals.high - intervals.low)
    out = {}
    for j, name in enumerate(names):
        finite = width[:, j][~empty[:, j]]
        out[name] = {
            "coverage": round(float(np.mean(covered[:, j])), 3),
            "empty": round(float(np.mean(empty[:, j])), 3),
            "median_width": round(float(np.median(finite)), 3) if len(finite) else None,
        }
    return out


def study(
    name: str,
    n_participants: int,
    n_trials: int,
    seed: int,
    methods: tuple[str, ...] = METHODS,
    level: float = 0.95,
    design: str = DESIGN,
) -> dict:
    """Simulate, fit and summarise the intervals of one model (see the module docstring).

    Returns
    -------
    dict
        ``{"methods": {method: interval_summary(...)}, "seconds": {...}, "fits": {...}}``:
        the summaries, the time the fit and each extra interval method took, and the shares
        of fits that converged, have a positive definite Hessian, and sit at a bound.
    """
    model = get_model(name)
    _, batch, true = simulate_participants(model, design, n_participants, n_trials, seed=seed)
    t0 = time.perf_counter()
    f = fit(batch, [model], seed=seed, ci="wald", ci_level=level).fits[0]
    seconds = {"fit": round(time.perf_counter() - t0, 1)}
    true_scale = f.pset.natural_to_scale(true)
    found = {"wald": f.intervals}
    for method in methods:
        if method not in found:
            t0 = time.perf_counter()
            found[method] = other_intervals(f, batch, method, level)
            seconds[method] = round(time.perf_counter() - t0, 1)
    return {
        "methods": {m: interval_summary(found[m], true_scale, f.pset.free_names) for m in methods},
        "seconds": seconds,
        "fits": {
            "converged": round(float(np.mean(f.converged.fillna(False))), 3),
            "hessian_pd": round(float(np.mean(f.se_ok)), 3),
            "at_bound": round(float(np.mean([bool(b) for b in f.at_bound])), 3),
        },
    }


def other_intervals(f: ModelFit, batch, method: str, level: float) -> Intervals:
    """Intervals of another method at the same fit (the same estimates and errors)."""
    objective = Objective(f.model, batch, f.pset)
    mask = bound_mask(f.pset, f.at_bound)
    out = intervals_at(objective, f.scale, f.nll, f.se, mask, method, level)
    if out is None:
        raise ValueError(f"no intervals for method {method!r}")
    return out


def report(per_model: dict[str, dict], methods: tuple[str, ...]) -> dict:
    """The printed JSON's tables from each model's :func:`study`."""

    def table(method: str, key: str) -> dict:
        return {
            name: {p: s[key] for p, s in result["methods"][method].items()}
            for name, result in per_model.items()
        }

    return {
        "coverage": table(DEFAULT_METHOD, "coverage"),
        "coverage_by_method": {m: table(m, "coverage") for m in methods},
        "empty_by_method": {m: table(m, "empty") for m in methods},
        "median_width_by_method": {m: table(m, "median_width") for m in methods},
        "seconds": {name: result["seconds"] for name, result in per_model.items()},
        "fits": {name: result["fits"] for name, result in per_model.items()},
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--design", default=DESIGN, help=f"task design (default {DESIGN})")
    parser.add_argument(
        "--quick", action="store_true", help=f"the given design only (not also {OTHER_DESIGN})"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    t0 = time.perf_counter()

    def on(design: str) -> dict:
        per_model = {
            name: study(
                name, args.participants, args.trials, args.seed, METHODS, args.level, design
            )
            for name in names
        }
        return {"design": design, **report(per_model, METHODS)}

    first = on(args.design)
    others = [] if args.quick or args.design == OTHER_DESIGN else [on(OTHER_DESIGN)]
    out = {
        "participants": args.participants,
        "trials": args.trials,
        "seed": args.seed,
        "level": args.level,
        "methods": list(METHODS),
        "default_method": DEFAULT_METHOD,
        **first,
        "other_designs": {o["design"]: o for o in others},
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
