"""Real category-learning data sets in the standard trial schema, one command each.

>>> from catmodel.data.datasets import dataset_table, get_dataset
>>> dataset_table()                                      # what there is
>>> frame = get_dataset("hu_nosofsky_dots", "mc_2024", source="../shared/datasets")

A data set's name is its folder name under ``../shared/datasets``; ``source`` reads such a
local copy, and without it the original files are downloaded from the original repository at
a pinned commit (pooch, checked by SHA-256, cached).  Converters live in one module per
repository (:mod:`~catmodel.data.datasets.crossley`, ``ashby``, ``dots``, ``sixproblems``),
each rule with the document it follows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from catmodel.data.datasets.catalog import DATASETS, DataSet, Experiment
from catmodel.data.datasets.source import FileSource, download_source, local_source
from catmodel.errors import DataError, SettingsError


def dataset_table() -> pd.DataFrame:
    """One row per data set and experiment: name, experiment, participants, trials, D, K,
    phases, licence, citation (sizes of the converted tables)."""
    rows = []
    for d in DATASETS.values():
        for e in d.experiments:
            rows.append(
                {
                    "name": d.name,
                    "experiment": e.name or "-",
                    "participants": "-" if e.participants is None else f"{e.participants:,}",
                    "trials": "-" if e.trials is None else f"{e.trials:,}",
                    "D": "-" if e.n_features is None else str(e.n_features),
                    "K": e.categories,
                    "phases": e.phases,
                    "licence": d.licence,
                    "citation": e.citation,
                }
            )
    return pd.DataFrame(rows)


def find(name: str, experiment: str | None = None) -> tuple[DataSet, list[Experiment]]:
    """The data set ``name`` and the experiments ``experiment`` selects (all when None).

    Raises
    ------
    SettingsError
        For an unknown name or experiment.
    DataError
        For a data set or experiment without trial-level data (what it holds, one line).
    """
    if name not in DATASETS:
        raise SettingsError(
            f"no data set {name!r}; the data sets are: {', '.join(DATASETS)} "
            "(catmodel datasets list)"
        )
    d = DATASETS[name]
    if d.refusal:
        raise DataError(name, None, None, d.refusal)
    if experiment is None:
        chosen = [e for e in d.experiments if e.convert is not None]
    else:
        names = [e.name for e in d.experiments]
        if not d.several:
            raise SettingsError(f"{name} has one experiment: leave out --experiment")
        if experiment not in names:
            raise SettingsError(
                f"{name} has no experiment {experiment!r}; its experiments are: " + ", ".join(names)
            )
        chosen = [e for e in d.experiments if e.name == experiment]
        if chosen[0].convert is None:
            raise DataError(f"{name}/{experiment}", None, None, chosen[0].refusal)
    return d, chosen


def files_of(d: DataSet, source: str | os.PathLike | None) -> FileSource:
    """A local copy under ``source`` (the layout of ``../shared/datasets``), or downloads."""
    if source is not None:
        return local_source(d.name, source)
    return download_source(d.name, d.repository, d.commit)


def get_dataset(
    name: str, experiment: str | None = None, *, source: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Data set ``name`` (one experiment, or all) as a table in the standard schema.

    Parameters
    ----------
    name
        The data set's folder name (see :func:`dataset_table`).
    experiment
        One experiment of a data set that has several; default all of them, with an
        ``experiment`` column.
    source
        A folder laid out as ``../shared/datasets``; default: download the original files.

    Raises
    ------
    SettingsError, DataError
        Unknown names, data sets without trials, missing or corrupt files (one line each).
    """
    d, chosen = find(name, experiment)
    files = files_of(d, source)
    parts = []
    for e in chosen:
        frame = e.convert(files, e.name)
        if d.several:
            frame["experiment"] = e.name
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def write_dataset(
    name: str,
    out: str | os.PathLike,
    experiment: str | None = None,
    *,
    source: str | os.PathLike | None = None,
) -> tuple[Path, pd.DataFrame]:
    """:func:`get_dataset`, written atomically to ``out`` (gzip when it ends in ``.gz``)."""
    from catmodel.atomic import write_csv

    frame = get_dataset(name, experiment, source=source)
    return write_csv(frame, out), frame


__all__ = ["DATASETS", "dataset_table", "find", "get_dataset", "write_dataset"]
