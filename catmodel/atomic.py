"""Atomic file output: a reader never sees a half-written file, and a failed run leaves none."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from catmodel.interrupt import deferred


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Use it for writers that want a file name (``DataFrame.to_csv``, ``Figure.savefig``).
    The suffix of ``path`` is kept, so libraries that look at it (compression, image
    format) behave as they would for the real name. A Ctrl-C meanwhile is held until the
    file is in place or removed (:func:`catmodel.interrupt.deferred`), so no temporary file
    is left behind.
    """
    with deferred():
        with _atomic_path(path) as tmp:
            yield tmp


@contextlib.contextmanager
def _atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the result the permissions a plain open() would
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; rename it onto ``path`` on success."""
    with atomic_path(path) as tmp, open(tmp, mode) as handle:
        yield handle


def write_csv(frame, path: str | os.PathLike, **kwargs) -> Path:
    """Write a pandas DataFrame as CSV atomically (gzip when the name ends in ``.gz``).

    A gzip file's header holds a time stamp and a file name; here they are zero and the
    target's own name (not the temporary one), so the same table always gives the same bytes
    (a resumed run's files equal an uninterrupted run's).
    """
    target = Path(path)
    with atomic_path(target) as tmp:
        if target.suffix != ".gz":
            frame.to_csv(tmp, index=False, **kwargs)
        else:
            with (
                open(tmp, "wb") as raw,
                gzip.GzipFile(filename=target.name, mode="wb", fileobj=raw, mtime=0) as packed,
                io.TextIOWrapper(packed, encoding="utf-8", newline="") as text,
            ):
                frame.to_csv(text, index=False, **kwargs)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
