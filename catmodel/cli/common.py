"""Shared command-line pieces: key=value lists, model options, threads, run records."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from catmodel.errors import SettingsError


def parse_assignments(text: str | None, option: str) -> dict[str, str]:
    """``"a=1,b=2"`` -> ``{"a": "1", "b": "2"}`` (repeated options are joined by the caller)."""
    out: dict[str, str] = {}
    if not text:
        return out
    for item in split_top_level(text):
        if "=" not in item:
            raise SettingsError(f"{option}: expected name=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets (so ``sd_band=(0.01,2)`` stays whole)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def to_number(value: str, option: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise SettingsError(f"{option}: {name} must be a number, got {value!r}") from None


def parse_fix(text_list: list[str] | None) -> dict[str, float]:
    """``--fix lr_cov=0.01`` (repeatable, comma lists allowed) -> natural values."""
    out: dict[str, float] = {}
    for text in text_list or []:
        for k, v in parse_assignments(text, "--fix").items():
            out[k] = to_number(v, "--fix", k)
    return out


def parse_bounds(text_list: list[str] | None) -> dict[str, tuple[float | None, float | None]]:
    """``--bounds lr_w=0.01:1`` (either side may be empty) -> natural-scale bounds."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for text in text_list or []:
        for k, v in parse_assignments(text, "--bounds").items():
            if ":" not in v:
                raise SettingsError(f"--bounds: expected {k}=lower:upper, got {k}={v}")
            lo, hi = v.split(":", 1)
            out[k] = (
                to_number(lo, "--bounds", k) if lo else None,
                to_number(hi, "--bounds", k) if hi else None,
            )
    return out


def parse_setting_value(value: str):
    """A setting's value from text: number, bool, None, tuple of numbers, or a string."""
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if value.startswith(("(", "[")):
        inner = value.strip("()[]")
        return tuple(float(v) for v in inner.split(",") if v.strip())
    try:
        as_float = float(value)
    except ValueError:
        return value
    return (
        int(as_float) if as_float.is_integer() and "." not in value and "e" not in low else as_float
    )


def parse_settings(text_list: list[str] | None) -> dict[str, object]:
    """``--set update=sgd`` or ``--set gaussian.update=sgd`` -> {key: value}."""
    out: dict[str, object] = {}
    for text in text_list or []:
        for k, v in parse_assignments(text, "--set").items():
            out[k] = parse_setting_value(v)
    return out


def build_models(names: str, settings: dict[str, object]):
    """Model instances for ``--models`` with ``--set`` settings
    (:func:`catmodel.models.registry.build_models`)."""
    from catmodel.models import registry

    if not names.strip():
        raise SettingsError("--models: give at least one model name")
    return registry.build_models(names, settings)


