"""Where numba keeps the compiled kernels, and a word to the user when it compiles them.

Numba's own cache lives in ``__pycache__`` beside each kernel module and checks only that
module's own source: an edit to an imported helper (``common.py``) goes unnoticed, and in an
installed package the cache lands in ``site-packages/catmodel/kernels/__pycache__``, where a
later ``pip install -e .`` leaves it behind and the stale folder shadows the editable package.
So the cache goes to the user's cache folder instead (``platformdirs``; ``CATMODEL_CACHE_DIR``
overrides it), in a subfolder keyed by catmodel's version and a hash of every kernel source
file: any edit, or a new version, compiles afresh into a folder of its own.

This module must not import numba at import time: :func:`configure` sets ``NUMBA_CACHE_DIR``
before numba reads its configuration (and re-reads it when numba was imported earlier).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

#: the variable that moves catmodel's cache folder (numba's kernels go to ``<it>/numba/<key>``)
CACHE_ENV = "CATMODEL_CACHE_DIR"
#: what the first compilation costs, as measured on a 2-core machine (issue 14)
FIRST_COMPILE = "30-120 s"

_KERNELS = Path(__file__).resolve().parent
_announced = False
_listening = False


def kernel_source_hash() -> str:
    """SHA-256 of every kernel source file (names and contents, in name order).

    Part of the numba cache key and of a resumable run's identity: a kernel edit can change
    the numbers, so it must neither reuse compiled code nor resume an older run.
    """
    digest = hashlib.sha256()
    for path in sorted(_KERNELS.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_root() -> Path:
    """catmodel's cache folder: ``$CATMODEL_CACHE_DIR`` or the user's cache folder."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("catmodel", appauthor=False))


def kernel_cache_dir() -> Path:
    """The folder of this version's compiled kernels: ``<cache root>/numba/<version>-<hash>``."""
    from catmodel import __version__

    return cache_root() / "numba" / f"{__version__}-{kernel_source_hash()[:16]}"


def configure() -> Path:
    """Point numba's cache at :func:`kernel_cache_dir` (created when missing) and return it.

    Falls back to a folder under the system's temporary folder when the cache folder cannot
    be created (a read-only home on a cluster node): compiled code is then kept for the
    machine's uptime rather than not at all, and never inside the package.
    """
    folder = kernel_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        user = os.environ.get("USER") or str(os.getuid() if hasattr(os, "getuid") else "user")
        folder = Path(tempfile.gettempdir()) / f"catmodel-{user}" / folder.name
        folder.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:
        # numba was imported first (by the caller): it has read its settings already
        config.reload_config()
    return folder


def install_compile_notice() -> None:
    """Print one line on stderr the first time in a process that numba compiles a kernel of
    catmodel's (a cache miss: the first run after an install, an upgrade or a kernel edit).

    Numba reports a ``numba:compile`` event only when it compiles, not when it loads a kernel
    from the cache, so a warm cache prints nothing.
    """
    global _listening
    if _listening:
        return
    _listening = True
    from numba.core import event

    class _Notice(event.Listener):
        def on_start(self, ev) -> None:
            dispatcher = ev.data.get("dispatcher") if isinstance(ev.data, dict) else None
            module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
            if module.startswith("catmodel.kernels"):
                announce_compile()

        def on_end(self, ev) -> None:
            pass

    event.register("numba:compile", _Notice())


def announce_compile() -> None:
    """The one-line first-compilation message (once per process)."""
    global _announced
    if _announced:
        return
    _announced = True
    print(
        f"catmodel: compiling the numba kernels for their first use ({FIRST_COMPILE}, once "
        f"per install; cached in {os.environ.get('NUMBA_CACHE_DIR', kernel_cache_dir())}; "
        "`catmodel warmup` does it ahead)",
        file=sys.stderr,
        flush=True,
    )
