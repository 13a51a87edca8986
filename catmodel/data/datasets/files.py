"""The original files of each data set: their paths in the original repository and checksums.

``files/<name>.txt`` lists, one line each, a file's path in its original repository and the
SHA-256 of its bytes (``path sha256``).  The shared copies under ``../shared/datasets`` are the
same files gzipped, so :func:`registry_lines` computes the checksums from them (the test
``tests/data/test_datasets_files.py`` checks the lists against the copies when present).
"""

from __future__ import annotations

import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

#: Files of the local copy that are notes about it, not files of the original repository.
NOT_ORIGINAL = ("SOURCE.txt", "SCHEMA.md", "README.md")


def read_registry(name: str) -> dict[str, str]:
    """``{path in the original repository: sha256}`` for data set ``name`` (in file order)."""
    text = resources.files("catmodel.data.datasets").joinpath("files", f"{name}.txt").read_text()
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            path, digest = line.split()
            out[path] = digest
    return out


def original_bytes(path: str | os.PathLike) -> bytes:
    """A file's original bytes: gunzipped when the copy is gzipped (the shared layout)."""
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def registry_lines(folder: str | os.PathLike) -> list[str]:
    """``path sha256`` lines of every original file in a local copy ``folder``.

    Paths drop the ``.gz`` the shared copies add; the copy's own notes (``SOURCE.txt``,
    ``SCHEMA.md``) are not original files and are left out.
    """
    folder = Path(folder)
    lines = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.as_posix()):
        if not path.is_file() or path.relative_to(folder).as_posix() in NOT_ORIGINAL:
            continue
        rel = path.relative_to(folder).as_posix()
        original = rel[: -len(".gz")] if rel.endswith(".gz") else rel
        lines.append(f"{original} {hashlib.sha256(original_bytes(path)).hexdigest()}")
    return lines


if __name__ == "__main__":  # python -m catmodel.data.datasets.files SHARED_DIR NAME...
    import sys

    shared, *names = sys.argv[1:]
    for name in names:
        target = Path(__file__).parent / "files" / f"{name}.txt"
        target.write_text("\n".join(registry_lines(Path(shared) / name)) + "\n")
        print(target)