def add_search_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Options of every command that fits: starts, candidates, seed, settings, threads."""
    g = parser.add_argument_group("fitting")
    g.add_argument(
        "--starts",
        type=int,
        default=5,
        help="local refinements per participant (default 5; at least 1), from search "
        "candidates in separated regions of the box: in order of NLL, a candidate becomes a "
        "start only if it differs from every start already chosen by at least a quarter of "
        "the box width in some searched coordinate (fewer starts where fewer such candidates "
        "exist). A fit has converged when the optimiser met its tolerance from the best start "
        "and another start reached the same NLL within 0.1; with one start convergence is "
        "unknown (empty in fits.csv)",
    )
    g.add_argument(
        "--candidates",
        type=int,
        default=None,
        help="quasi-random search candidates per participant (default: by the "
        "number of searched parameters, up to 2048)",
    )
    g.add_argument("--seed", type=int, default=0, help="seed: same seed, same numbers")
    g.add_argument(
        "--set",
        action="append",
        dest="settings",
        metavar="NAME=VALUE",
        help="model settings, e.g. --set update=sgd or --set gaussian.units_per_category=2",
    )
    g.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="CPU threads for the compiled rollouts (default: all cores)",
    )
    g.add_argument(
        "--method",
        choices=["ml", "eb"],
        default="ml",
        help="ml (default): maximum likelihood per participant; eb: empirical Bayes, a "
        "Gaussian population over each model's parameters on their search scale (log10 for "
        "rates) estimated by EM with Laplace approximations, MAP estimates shrunk towards "
        "it, posterior sds and a log model evidence per participant (needs at least 3 "
        "participants; the box only seeds the EM, a MAP may leave it)",
    )
    g.add_argument(
        "--population",
        choices=["full", "diagonal"],
        default="full",
        help="with --method eb: the population's covariance (default full; diagonal with "
        "fewer than 2 x (free parameters) participants whatever this says)",
    )
    g.add_argument(
        "--population-by",
        choices=["condition"],
        default=None,
        help="with --method eb: one population mean per condition (shared covariance), so "
        "that differences between conditions are estimated, not shrunk away",
    )
    return g


def check_search_options(args: argparse.Namespace) -> None:
    """Search options that are wrong whatever the data (``--starts`` below 1, an unknown
    ``--ci`` or a level outside (0, 1)): raised before anything is simulated, loaded or
    written."""
    from catmodel.fitting.fit import check_intervals, check_starts

    check_starts(args.starts)
    if hasattr(args, "ci"):
        check_intervals(args.ci, args.ci_level)
    if getattr(args, "method", "ml") == "ml":
        for option, value, default in (
            ("--population", getattr(args, "population", "full"), "full"),
            ("--population-by", getattr(args, "population_by", None), None),
        ):
            if value != default:
                raise SettingsError(f"{option} needs --method eb")


def add_fit_options(parser: argparse.ArgumentParser) -> None:
    """:func:`add_search_options` and the options only ``catmodel fit`` has: fixed and freed
    parameters, narrower boxes, the local optimiser."""
    g = add_search_options(parser)
    g.add_argument(
        "--fix",
        action="append",
        metavar="NAME=VALUE",
        help="hold parameters fixed, e.g. --fix lr_cov=0.01 (natural scale)",
    )
    g.add_argument(
        "--bounds",
        action="append",
        metavar="NAME=LO:HI",
        help="narrow a parameter's box, e.g. --bounds lr_w=0.1:10",
    )
    g.add_argument(
        "--free",
        action="append",
        default=[],
        metavar="NAME",
        help="fit a parameter that is fixed by default, e.g. --free lapse",
    )
    g.add_argument(
        "--ci",
        default="profile",
        metavar="{profile,wald,none}",
        help="confidence intervals of the free parameters, written to fits.csv as ci_low_<p> "
        "and ci_high_<p> (natural scale): profile (default; profile likelihood: where the NLL "
        "minimised over the other parameters rises chi2_1(level)/2 above its minimum; a side "
        "that reaches the box edge ends there and is named in ci_at_edge; costs refits, about "
        "as much again as the fit), wald (estimate ± z standard errors on the scale the "
        "parameter is searched on, at no extra cost, but less often calibrated) or none. A "
        "parameter at a bound of its box gets no interval and no standard error",
    )
    g.add_argument(
        "--ci-level",
        type=float,
        default=0.95,
        help="confidence level of the intervals (default 0.95)",
    )
    g.add_argument(
        "--refine",
        choices=["nelder-mead", "gradient"],
        default="nelder-mead",
        help="local optimiser (default nelder-mead, measured faster per unit of recovery accuracy)",
    )


def set_threads(jobs: int | None) -> None:
    """Use ``jobs`` threads in numba kernels and PyTorch (default: all cores)."""
    import numba
    import torch

    n = jobs or os.cpu_count() or 1
    if n < 1:
        raise SettingsError("--jobs must be at least 1")
    n = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    torch.set_num_threads(n)


def add_design_options(parser: argparse.ArgumentParser) -> None:
    """``--design-option NAME=VALUE`` (repeatable) for the design generators."""
    parser.add_argument(
        "--design-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a design option, e.g. rotation=45, or means/covs as JSON: "
        "'means=[[40,50],[60,50]]' (see catmodel.simulate.designs)",
    )


def parse_design_options(items: list[str]) -> dict[str, object]:
    """Design options from ``NAME=VALUE`` strings; JSON arrays become numpy arrays."""
    import numpy as np

    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise SettingsError(f"--design-option: expected name=value, got {item!r}")
        key, value = (v.strip() for v in item.split("=", 1))
        if value.startswith("["):
            try:
                out[key] = np.asarray(json.loads(value), dtype=float)
            except (ValueError, TypeError):
                raise SettingsError(f"--design-option {key}: not a JSON array: {value}") from None
        else:
            out[key] = parse_setting_value(value)
    return out


def check_out_folder(path: Path, option: str = "--out") -> Path:
    """Raise :class:`SettingsError` unless ``path`` is a folder or can be made one.

    Called before a command loads data or writes anything, so a mistyped ``--out`` costs
    seconds, not a whole fit. An existing folder is fine, empty or not (see
    :func:`catmodel.results.remove_stale_outputs` for what a new run removes there).
    """
    if os.path.lexists(path) and not path.is_dir():
        raise SettingsError(f"{option} {path}: exists and is not a folder (give a folder)")
    _check_writable_folder(path.absolute(), path, option)
    return path


def check_out_file(path: Path, option: str = "--out") -> Path:
    """Raise :class:`SettingsError` unless ``path`` can be written as a file (an existing
    file is replaced; an existing folder is refused)."""
    if path.is_dir():
        raise SettingsError(f"{option} {path}: is a folder (give a file name)")
    _check_writable_folder(path.absolute().parent, path, option)
    return path


def _check_writable_folder(folder: Path, path: Path, option: str) -> None:
    """``folder``, or the nearest of its parents that exists, must be a writable folder."""
    ancestor = next(p for p in (folder, *folder.parents) if os.path.lexists(p))
    if not ancestor.is_dir():
        raise SettingsError(f"{option} {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise SettingsError(f"{option} {path}: cannot write in {ancestor}")


def outputs_before_run(out: Path) -> list[str]:
    """The outputs an earlier run recorded in ``out``'s run.json (read before writing)."""
    from catmodel.results import recorded_outputs

    return recorded_outputs(out)


def clean_stale_outputs(out: Path, previous: list[str]) -> None:
    """Remove the recorded outputs of an earlier run that this run did not rewrite, and say
    how many (:func:`catmodel.results.remove_stale_outputs`)."""
    from catmodel.results import remove_stale_outputs as remove

    removed = remove(out, previous)
    if removed:
        files = "file" if len(removed) == 1 else "files"
        print(
            f"removed {len(removed)} stale {files} of an earlier run from {out}/ "
            "(recorded in its run.json; other files are kept)"
        )
