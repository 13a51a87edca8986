"""Reading one original file (gzipped or not) into a data frame."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from catmodel.data.datasets.files import original_bytes
from catmodel.errors import DataError


def read_table(path: Path, n_columns: int | None, shown: str) -> pd.DataFrame:
    """A headerless whitespace-separated numeric file; columns numbered from 1.

    ``n_columns``, when given, is checked.

    ``shown`` is the file's name in messages (its path in the original repository).
    """
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None)
    except Exception as exc:  # unreadable or empty file
        raise DataError(shown, None, None, f"cannot read: {exc}") from exc
    if n_columns is not None and frame.shape[1] != n_columns:
        raise DataError(shown, 1, None, f"expected {n_columns} columns, found {frame.shape[1]}")
    frame.columns = range(1, frame.shape[1] + 1)
    return frame


def read_csv(path: Path, shown: str) -> pd.DataFrame:
    """A comma-separated file with a header."""
    try:
        return pd.read_csv(path)
    except Exception as exc:
        raise DataError(shown, None, None, f"cannot read: {exc}") from exc


def read_rdata(path: Path, shown: str) -> pd.DataFrame:
    """The one data frame an R data file holds (pyreadr reads only uncompressed paths)."""
    try:
        import pyreadr
    except ImportError as exc:
        raise DataError(
            shown, None, None, "reading R data files needs pyreadr: pip install pyreadr"
        ) from exc
    fd, tmp = tempfile.mkstemp(suffix=".rda")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(original_bytes(path))
        frames = pyreadr.read_r(tmp)
    finally:
        os.unlink(tmp)
    return next(iter(frames.values()))
