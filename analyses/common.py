"""Shared pieces of the analysis scripts: paths, options, and running a fit into a folder."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
DEFAULT_OUT = REPO / "results" / "report"
MODELS = ("gaussian", "prototype", "exemplar", "alcove", "niw", "guessing")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a tiny subset (what CI runs): few participants, trials and starts",
    )
    p.add_argument("--seed", type=int, default=0)
    return p


def shared(name: str) -> Path | None:
    """The shared data set folder ``name``, or None (with a note) when it is absent."""
    path = SHARED / name
    if not path.exists():
        print(f"skipped: {path} is absent (the shared data sets are not in this checkout)")
        return None
    return path


def fit_into(
    folder: Path,
    table,
    models,
    *,
    starts: int,
    candidates: int | None,
    seed: int,
    ci: str | None = "profile",
):
    """Fit ``models`` to ``table`` and write a results folder (as ``catmodel fit`` does).

    ``ci`` is :func:`catmodel.fitting.fit.fit`'s interval method (None: none, which saves the
    profile intervals' cost where an analysis does not report them).
    """
    from catmodel.cli.common import build_models
    from catmodel.fitting.fit import fit
    from catmodel.results import write_fit_folder

    model_list = build_models(",".join(models), {})
    batch = table.to_batch()
    t0 = time.perf_counter()
    result = fit(batch, model_list, starts=starts, candidates=candidates, seed=seed, ci=ci)
    seconds = time.perf_counter() - t0
    write_fit_folder(folder, table, batch, result, {"seconds": round(seconds, 1)})
    print(f"fitted {', '.join(models)} to {table.n_learners} learners in {seconds:.0f} s")
    return result


def fit_and_forward_cv(batch, model, *, starts: int, seed: int, ci=None, **overrides):
    """One model's maximum-likelihood fit and its forward cross-validation (fit blocks 1..b,
    predict block b + 1), every fold refitted with the fit's own parameter set.

    ``overrides`` (``fix``, ``bounds``) go to :func:`catmodel.fitting.fit.fit`. Returns the
    :class:`~catmodel.fitting.result.ModelFit` and the per-participant held-out table.
    """
    from catmodel.compare.crossval import cross_validate
    from catmodel.fitting.fit import fit

    f = fit(batch, [model], starts=starts, seed=seed, ci=ci, **overrides).fits[0]
    cv = cross_validate(
        batch,
        [model],
        scheme="forward",
        starts=starts,
        seed=seed,
        parameter_sets={model.name: f.pset},
    )
    return f, cv


def markdown_table(frame, floatfmt: str = ".3f") -> str:
    """A pipe table of a DataFrame (no tabulate dependency)."""
    cols = list(frame.columns)
    lines = [
        "| " + " | ".join(str(c) for c in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append("—" if v != v else format(v, floatfmt))  # NaN: not measured
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
