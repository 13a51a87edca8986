"""Units of work: one model fitted to one chunk of participants, and their results merged.

A long fit is cut into units (model x chunk of participants) so that each finished unit can
be saved as soon as it is done (:mod:`catmodel.fitting.checkpoint`) and units can be farmed
out to other processes or machines (:mod:`catmodel.fitting.scheduler`). Every step of a fit
works learner by learner — the search candidates are the same scrambled Sobol points for
everyone (the fit's only random numbers, drawn from the seed alone), the batched Nelder-Mead,
Hessian and profile intervals treat each row as its own problem, and a learner starts in the
same state whether fitted alone or with its data set (``TrialBatch.stim_mean`` and friends
are whole-data-set statistics) — so a learner's fit does not depend on which chunk it is in:
the merged result equals one fit of the whole batch, number for number (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from catmodel.errors import SettingsError
from catmodel.fitting.intervals import Intervals
from catmodel.fitting.result import ModelFit

#: participants per unit by default: small enough that an interrupted run loses little, large
#: enough that the batched search and refinement keep their speed
DEFAULT_CHUNK = 50


@dataclass(frozen=True)
class Unit:
    """One model (by position in the run's model list) and one chunk of learners."""

    model_index: int
    model_name: str
    chunk: int
    start: int
    stop: int

    @property
    def key(self) -> str:
        """A file-name-safe name, unique within a run."""
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.model_name)
        return f"m{self.model_index:03d}-{name}-c{self.chunk:05d}"

    @property
    def rows(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


def check_chunk_size(chunk_size) -> int:
    """``chunk_size`` as a whole number of at least 1, or :class:`SettingsError`."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
        raise SettingsError(f"--chunk-size must be a whole number, not {chunk_size!r}")
    if chunk_size < 1:
        raise SettingsError(f"--chunk-size must be at least 1, not {chunk_size}")
    return int(chunk_size)


def plan_units(model_names: Sequence[str], n_learners: int, chunk_size: int) -> list[Unit]:
    """Every unit of a run, model by model, chunks in learner order."""
    chunk_size = check_chunk_size(chunk_size)
    units = []
    for m, name in enumerate(model_names):
        for c, start in enumerate(range(0, max(n_learners, 1), chunk_size)):
            units.append(Unit(m, name, c, start, min(start + chunk_size, n_learners)))
    return units


def merge_fits(parts: Sequence[ModelFit]) -> ModelFit:
    """One model's fits to consecutive chunks of learners as one :class:`ModelFit`.

    Arrays are stacked in chunk order; ``start_nll`` is padded with NaN to the widest chunk
    (the width a single fit of all learners would have); seconds and evaluations add up.
    """
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    width = max(p.start_nll.shape[1] for p in parts)

    def stack(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts], axis=0)

    start_nll = np.concatenate(
        [
            np.pad(p.start_nll, ((0, 0), (0, width - p.start_nll.shape[1])), constant_values=np.nan)
            for p in parts
        ]
    )
    intervals = None
    if first.intervals is not None:
        intervals = Intervals(
            *(
                np.concatenate([getattr(p.intervals, f) for p in parts])
                for f in ("low", "high", "low_at_edge", "high_at_edge")
            )
        )
    return ModelFit(
        model=first.model,
        pset=first.pset,
        participants=[q for p in parts for q in p.participants],
        conditions=None
        if first.conditions is None
        else [c for p in parts for c in (p.conditions or [])],
        values={k: np.concatenate([p.values[k] for p in parts]) for k in first.values},
        scale=stack("scale"),
        se=stack("se"),
        se_ok=stack("se_ok"),
        nll=stack("nll"),
        n_trials=stack("n_trials"),
        converged=pd.array(
            np.concatenate([np.asarray(p.converged, dtype=object) for p in parts]),
            dtype="boolean",
        ),
        optimizer_converged=stack("optimizer_converged"),
        at_bound=[b for p in parts for b in p.at_bound],
        start_nll=start_nll,
        at_chance=stack("at_chance"),
        intervals=intervals,
        ci_method=first.ci_method,
        ci_level=first.ci_level,
        seconds=float(sum(p.seconds for p in parts)),
        evaluations=int(sum(p.evaluations for p in parts)),
        info=_merge_info([p.info for p in parts]),
    )


def _merge_info(infos: Sequence[Mapping[str, object]]) -> dict:
    """The fit's ``info`` over chunks: counts of participants add up, minima stay minima."""
    out = dict(infos[0])
    short = [i for i in infos if "participants_with_fewer_starts" in i]
    if short:
        out["participants_with_fewer_starts"] = sum(
            int(i["participants_with_fewer_starts"]) for i in short
        )
        out["fewest_starts"] = min(int(i["fewest_starts"]) for i in short)
    return out


def offset_reporter(report: Callable[[str, float], None]) -> Callable[[], Callable]:
    """Progress across chunks: a factory of per-chunk reporters whose counts (restarting at
    zero in every chunk) are added to those of the chunks before."""
    done: dict[str, float] = {}

    def for_chunk() -> Callable[[str, float], None]:
        base = dict(done)

        def chunk_report(stage: str, evaluations: float) -> None:
            done[stage] = base.get(stage, 0.0) + evaluations
            report(stage, done[stage])

        return chunk_report

    return for_chunk
