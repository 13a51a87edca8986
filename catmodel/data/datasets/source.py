"""Where a data set's original files come from: a local copy (``--from DIR``) or the original
repository at a pinned commit, downloaded with pooch and checked against the recorded SHA-256.

The local layout is that of ``../shared/datasets``: ``DIR/<name>/<path in the repository>``,
each file gzipped (``.gz`` added) or not.  Downloads go to the user's cache folder
(``pooch.os_cache("catmodel")``, or ``$CATMODEL_DATA_DIR``) under ``datasets/<name>/``, from
``$CATMODEL_DATASETS_URL`` (default ``https://raw.githubusercontent.com``) followed by
``/<owner>/<repository>/<commit>/<path>`` — the layout of GitHub's raw file server, which a
test imitates on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from catmodel.data.datasets.files import read_registry
from catmodel.errors import DataError

#: Environment variables: the download server's base URL, and the cache folder.
URL_VARIABLE = "CATMODEL_DATASETS_URL"
CACHE_VARIABLE = "CATMODEL_DATA_DIR"
DEFAULT_URL = "https://raw.githubusercontent.com"


class FileSource:
    """Gives the local path of each original file of one data set.

    Parameters
    ----------
    name
        The data set's name (its folder name).
    locate
        ``path in the repository -> local file`` (which may be gzipped).
    where
        What the files come from, for messages.
    """

    def __init__(self, name: str, locate: Callable[[str], Path], where: str) -> None:
        self.name = name
        self.where = where
        self._locate = locate
        self.registry = read_registry(name)

    def paths(self, prefix: str = "") -> list[str]:
        """Original paths under ``prefix`` (in the registry's order)."""
        return [p for p in self.registry if p.startswith(prefix)]

    def local(self, path: str) -> Path:
        """The local file holding the original ``path`` (fetched first when downloading)."""
        return self._locate(path)


def local_source(name: str, folder: str | os.PathLike) -> FileSource:
    """Files read from a local copy: ``folder/name/path`` or ``folder/name/path.gz``."""
    root = Path(folder) / name
    if not root.is_dir():
        raise DataError(
            str(root), None, None, f"no such folder: --from names a folder holding {name}/"
        )

    def locate(path: str) -> Path:
        for candidate in (root / f"{path}.gz", root / path):
            if candidate.is_file():
                return candidate
        raise DataError(
            str(root / path), None, None, "missing from the local copy (also looked for .gz)"
        )

    return FileSource(name, locate, str(root))


def download_source(name: str, repository: str, commit: str) -> FileSource:
    """Files fetched from ``repository`` (``owner/name``) at ``commit`` with pooch, cached.

    A file already in the cache with the recorded checksum is not fetched again; a download
    whose checksum differs stops with one line (pooch deletes it).
    """
    import pooch

    # pooch logs every download and retry; catmodel reports the outcome in one line
    pooch.get_logger().setLevel(logging.ERROR)
    base = os.environ.get(URL_VARIABLE, DEFAULT_URL).rstrip("/")
    cache = Path(os.environ.get(CACHE_VARIABLE) or pooch.os_cache("catmodel")) / "datasets" / name
    registry = read_registry(name)
    fetcher = pooch.create(
        path=cache,
        base_url=f"{base}/{repository}/{commit}/",
        registry={path: f"sha256:{digest}" for path, digest in registry.items()},
        retry_if_failed=2,
    )

    def locate(path: str) -> Path:
        url = fetcher.get_url(path)
        try:
            return Path(fetcher.fetch(path))
        except ValueError as exc:  # pooch: the checksum does not match
            message = f"download failed its checksum: {_first(exc)}"
            raise DataError(url, None, None, message) from exc
        except Exception as exc:  # network or HTTP errors from requests
            raise DataError(url, None, None, f"download failed: {_first(exc)}") from exc

    return FileSource(name, locate, f"{base}/{repository}@{commit[:7]} (cache {cache})")


def _first(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."
