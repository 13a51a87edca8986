"""numba's cache: in the user's cache folder keyed by version and kernel sources, never inside
the package, with one line on stderr when the kernels are compiled."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catmodel.kernels import cache

PACKAGE_KERNELS = Path(cache.__file__).resolve().parent


def _run(code: str, cache_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, cache.CACHE_ENV: str(cache_dir)}
    env.pop("NUMBA_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_kernel_hash_follows_every_kernel_source(tmp_path, monkeypatch):
    copy = tmp_path / "kernels"
    shutil.copytree(PACKAGE_KERNELS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_KERNELS", copy)
    before = cache.kernel_source_hash()
    assert before == cache.kernel_source_hash()
    # a helper's edit, which numba's own per-module cache check would miss
    (copy / "common.py").write_text((copy / "common.py").read_text() + "\n# edited\n")
    assert cache.kernel_source_hash() != before


def test_cache_folder_is_keyed_and_overridable(tmp_path, monkeypatch):
    import catmodel

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "c"))
    folder = cache.kernel_cache_dir()
    assert folder.parent == tmp_path / "c" / "numba"
    assert folder.name == f"{catmodel.__version__}-{cache.kernel_source_hash()[:16]}"


def test_default_root_is_the_users_cache_folder(monkeypatch):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    root = cache.cache_root()
    assert root.name == "catmodel"
    assert PACKAGE_KERNELS.parent not in (root, *root.parents)


def test_numba_imported_first_still_caches_in_catmodels_folder(tmp_path):
    code = (
        "import numba, catmodel.kernels, catmodel.kernels.cache as c;"
        "print(numba.config.CACHE_DIR); print(c.kernel_cache_dir())"
    )
    out = _run(code, tmp_path).stdout.split()
    assert out[0] == out[1]
    assert Path(out[0]).is_relative_to(tmp_path)


def test_first_compilation_is_announced_once_and_cached_outside_the_package(tmp_path):
    code = (
        "import numpy as np\n"
        "from catmodel.kernels.choice import choice_nll\n"
        "logits = np.zeros((1, 3, 2)); resp = np.zeros((1, 3), dtype=np.int64)\n"
        "choice_nll(logits, resp, np.zeros(1, dtype=np.int64), np.ones(1), np.full(1, 0.01))\n"
    )
    first = _run(code, tmp_path)
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if "compiling the numba kernels" in line]
    assert len(lines) == 1 and "catmodel warmup" in lines[0]
    assert list(tmp_path.rglob("*.nbi")), "nothing was cached in CATMODEL_CACHE_DIR"
    again = _run(code, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "compiling" not in again.stderr  # loaded from the cache: no word
    assert not list(PACKAGE_KERNELS.rglob("*.nbi"))


@pytest.mark.slow
def test_warmup_compiles_what_a_fit_needs(tmp_path):
    code = "from catmodel.cli.main import main; raise SystemExit(main(['warmup']))"
    first = _run(code, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "kernels ready" in first.stdout
    code_fit = (
        "from catmodel.cli.main import main;"
        f"raise SystemExit(main(['fit', 'data/example.csv.gz', '--models', 'prototype',"
        f" '--ci', 'wald', '--out', r'{tmp_path / 'out'}']))"
    )
    fitted = _run(code_fit, tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert "compiling" not in fitted.stderr
